package fetch

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/aetherengine/aether/pkg/artifact"
	xt "github.com/aetherengine/aether/pkg/extract/extracttest"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// testArtifact is an artifact assembled in the test: an OCI manifest with
// our media types, its config and its layer blobs.
type testArtifact struct {
	Manifest []byte
	Config   []byte
	Layers   [][]byte
	Digest   v1.Hash
}

// layerSpec is one layer: its role and its built content.
type layerSpec struct {
	role  string
	layer xt.Layer
}

// appLayers is a small Node.js app: dependencies with .bin symlinks and
// the app's own files (plus extra app entries, if any).
func appLayers(extra ...xt.Entry) []layerSpec {
	deps := xt.BuildLayer(
		xt.Dir("node_modules/"),
		xt.Dir("node_modules/.bin/"),
		xt.Symlink("node_modules/.bin/hello-cli", "../hello-lib/bin/cli.js"),
		xt.Dir("node_modules/hello-lib/"),
		xt.File("node_modules/hello-lib/package.json", `{"name":"hello-lib","version":"1.0.0","bin":{"hello-cli":"bin/cli.js"}}`),
		xt.File("node_modules/hello-lib/index.js", "module.exports = (n) => `hello ${n}`\n"),
		xt.Dir("node_modules/hello-lib/bin/"),
		xt.Entry{Name: "node_modules/hello-lib/bin/cli.js", Body: []byte("#!/usr/bin/env node\nconsole.log(require('..')('cli'))\n"), Mode: 0o755},
	)
	app := xt.BuildLayer(append(extra,
		xt.File("package.json", `{"name":"hello","version":"1.0.0","main":"server.js"}`),
		xt.File("server.js", "const hello = require('hello-lib')\nrequire('http').createServer((q, s) => s.end(hello('world'))).listen(process.env.PORT)\n"),
	)...)
	return []layerSpec{{artifact.RoleDependencies, deps}, {artifact.RoleApp, app}}
}

// configFor writes the artifact config describing the layers.
func configFor(layers []layerSpec) artifact.Config {
	c := artifact.Config{
		SchemaVersion: artifact.ConfigSchemaVersion,
		Runtime:       artifact.Runtime{Name: "nodejs", Version: "20.20.2", Platform: "linux/amd64"},
		App:           artifact.App{Name: "hello", Version: "1.0.0", Command: []string{"node", "server.js"}, Port: 8080},
		Build:         artifact.Build{Tool: "aether/test", Created: "1970-01-01T00:00:00Z"},
	}
	for _, l := range layers {
		c.Layers = append(c.Layers, artifact.LayerInfo{Role: l.role, DiffID: l.layer.DiffID, Size: l.layer.Size, Files: l.layer.Files})
	}
	return c
}

// assemble builds the manifest. mutate may change it before encoding (to
// make a wrong artifact).
func assemble(t testing.TB, cfg artifact.Config, layers []layerSpec, mutate func(*v1.Manifest)) testArtifact {
	t.Helper()
	cb, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	a := testArtifact{Config: cb}
	m := v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.OCIManifestSchema1,
		ArtifactType:  artifact.ArtifactType,
		Config:        v1.Descriptor{MediaType: artifact.ConfigMediaType, Size: int64(len(cb)), Digest: sha(cb)},
		Annotations:   map[string]string{artifact.AnnotationAppName: "hello"},
	}
	for _, l := range layers {
		title := artifact.TitleApp
		if l.role == artifact.RoleDependencies {
			title = artifact.TitleDependencies
		}
		m.Layers = append(m.Layers, v1.Descriptor{
			MediaType: artifact.LayerMediaType, Size: int64(len(l.layer.Gz)), Digest: sha(l.layer.Gz),
			Annotations: map[string]string{artifact.AnnotationLayerRole: l.role, "org.opencontainers.image.title": title},
		})
		a.Layers = append(a.Layers, l.layer.Gz)
	}
	if mutate != nil {
		mutate(&m)
	}
	mb, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	a.Manifest = mb
	a.Digest = sha(mb)
	return a
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func sha(b []byte) v1.Hash {
	s := sha256.Sum256(b)
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(s[:])}
}

