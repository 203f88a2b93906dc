package build

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aetherengine/aether/internal/exampleapp"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/aetherengine/aether/pkg/artifact"
	"github.com/aetherengine/aether/pkg/nodejs"
	"github.com/aetherengine/aether/pkg/sbom"
)

// copyExample copies examples/hello into a temp dir, so tests can change it.
func copyExample(t testing.TB) string { return exampleapp.Copy(t, "hello") }

func requireNode(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not installed: the build tests run the real npm ci")
	}
	if _, err := exec.LookPath("npm"); err != nil {
		t.Skip("npm is not installed: the build tests run the real npm ci")
	}
}

func mustBuild(t testing.TB, opts Options) *Result {
	t.Helper()
	res, err := Build(context.Background(), opts)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	return res
}

func readJSON(t testing.TB, layout, dgst string, v any) {
	t.Helper()
	algo, hex, _ := strings.Cut(dgst, ":")
	b, err := os.ReadFile(filepath.Join(layout, "blobs", algo, hex))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}

func touchAll(t testing.TB, dir string, when time.Time) {
	t.Helper()
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil {
			os.Chtimes(p, when, when)
		}
		return nil
	})
}

func TestBuildReproducibleAndCached(t *testing.T) {
	requireNode(t)
	a, b := copyExample(t), copyExample(t)
	touchAll(t, b, time.Date(2011, 1, 1, 0, 0, 0, 0, time.UTC))
	// Separate caches: the second build runs npm ci again, as another
	// machine would.
	ra := mustBuild(t, Options{Dir: a, CacheDir: t.TempDir()})
	rb := mustBuild(t, Options{Dir: b, CacheDir: t.TempDir()})
	if ra.Digest != rb.Digest {
		t.Fatalf("same tree, different mtimes and caches: %s vs %s\n%+v\n%+v", ra.Digest, rb.Digest, ra.Layers, rb.Layers)
	}
	if ra.Cache.Hit || rb.Cache.Hit {
		t.Fatal("fresh caches reported a hit")
	}
	if ra.SBOM.Manifest != rb.SBOM.Manifest {
		t.Fatalf("SBOM not reproducible: %s vs %s", ra.SBOM.Manifest, rb.SBOM.Manifest)
	}

	// The manifest is what the contract says.
	var m ocispec.Manifest
	readJSON(t, ra.Layout, ra.Digest, &m)
	if m.ArtifactType != artifact.ArtifactType || m.Config.MediaType != artifact.ConfigMediaType || len(m.Layers) != 2 {
		t.Fatalf("manifest %+v", m)
	}
	for i, role := range []string{artifact.RoleDependencies, artifact.RoleApp} {
		l := m.Layers[i]
		if l.MediaType != artifact.LayerMediaType || l.Annotations[artifact.AnnotationLayerRole] != role {
			t.Errorf("layer %d = %+v, want role %s", i, l, role)
		}
	}
	var cfg artifact.Config
	readJSON(t, ra.Layout, m.Config.Digest.String(), &cfg)
	if cfg.App.Port != 3000 || strings.Join(cfg.App.Command, " ") != "node server.js" || cfg.Runtime.Name != "nodejs" || cfg.Runtime.Version == "" {
		t.Errorf("config app/runtime = %+v %+v", cfg.App, cfg.Runtime)
	}
	paths := map[string]artifact.FileEntry{}
	for _, l := range cfg.Layers {
		for _, f := range l.Files {
			paths[f.Path] = f
		}
	}
	if f, ok := paths["node_modules/.bin/uuid"]; !ok || f.Link != "../uuid/dist/bin/uuid" {
		t.Errorf("node_modules/.bin/uuid = %+v, want a symlink kept as a symlink", f)
	}
	for _, p := range []string{"server.js", "lib/greeting.js", "package.json", "node_modules/ms/index.js"} {
		if f, ok := paths[p]; !ok || len(f.SHA256) != 64 {
			t.Errorf("%s missing from the per-file manifest or without sha256: %+v", p, f)
		}
	}
	for _, p := range []string{"test/greeting.test.js", "node_modules/is-number/index.js"} {
		if _, ok := paths[p]; ok {
			t.Errorf("%s was packaged: .aetherignore / dev dependencies must stay out", p)
		}
	}

	// A second build of the same tree hits the cache: npm is not run. Prove
	// it with a toolchain whose npm always fails.
	shim := t.TempDir()
	node, _ := exec.LookPath("node")
	os.Symlink(node, filepath.Join(shim, "node"))
	os.WriteFile(filepath.Join(shim, "npm"), []byte("#!/bin/sh\necho npm must not run >&2\nexit 99\n"), 0o755)
	rc := mustBuild(t, Options{Dir: a, CacheDir: filepath.Dir(filepath.Dir(ra.Cache.Path)), Node: filepath.Join(shim, "node")})
	if !rc.Cache.Hit || !rc.Layers[0].Cached || rc.Digest != ra.Digest {
		t.Fatalf("rebuild: hit=%v layerCached=%v digest %s (first %s)", rc.Cache.Hit, rc.Layers[0].Cached, rc.Digest, ra.Digest)
	}

	// A code-only change: the dependency layer is unchanged, the app layer
	// and the artifact change.
	os.WriteFile(filepath.Join(a, "lib", "greeting.js"), []byte("module.exports = { greeting: () => 'Hello again' };\n"), 0o644)
	rd := mustBuild(t, Options{Dir: a, CacheDir: filepath.Dir(filepath.Dir(ra.Cache.Path)), Node: filepath.Join(shim, "node")})
	if rd.Layers[0].Digest != ra.Layers[0].Digest {
		t.Errorf("dependency layer changed on a code-only change: %s → %s", ra.Layers[0].Digest, rd.Layers[0].Digest)
	}
	if rd.Layers[1].Digest == ra.Layers[1].Digest || rd.Digest == ra.Digest {
		t.Error("app layer or artifact digest did not change after a code change")
	}
}

