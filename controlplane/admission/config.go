package admission

import (
	"context"
	"encoding/json"
	"fmt"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/aetherengine/aether/pkg/artifact"
	"github.com/aetherengine/aether/pkg/referrers"
	"github.com/aetherengine/aether/pkg/registry"
)

// MaxConfigBytes bounds an artifact config read from a registry: it lists
// every file of both layers (about 100 bytes each).
const MaxConfigBytes = 32 << 20

// ArtifactConfig reads the config of a verified artifact, pinned by digest
// (REPOSITORY@sha256:…), through the same guarded, allow-listed client as
// admission: what a runtime needs to run it (start command, port, Node
// version, platform).
func (a *RegistryAdmitter) ArtifactConfig(ctx context.Context, pinned string) (*artifact.Config, error) {
	ref, err := registry.ParseReference(pinned)
	if err != nil {
		return nil, err
	}
	d, err := ref.Digest()
	if err != nil {
		return nil, fmt.Errorf("%s is not pinned by digest", pinned)
	}
	allowed, plainHTTP := a.opts.Allow.Allows(ref.Registry)
	if !allowed {
		return nil, fmt.Errorf("registry %s is not on this server's allow-list", ref.Registry)
	}
	repo, err := a.repository(ref.Registry+"/"+ref.Repository, plainHTTP || registry.IsLoopback(ref.Registry))
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, a.opts.Timeout)
	defer cancel()
	desc, err := repo.Resolve(ctx, d.String())
	if err != nil {
		return nil, registry.Explain(err, ref.Registry)
	}
	if desc.Digest != digest.Digest(d) || desc.MediaType != ocispec.MediaTypeImageManifest {
		return nil, fmt.Errorf("%s: the registry answered %s (%s)", pinned, desc.Digest, desc.MediaType)
	}
	m, _, err := referrers.FetchManifest(ctx, repo, desc, a.opts.MaxManifestBytes)
	if err != nil {
		return nil, registry.Explain(err, ref.Registry)
	}
	if m.Config.MediaType != artifact.ConfigMediaType {
		return nil, fmt.Errorf("%s has config %s, not an aether config", pinned, m.Config.MediaType)
	}
	b, err := referrers.FetchBlob(ctx, repo, m.Config, MaxConfigBytes)
	if err != nil {
		return nil, registry.Explain(err, ref.Registry)
	}
	var c artifact.Config
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("%s: config: %w", pinned, err)
	}
	return &c, nil
}