// rawManifest lets remote.Put upload manifest bytes as they are.
type rawManifest struct {
	b  []byte
	mt types.MediaType
}

func (r rawManifest) RawManifest() ([]byte, error)        { return r.b, nil }
func (r rawManifest) MediaType() (types.MediaType, error) { return r.mt, nil }

// push uploads the artifact's blobs and manifest to host/repo:tag with
// go-containerregistry and returns REPO@DIGEST.
func push(t testing.TB, host, repo, tag string, a testArtifact, opts ...remote.Option) string {
	t.Helper()
	ref, err := name.NewTag(host+"/"+repo+":"+tag, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	blobs := append([][]byte{a.Config}, a.Layers...)
	for _, b := range blobs {
		if err := remote.WriteLayer(ref.Context(), static.NewLayer(b, types.OCILayer), opts...); err != nil {
			t.Fatalf("push blob: %v", err)
		}
	}
	if err := remote.Put(ref, rawManifest{a.Manifest, types.OCIManifestSchema1}, opts...); err != nil {
		t.Fatalf("push manifest: %v", err)
	}
	return ref.Context().Digest(a.Digest.String()).String()
}

// proxy puts a reverse proxy in front of a registry host. wrap may
// replace the handler (to add auth) and modify may change responses (to
// corrupt a blob).
func proxy(t testing.TB, host string, wrap func(http.Handler) http.Handler, modify func(*http.Response) error) string {
	t.Helper()
	target, _ := url.Parse("http://" + host)
	p := httputil.NewSingleHostReverseProxy(target)
	p.ModifyResponse = modify
	var h http.Handler = p
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// flipByte corrupts one byte at offset (negative: from the end) of the
// GET response for the blob with the given digest.
func flipByte(digest string, offset int) func(*http.Response) error {
	return func(resp *http.Response) error {
		if resp.Request.Method != http.MethodGet || !strings.HasSuffix(resp.Request.URL.Path, "/blobs/"+digest) || resp.StatusCode != http.StatusOK {
			return nil
		}
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			return err
		}
		resp.Body.Close()
		i := offset
		if i < 0 {
			i += len(b)
		}
		b[i] ^= 0x40
		resp.Body = io.NopCloser(bytes.NewReader(b))
		return nil
	}
}

// basicAuth refuses requests without user:pass, like a private registry.
func basicAuth(user, pass string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			u, p, ok := r.BasicAuth()
			if !ok || u != user || p != pass {
				w.Header().Set("WWW-Authenticate", `Basic realm="aether-test"`)
				http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`, http.StatusUnauthorized)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// basicKeychain is a keychain with one set of credentials, for pushing.
func basicKeychain(user, pass string) remote.Option {
	return remote.WithAuth(&authn.Basic{Username: user, Password: pass})
}

// treeOf lists a directory: path -> "file <sha256> <perm>", "link <target>"
// or "dir <perm>", to compare two extractions.
func treeOf(t testing.TB, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if rel == "." {
			return nil
		}
		switch {
		case fi.Mode()&os.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			out[rel] = "link " + target
		case fi.IsDir():
			out[rel] = "dir " + fi.Mode().Perm().String()
		default:
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			out[rel] = "file " + sha(b).Hex + " " + fi.Mode().Perm().String()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func diffTrees(a, b map[string]string) []string {
	var d []string
	for k, v := range a {
		if b[k] != v {
			d = append(d, k+": "+v+" vs "+b[k])
		}
	}
	for k, v := range b {
		if _, ok := a[k]; !ok {
			d = append(d, k+": (absent) vs "+v)
		}
	}
	sort.Strings(d)
	return d
}
