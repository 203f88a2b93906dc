package fetch

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aetherengine/aether/pkg/artifact"
	"github.com/google/go-containerregistry/pkg/name"
)

// FuzzParseReference: any string is parsed without panicking; an accepted
// reference is a digest unless tags are allowed, round-trips through its
// String form, and is sent over plain HTTP only to loopback hosts or when
// asked.
func FuzzParseReference(f *testing.F) {
	d := "sha256:" + strings.Repeat("a1", 32)
	for _, s := range []string{
		"ghcr.io/acme/app@" + d, "127.0.0.1:5000/app@" + d, "localhost:5000/a/b:v1", "[::1]:5000/x@" + d,
		"app:latest", "app", "registry.example:443/team/app:v1@" + d, "UPPER/case@" + d,
		"app@sha512:" + strings.Repeat("0", 128), "app@sha256:zz", "", " ", "a/../b@" + d,
	} {
		f.Add(s, false, false)
		f.Add(s, true, false)
		f.Add(s, true, true)
	}
	f.Fuzz(func(t *testing.T, s string, allowTag, plainHTTP bool) {
		ref, err := ParseReference(s, allowTag, plainHTTP)
		if err != nil {
			if ref != nil {
				t.Fatalf("error %v with a reference", err)
			}
			return
		}
		if _, isDigest := ref.(name.Digest); !isDigest && !allowTag {
			t.Fatalf("%q accepted as %T without allowTag", s, ref)
		}
		again, err := ParseReference(ref.String(), allowTag, plainHTTP)
		if err != nil {
			t.Fatalf("%q parsed to %q, which does not parse: %v", s, ref.String(), err)
		}
		if again.String() != ref.String() {
			t.Fatalf("%q round-trips to %q", ref.String(), again.String())
		}
		reg := ref.Context().Registry
		if reg.Scheme() == "http" && !plainHTTP && !isLoopback(reg.RegistryStr()) && !privateOrLocal(reg) {
			t.Fatalf("%q would use plain HTTP", s)
		}
	})
}

// privateOrLocal: go-containerregistry itself picks plain HTTP for
// RFC 1918 addresses and *.local hosts, with or without our options.
func privateOrLocal(r name.Registry) bool {
	plain, _ := name.NewRegistry(r.RegistryStr(), name.WeakValidation)
	return plain.Scheme() == "http"
}

// FuzzParseManifest: any bytes are parsed without panicking, and a
// manifest that passes always names our types, a bounded config and
// 1..maxLayers gzip layers with sha256 digests; its config decoder holds
// the same promises for any config bytes.
func FuzzParseManifest(f *testing.F) {
	layers := appLayers()
	cfg := configFor(layers)
	a := assemble(f, cfg, layers, nil)
	f.Add(a.Manifest, artifact.ManifestMediaType, a.Config)
	f.Add([]byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}`), "", []byte(`{}`))
	f.Add([]byte(`{"schemaVersion":2}`), artifact.ManifestMediaType, []byte(`{"schemaVersion":1,"layers":[]}`))
	f.Add([]byte(`{"schemaVersion":2,"config":{"mediaType":"`+artifact.ConfigMediaType+`","size":-1,"digest":"sha256:00"}}`), artifact.ManifestMediaType, []byte(`null`))
	f.Add([]byte(`{}{}`), "", []byte(`[]`))
	f.Fuzz(func(t *testing.T, manifest []byte, contentType string, config []byte) {
		m, err := parseManifest(manifest, contentType, DefaultMaxConfigBytes)
		if err != nil {
			return
		}
		if m.Config.MediaType != artifact.ConfigMediaType || (m.ArtifactType != "" && m.ArtifactType != artifact.ArtifactType) {
			t.Fatalf("accepted foreign types: %+v", m)
		}
		if m.Config.Size <= 0 || m.Config.Size > DefaultMaxConfigBytes || len(m.Layers) == 0 || len(m.Layers) > maxLayers {
			t.Fatalf("accepted unbounded manifest: %+v", m)
		}
		for _, l := range m.Layers {
			if l.MediaType != artifact.LayerMediaType || l.Digest.Algorithm != "sha256" || l.Size <= 0 {
				t.Fatalf("accepted layer %+v", l)
			}
		}
		c, err := decodeConfig(config, m, 1000)
		if err != nil {
			return
		}
		if len(c.Layers) != len(m.Layers) {
			t.Fatalf("config with %d layers accepted for %d", len(c.Layers), len(m.Layers))
		}
		n := 0
		for _, l := range c.Layers {
			n += len(l.Files)
			for _, fe := range l.Files {
				if strings.HasPrefix(fe.Path, "/") || fe.Path == ".." || strings.HasPrefix(fe.Path, "../") {
					t.Fatalf("accepted path %q", fe.Path)
				}
			}
		}
		if n > 1000 {
			t.Fatalf("accepted %d files over the bound", n)
		}
		if _, err := json.Marshal(c); err != nil {
			t.Fatal(err)
		}
	})
}