func TestSBOMInLayout(t *testing.T) {
	requireNode(t)
	dir := copyExample(t)
	res := mustBuild(t, Options{Dir: dir, CacheDir: t.TempDir()})
	var m ocispec.Manifest
	readJSON(t, res.Layout, res.SBOM.Manifest, &m)
	if m.Subject == nil || m.Subject.Digest.String() != res.Digest || m.ArtifactType != artifact.SBOMArtifactType {
		t.Fatalf("SBOM manifest %+v: want a referrer of %s", m, res.Digest)
	}
	algo, hex, _ := strings.Cut(res.SBOM.Digest, ":")
	data, err := os.ReadFile(filepath.Join(res.Layout, "blobs", algo, hex))
	if err != nil {
		t.Fatal(err)
	}
	sum, err := sbom.Validate(data)
	if err != nil {
		t.Fatalf("SBOM does not validate against the CycloneDX schema: %v", err)
	}
	lockBytes, _ := os.ReadFile(filepath.Join(dir, "package-lock.json"))
	lock, err := nodejs.ParseLockfile(lockBytes)
	if err != nil {
		t.Fatal(err)
	}
	prod := lock.Production()
	if sum.Components != len(prod) || sum.Components != res.SBOM.Components {
		t.Fatalf("SBOM has %d components (build says %d), lockfile has %d production packages %v", sum.Components, res.SBOM.Components, len(prod), prod)
	}
	for _, p := range prod {
		name := lock.PackageName(p)
		if !strings.Contains(string(data), `"name": "`+name+`"`) && !strings.Contains(string(data), `"name":"`+name+`"`) {
			t.Errorf("SBOM does not list %s", name)
		}
	}
	if strings.Contains(string(data), "is-number") {
		t.Error("SBOM lists the dev dependency is-number")
	}
}

