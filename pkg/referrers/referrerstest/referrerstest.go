// Package referrerstest pushes small Aether artifacts to a test registry, so
// that tests of referrers, signing and admission have a real subject to
// attach to.
package referrerstest

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/registry/remote"

	"github.com/aetherengine/aether/internal/regtest"
	"github.com/aetherengine/aether/pkg/artifact"
)

// Repo returns a plain-HTTP oras-go repository for name on r.
func Repo(t testing.TB, r *regtest.Registry, name string) *remote.Repository {
	t.Helper()
	repo, err := remote.NewRepository(r.Ref(name))
	if err != nil {
		t.Fatal(err)
	}
	repo.PlainHTTP = true
	return repo
}

// PushArtifact pushes a minimal artifact of our media types (a config and
// one app layer whose content depends on seed) tagged tag, and returns the
// manifest's descriptor. Different seeds give different digests.
func PushArtifact(t testing.TB, repo oras.Target, seed, tag string) ocispec.Descriptor {
	t.Helper()
	ctx := context.Background()
	cfg, err := json.Marshal(artifact.Config{
		SchemaVersion: artifact.ConfigSchemaVersion,
		Runtime:       artifact.Runtime{Name: "nodejs", Version: "20.20.2", Platform: "linux/amd64"},
		App:           artifact.App{Name: "test-" + seed, Command: []string{"node", "server.js"}, Port: 8080},
	})
	if err != nil {
		t.Fatal(err)
	}
	layer := []byte("not really a tar: " + seed)
	cfgDesc := push(t, repo, artifact.ConfigMediaType, cfg)
	layerDesc := push(t, repo, artifact.LayerMediaType, layer)
	layerDesc.Annotations = map[string]string{artifact.AnnotationLayerRole: artifact.RoleApp}
	desc, err := oras.PackManifest(ctx, repo, oras.PackManifestVersion1_1, artifact.ArtifactType, oras.PackManifestOptions{
		ConfigDescriptor:    &cfgDesc,
		Layers:              []ocispec.Descriptor{layerDesc},
		ManifestAnnotations: map[string]string{ocispec.AnnotationCreated: "2024-01-01T00:00:00Z"},
	})
	if err != nil {
		t.Fatalf("push artifact: %v", err)
	}
	if tag != "" {
		if err := repo.Tag(ctx, desc, tag); err != nil {
			t.Fatalf("tag %s: %v", tag, err)
		}
	}
	return desc
}

func push(t testing.TB, repo oras.Target, mediaType string, data []byte) ocispec.Descriptor {
	t.Helper()
	desc := content.NewDescriptorFromBytes(mediaType, data)
	if err := repo.Push(context.Background(), desc, bytes.NewReader(data)); err != nil {
		t.Fatalf("push %s: %v", mediaType, err)
	}
	return desc
}
