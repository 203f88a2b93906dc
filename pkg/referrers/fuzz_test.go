package referrers_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/aetherengine/aether/pkg/referrers"
)

// FuzzParseManifest feeds registry answers (referrer manifests and
// referrers indexes) to the decoders: they must never panic, and what they
// accept must be well-formed and within bounds.
func FuzzParseManifest(f *testing.F) {
	seeds := []string{
		`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":"application/vnd.dev.sigstore.bundle.v0.3+json","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2}],"subject":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2}}`,
		`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2,"artifactType":"x/y"}]}`,
		`{"schemaVersion":2,"config":{"mediaType":"a/b","digest":"sha256:00","size":-1}}`,
		`{"schemaVersion":1}`,
		`[]`,
		``,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if m, err := referrers.ParseManifest(data); err == nil {
			if m.SchemaVersion != 2 || len(m.Layers) > referrers.MaxLayers || m.Config.Digest.Validate() != nil || m.Config.Size < 0 {
				t.Fatalf("accepted a malformed manifest: %+v", m)
			}
			if _, err := json.Marshal(m); err != nil {
				t.Fatalf("accepted manifest does not re-encode: %v", err)
			}
		} else if !errors.Is(err, referrers.ErrInvalidManifest) {
			t.Fatalf("error %v is not ErrInvalidManifest", err)
		}
		if idx, err := referrers.ParseIndex(data, 8); err == nil {
			if len(idx.Manifests) > 8 {
				t.Fatalf("accepted %d manifests with a bound of 8", len(idx.Manifests))
			}
			for _, d := range idx.Manifests {
				if d.Digest.Validate() != nil || d.Size < 0 {
					t.Fatalf("accepted a malformed descriptor: %+v", d)
				}
			}
		}
	})
}