func TestBuildErrorsWriteNothing(t *testing.T) {
	requireNode(t)
	tests := []struct {
		name  string
		setup func(dir string)
		want  []string
	}{
		{"no lockfile", func(d string) { os.Remove(filepath.Join(d, "package-lock.json")) }, []string{"no package-lock.json", "npm install"}},
		{"yarn lockfile", func(d string) {
			os.Remove(filepath.Join(d, "package-lock.json"))
			os.WriteFile(filepath.Join(d, "yarn.lock"), []byte("# yarn\n"), 0o644)
		}, []string{"yarn.lock", "only npm", "--package-lock-only"}},
		{"broken package.json", func(d string) {
			os.WriteFile(filepath.Join(d, "package.json"), []byte("{\n  \"name\": \"x\",\n}"), 0o644)
		}, []string{"package.json is not valid JSON", "line 3"}},
		{"no package.json", func(d string) { os.Remove(filepath.Join(d, "package.json")) }, []string{"no package.json"}},
		{"symlink escape", func(d string) { os.Symlink("../../../etc/passwd", filepath.Join(d, "lib", "secrets")) }, []string{"lib/secrets", "leaves the tree", ".aetherignore"}},
		{"absolute symlink", func(d string) { os.Symlink("/etc/passwd", filepath.Join(d, "passwd")) }, []string{"passwd", "absolute"}},
		{"bad ignore file", func(d string) { os.WriteFile(filepath.Join(d, ".aetherignore"), []byte("ok\n[broken\n"), 0o644) }, []string{".aetherignore:2"}},
		{"no start command", func(d string) {
			os.WriteFile(filepath.Join(d, "package.json"), []byte(`{"name":"x","version":"1.0.0","dependencies":{"ms":"2.1.3","uuid":"9.0.1"}}`), 0o644)
			os.Remove(filepath.Join(d, "server.js"))
		}, []string{"no start command", "scripts"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := copyExample(t)
			tt.setup(dir)
			layout := filepath.Join(dir, ".aether", "layout")
			_, err := Build(context.Background(), Options{Dir: dir, CacheDir: t.TempDir()})
			if err == nil {
				t.Fatal("build succeeded")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if _, serr := os.Stat(layout); !errors.Is(serr, fs.ErrNotExist) {
				t.Errorf("layout written despite the error")
			}
			if entries, _ := os.ReadDir(filepath.Join(dir, ".aether")); len(entries) > 0 {
				t.Errorf("left files behind in .aether: %v", entries)
			}
		})
	}
}

func TestFailedBuildKeepsPreviousLayout(t *testing.T) {
	requireNode(t)
	dir := copyExample(t)
	cache := t.TempDir()
	first := mustBuild(t, Options{Dir: dir, CacheDir: cache})
	os.Symlink("/etc/passwd", filepath.Join(dir, "escape"))
	if _, err := Build(context.Background(), Options{Dir: dir, CacheDir: cache}); err == nil {
		t.Fatal("build with an escaping symlink succeeded")
	}
	var idx ocispec.Index
	b, err := os.ReadFile(filepath.Join(first.Layout, "index.json"))
	if err != nil {
		t.Fatalf("previous layout gone: %v", err)
	}
	json.Unmarshal(b, &idx)
	if len(idx.Manifests) == 0 || idx.Manifests[0].Digest.String() != first.Digest {
		t.Fatalf("previous layout changed: %+v", idx.Manifests)
	}
	// A non-layout directory is never overwritten.
	other := filepath.Join(t.TempDir(), "precious")
	os.MkdirAll(other, 0o755)
	os.WriteFile(filepath.Join(other, "notes.txt"), []byte("keep"), 0o644)
	os.Remove(filepath.Join(dir, "escape"))
	if _, err := Build(context.Background(), Options{Dir: dir, CacheDir: cache, Layout: other}); err == nil || !strings.Contains(err.Error(), "not an OCI layout") {
		t.Fatalf("build into a non-layout dir: %v", err)
	}
}

func TestConcurrentBuildsShareCache(t *testing.T) {
	requireNode(t)
	cache := t.TempDir()
	const n = 3
	dirs := make([]string, n)
	for i := range dirs {
		dirs[i] = copyExample(t)
	}
	results := make([]*Result, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = Build(context.Background(), Options{Dir: dirs[i], CacheDir: cache})
		}()
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("build %d: %v", i, errs[i])
		}
		if results[i].Digest != results[0].Digest {
			t.Fatalf("concurrent builds disagree: %s vs %s", results[i].Digest, results[0].Digest)
		}
	}
	entries, _ := os.ReadDir(filepath.Join(cache, "deps"))
	if len(entries) != 1 {
		t.Fatalf("cache has %d entries, want 1", len(entries))
	}
	if tmp, _ := os.ReadDir(filepath.Join(cache, "tmp")); len(tmp) != 0 {
		t.Fatalf("temporary install dirs left behind: %v", tmp)
	}
}
