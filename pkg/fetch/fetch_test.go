package fetch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aetherengine/aether/internal/regtest"
	"github.com/aetherengine/aether/pkg/artifact"
	"github.com/aetherengine/aether/pkg/extract"
	xt "github.com/aetherengine/aether/pkg/extract/extracttest"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// fastRetry keeps tests that hit failing registries quick.
var fastRetry = remote.Backoff{Duration: 10 * time.Millisecond, Factor: 1, Steps: 2}

func newDest(t *testing.T) string { return filepath.Join(t.TempDir(), "app") }

// assertAbsent checks that a failed fetch left nothing at DEST and no
// temporary directory next to it.
func assertAbsent(t *testing.T, dest string) {
	t.Helper()
	entries, err := os.ReadDir(filepath.Dir(dest))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Fatalf("a failed fetch left %q next to DEST", names)
	}
}

func wantClass(t *testing.T, err error, c Class) {
	t.Helper()
	t.Logf("error: %v", err)
	if err == nil {
		t.Fatalf("fetch succeeded, want a %s error", c)
	}
	if got := ClassOf(err); got != c {
		t.Fatalf("class = %s, want %s; error: %v", got, c, err)
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("error is not one line: %q", err)
	}
}

// TestFetchByDigest pushes a two-layer app and fetches it by digest from
// both registries; every file is verified against the config.
func TestFetchByDigest(t *testing.T) {
	layers := appLayers()
	a := assemble(t, configFor(layers), layers, nil)
	for _, reg := range regtest.All(t) {
		t.Run(reg.Kind, func(t *testing.T) {
			ref := push(t, reg.Host, "apps/hello", "v1", a)
			dest := newDest(t)
			res, err := Fetch(context.Background(), ref, dest, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if res.Digest != a.Digest.String() || res.Reference != ref || res.ResolvedFrom != "" {
				t.Errorf("result names %s / %s (from %q), want %s", res.Reference, res.Digest, res.ResolvedFrom, ref)
			}
			if !res.FilesVerified || res.Layers != 2 || res.Files != 5 || res.Symlinks != 1 {
				t.Errorf("result = %+v, want 2 layers, 5 files, 1 symlink, verified", res)
			}
			if res.App.Port != 8080 || res.Runtime.Version != "20.20.2" {
				t.Errorf("result app/runtime = %+v %+v", res.App, res.Runtime)
			}
			if want := int64(len(a.Layers[0]) + len(a.Layers[1])); res.CompressedBytes != want {
				t.Errorf("compressed bytes = %d, want %d", res.CompressedBytes, want)
			}
			got, err := os.ReadFile(filepath.Join(dest, "node_modules/.bin/hello-cli"))
			if err != nil || !strings.HasPrefix(string(got), "#!/usr/bin/env node") {
				t.Errorf("node_modules/.bin/hello-cli = %q, %v", got, err)
			}
			if fi, err := os.Stat(filepath.Join(dest, "node_modules/hello-lib/bin/cli.js")); err != nil || fi.Mode().Perm() != 0o755 {
				t.Errorf("cli.js mode: %v, %v", fi, err)
			}
		})
	}
}

// TestTag checks that a tag is refused without AllowTag, before any
// network access, and resolved once (and logged with its digest) with it.
func TestTag(t *testing.T) {
	layers := appLayers()
	a := assemble(t, configFor(layers), layers, nil)
	for _, reg := range regtest.All(t) {
		t.Run(reg.Kind, func(t *testing.T) {
			push(t, reg.Host, "apps/hello", "v1", a)
			tagRef := reg.Host + "/apps/hello:v1"
			dest := newDest(t)
			reg.ResetRequests()
			_, err := Fetch(context.Background(), tagRef, dest, Options{})
			wantClass(t, err, ClassUsage)
			if !errors.Is(err, ErrTagNotAllowed) {
				t.Errorf("err = %v, want ErrTagNotAllowed", err)
			}
			if n := len(reg.Requests()); n != 0 {
				t.Errorf("a refused tag still sent %d requests", n)
			}
			assertAbsent(t, dest)

			var logs bytes.Buffer
			res, err := Fetch(context.Background(), tagRef, dest, Options{AllowTag: true, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			if err != nil {
				t.Fatal(err)
			}
			if res.ResolvedFrom != tagRef || res.Digest != a.Digest.String() {
				t.Errorf("resolved %q to %s, want %s", res.ResolvedFrom, res.Digest, a.Digest)
			}
			if !strings.Contains(logs.String(), "resolved tag") || !strings.Contains(logs.String(), a.Digest.String()) {
				t.Errorf("log does not record the resolved digest:\n%s", logs.String())
			}
			manifestGets := 0
			for _, q := range reg.Requests() {
				if q.Method == "GET" && strings.Contains(q.Path, "/manifests/") {
					manifestGets++
				}
			}
			if manifestGets != 1 {
				t.Errorf("the tag was resolved with %d manifest GETs, want 1", manifestGets)
			}
		})
	}
}

// TestCorruptedBlob serves the artifact through a proxy that flips one
// byte of a blob. The fetch must fail as a verification failure that
// names the blob, and leave DEST untouched.
func TestCorruptedBlob(t *testing.T) {
	// A large file, so that a flip in the middle of the app layer lands
	// in compressed file content rather than in a header.
	layers := appLayers(xt.File("data.bin", strings.Repeat("0123456789abcdef", 8192)))
	a := assemble(t, configFor(layers), layers, nil)
	cases := []struct {
		name   string
		blob   []byte
		offset int
	}{
		{"layer-middle", a.Layers[1], len(a.Layers[1]) / 2},
		{"layer-gzip-header", a.Layers[0], 3},
		{"layer-last-byte", a.Layers[0], -1},
		{"config", a.Config, 10},
	}
	for _, reg := range regtest.All(t) {
		ref := push(t, reg.Host, "apps/corrupt", "v1", a)
		for _, tc := range cases {
			t.Run(reg.Kind+"/"+tc.name, func(t *testing.T) {
				d := sha(tc.blob).String()
				host := proxy(t, reg.Host, nil, flipByte(d, tc.offset))
				dest := newDest(t)
				_, err := Fetch(context.Background(), strings.Replace(ref, reg.Host, host, 1), dest, Options{Retry: fastRetry})
				wantClass(t, err, ClassVerify)
				if !strings.Contains(err.Error(), d) || !strings.Contains(err.Error(), "does not match its digest") {
					t.Errorf("error does not name the corrupted blob %s: %v", d, err)
				}
				assertAbsent(t, dest)
			})
		}
	}
}

// TestNotAnAetherArtifact pushes manifests that are valid OCI but not ours.
func TestNotAnAetherArtifact(t *testing.T) {
	layers := appLayers()
	cfg := configFor(layers)
	cases := []struct {
		name   string
		mutate func(*v1.Manifest)
		want   string
	}{
		{"other-artifact-type", func(m *v1.Manifest) { m.ArtifactType = "application/vnd.example.thing.v1" }, "artifactType"},
		{"container-image-config", func(m *v1.Manifest) {
			m.ArtifactType = ""
			m.Config.MediaType = "application/vnd.oci.image.config.v1+json"
		}, "config media type"},
		{"zstd-layer", func(m *v1.Manifest) { m.Layers[0].MediaType = "application/vnd.oci.image.layer.v1.tar+zstd" }, "media type"},
	}
	for _, reg := range regtest.All(t) {
		for _, tc := range cases {
			t.Run(reg.Kind+"/"+tc.name, func(t *testing.T) {
				a := assemble(t, cfg, layers, tc.mutate)
				ref := push(t, reg.Host, "apps/other", "v1", a)
				dest := newDest(t)
				_, err := Fetch(context.Background(), ref, dest, Options{})
				wantClass(t, err, ClassVerify)
				if !errors.Is(err, errNotAether) || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("err = %v, want a not-an-Aether-artifact error about %s", err, tc.want)
				}
				assertAbsent(t, dest)
			})
		}
	}
}

// TestConfigMismatch pushes artifacts whose config lies about a layer:
// refused with VerifyFiles, accepted without it (the digests still hold).
func TestConfigMismatch(t *testing.T) {
	layers := appLayers()
	cases := []struct {
		name   string
		mutate func(*artifact.Config)
		want   string
	}{
		{"wrong-digest", func(c *artifact.Config) { c.Layers[1].Files[1].SHA256 = strings.Repeat("0", 64) }, "SHA-256"},
		{"unlisted-file", func(c *artifact.Config) { c.Layers[1].Files = c.Layers[1].Files[:1] }, "does not list"},
		{"missing-file", func(c *artifact.Config) {
			c.Layers[1].Files = append(c.Layers[1].Files, artifact.FileEntry{Path: "ghost.js", Mode: 0o644, Size: 1, SHA256: strings.Repeat("a", 64)})
		}, "missing from the layer"},
		{"wrong-mode", func(c *artifact.Config) { c.Layers[1].Files[1].Mode = 0o755 }, "mode"},
		{"wrong-symlink", func(c *artifact.Config) { c.Layers[0].Files[0].Link = "../elsewhere" }, "symlink target"},
	}
	reg := regtest.InProcess(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := configFor(layers)
			for i := range cfg.Layers { // deep copy before mutating
				cfg.Layers[i].Files = append([]artifact.FileEntry(nil), cfg.Layers[i].Files...)
			}
			tc.mutate(&cfg)
			ref := push(t, reg.Host, "apps/lying", tc.name, assemble(t, cfg, layers, nil))
			dest := newDest(t)
			_, err := Fetch(context.Background(), ref, dest, Options{})
			wantClass(t, err, ClassVerify)
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to mention %q", err, tc.want)
			}
			assertAbsent(t, dest)
			if _, err := Fetch(context.Background(), ref, dest, Options{NoVerifyFiles: true}); err != nil {
				t.Errorf("without file verification: %v", err)
			}
		})
	}
}

