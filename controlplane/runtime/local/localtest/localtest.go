// Package localtest pushes small Aether artifacts for tests of the local
// runtime and of whatever drives it (the control plane, aether up): an
// OCI manifest with the artifact media types, a config that lists every
// file, and the two layers, as `aether build` would make them.
package localtest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"testing"

	"github.com/aetherengine/aether/pkg/artifact"
	xt "github.com/aetherengine/aether/pkg/extract/extracttest"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// NodeServer is a Node.js app that answers every request with
// $GREETING (default "hello") and exits on SIGTERM.
const NodeServer = `const http = require('node:http');
const body = process.env.GREETING || 'hello';
http.createServer((q, s) => s.end(body)).listen(Number(process.env.PORT), '127.0.0.1', () => console.log('listening on', process.env.PORT));
process.on('SIGTERM', () => process.exit(0));
`

// Push pushes an artifact to host/repo:tag whose start command is
// command, whose artifact port is port and whose app layer holds files
// (plus a package.json), and returns HOST/REPO@DIGEST. Different files
// give different digests.
func Push(t testing.TB, host, repo, tag string, port int, command []string, files ...xt.Entry) string {
	t.Helper()
	deps := xt.BuildLayer(xt.Dir("node_modules/"), xt.File("node_modules/.package-lock.json", "{}"))
	app := xt.BuildLayer(append([]xt.Entry{xt.File("package.json", `{"name":"`+repo+`","version":"1.0.0"}`)}, files...)...)
	layers := []struct {
		role string
		l    xt.Layer
	}{{artifact.RoleDependencies, deps}, {artifact.RoleApp, app}}
	cfg := artifact.Config{
		SchemaVersion: artifact.ConfigSchemaVersion,
		Runtime:       artifact.Runtime{Name: "nodejs", Version: "20.20.2", Platform: "linux/amd64"},
		App:           artifact.App{Name: repo, Version: "1.0.0", Command: command, Port: port},
		Build:         artifact.Build{Tool: "aether/test", Created: "1970-01-01T00:00:00Z"},
	}
	for _, l := range layers {
		cfg.Layers = append(cfg.Layers, artifact.LayerInfo{Role: l.role, DiffID: l.l.DiffID, Size: l.l.Size, Files: l.l.Files})
	}
	cb, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	m := v1.Manifest{SchemaVersion: 2, MediaType: types.OCIManifestSchema1, ArtifactType: artifact.ArtifactType,
		Config: v1.Descriptor{MediaType: artifact.ConfigMediaType, Size: int64(len(cb)), Digest: sha(cb)}}
	ref, err := name.NewTag(host+"/"+repo+":"+tag, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.WriteLayer(ref.Context(), static.NewLayer(cb, types.OCILayer)); err != nil {
		t.Fatal(err)
	}
	for _, l := range layers {
		m.Layers = append(m.Layers, v1.Descriptor{MediaType: artifact.LayerMediaType, Size: int64(len(l.l.Gz)), Digest: sha(l.l.Gz),
			Annotations: map[string]string{artifact.AnnotationLayerRole: l.role}})
		if err := remote.WriteLayer(ref.Context(), static.NewLayer(l.l.Gz, types.OCILayer)); err != nil {
			t.Fatal(err)
		}
	}
	mb, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Put(ref, rawManifest{mb}); err != nil {
		t.Fatal(err)
	}
	return ref.Context().Digest(sha(mb).String()).String()
}

type rawManifest struct{ b []byte }

func (r rawManifest) RawManifest() ([]byte, error)        { return r.b, nil }
func (r rawManifest) MediaType() (types.MediaType, error) { return types.OCIManifestSchema1, nil }

func sha(b []byte) v1.Hash {
	s := sha256.Sum256(b)
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(s[:])}
}