// TestHostileLayer pushes a genuine artifact whose layer tries to escape:
// the digests verify, extraction refuses.
func TestHostileLayer(t *testing.T) {
	layers := []layerSpec{{artifact.RoleApp, xt.BuildLayer(xt.File("ok.js", "1"), xt.Symlink("evil", "../../etc"))}}
	a := assemble(t, configFor(layers), layers, nil)
	for _, reg := range regtest.All(t) {
		t.Run(reg.Kind, func(t *testing.T) {
			ref := push(t, reg.Host, "apps/hostile", "v1", a)
			dest := newDest(t)
			_, err := Fetch(context.Background(), ref, dest, Options{})
			wantClass(t, err, ClassExtract)
			var xe *extract.Error
			if !errors.As(err, &xe) || xe.Rule != extract.RuleSymlinkEscape || xe.Entry != "evil" {
				t.Errorf("err = %v, want symlink-escape on entry evil", err)
			}
			assertAbsent(t, dest)
		})
	}
}

// TestRegistryErrors covers a digest that is not there and an unreachable
// registry.
func TestRegistryErrors(t *testing.T) {
	missing := "sha256:" + strings.Repeat("ab", 32)
	for _, reg := range regtest.All(t) {
		t.Run(reg.Kind+"/not-found", func(t *testing.T) {
			dest := newDest(t)
			_, err := Fetch(context.Background(), reg.Host+"/apps/none@"+missing, dest, Options{Retry: fastRetry})
			wantClass(t, err, ClassRegistry)
			if !strings.Contains(err.Error(), "does not exist") {
				t.Errorf("err = %v, want a not-found hint", err)
			}
			assertAbsent(t, dest)
		})
	}
	t.Run("unreachable", func(t *testing.T) {
		dest := newDest(t)
		_, err := Fetch(context.Background(), "127.0.0.1:1/apps/none@"+missing, dest, Options{Retry: fastRetry})
		wantClass(t, err, ClassRegistry)
		assertAbsent(t, dest)
	})
}

// TestManifestTooLarge bounds the manifest read.
func TestManifestTooLarge(t *testing.T) {
	layers := appLayers()
	a := assemble(t, configFor(layers), layers, nil)
	reg := regtest.InProcess(t)
	ref := push(t, reg.Host, "apps/hello", "v1", a)
	dest := newDest(t)
	_, err := Fetch(context.Background(), ref, dest, Options{MaxManifestBytes: 64})
	wantClass(t, err, ClassVerify)
	if !strings.Contains(err.Error(), "larger than 64 bytes") {
		t.Errorf("err = %v", err)
	}
	assertAbsent(t, dest)
}

// TestDockerConfigCredentials runs both registries behind basic auth and
// fetches with a mounted-imagePullSecret-style .dockerconfigjson.
func TestDockerConfigCredentials(t *testing.T) {
	const user, pass = "deployer", "s3cret-Pa55"
	layers := appLayers()
	a := assemble(t, configFor(layers), layers, nil)
	for _, reg := range regtest.All(t) {
		t.Run(reg.Kind, func(t *testing.T) {
			host := proxy(t, reg.Host, basicAuth(user, pass), nil)
			ref := push(t, host, "private/hello", "v1", a, basicKeychain(user, pass))
			secretDir := t.TempDir()
			write := func(p string) string {
				f := filepath.Join(secretDir, ".dockerconfigjson")
				auth := b64(user + ":" + p)
				if err := os.WriteFile(f, []byte(fmt.Sprintf(`{"auths":{%q:{"auth":%q}}}`, host, auth)), 0o600); err != nil {
					t.Fatal(err)
				}
				return f
			}
			// An empty keychain: no credentials at all.
			empty := filepath.Join(secretDir, "empty.json")
			if err := os.WriteFile(empty, []byte(`{"auths":{}}`), 0o600); err != nil {
				t.Fatal(err)
			}
			dest := newDest(t)
			_, err := Fetch(context.Background(), ref, dest, Options{DockerConfig: empty, Retry: fastRetry})
			wantClass(t, err, ClassRegistry)
			if !strings.Contains(err.Error(), "refused the credentials") {
				t.Errorf("err = %v, want a hint about credentials", err)
			}
			_, err = Fetch(context.Background(), ref, dest, Options{DockerConfig: write("wrong-password"), Retry: fastRetry})
			wantClass(t, err, ClassRegistry)
			if strings.Contains(err.Error(), "wrong-password") || strings.Contains(err.Error(), b64(user+":wrong-password")) {
				t.Errorf("error leaks the password: %v", err)
			}
			assertAbsent(t, dest)
			res, err := Fetch(context.Background(), ref, dest, Options{DockerConfig: write(pass)})
			if err != nil {
				t.Fatal(err)
			}
			if res.Files != 5 {
				t.Errorf("files = %d", res.Files)
			}
		})
	}
	t.Run("bad-file", func(t *testing.T) {
		f := filepath.Join(t.TempDir(), ".dockerconfigjson")
		if err := os.WriteFile(f, []byte(`{"auths": not json`), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := Fetch(context.Background(), "127.0.0.1:1/x@sha256:"+strings.Repeat("0", 64), newDest(t), Options{DockerConfig: f})
		wantClass(t, err, ClassUsage)
	})
}

// TestDestChecked checks that a non-empty DEST is refused before any
// request.
func TestDestChecked(t *testing.T) {
	reg := regtest.InProcess(t)
	dest := newDest(t)
	if err := os.MkdirAll(filepath.Join(dest, "old"), 0o755); err != nil {
		t.Fatal(err)
	}
	reg.ResetRequests()
	_, err := Fetch(context.Background(), reg.Host+"/x@sha256:"+strings.Repeat("0", 64), dest, Options{})
	wantClass(t, err, ClassUsage)
	if n := len(reg.Requests()); n != 0 {
		t.Errorf("%d requests sent for an unusable DEST", n)
	}
}
