package local

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/aetherengine/aether/internal/regtest"
)

// TestSharedDependencyLayer: the second deployment of an app whose
// dependency layer did not change does not download or extract it again;
// it gets hard links to the one verified, read-only copy.
func TestSharedDependencyLayer(t *testing.T) {
	reg := regtest.InProcess(t)
	rt := newRuntime(t, nil)
	image := testAppImage(t, reg)
	dir := t.TempDir()

	mustReady(t, deploy(t, rt, rollout("web", "dep-1", image, appEnv(dir, "serve", "v1"))))
	reg.ResetRequests()
	mustReady(t, deploy(t, rt, rollout("web", "dep-2", image, appEnv(dir, "serve", "v2"))))

	if n := blobGets(reg); n != 2 { // config + app layer
		t.Fatalf("second deployment read %d blobs, want 2 (config and app layer; the dependency layer is shared)", n)
	}
	f1 := filepath.Join(rt.opts.StateDir, "apps", "web", "dep-1", "app", "node_modules", ".package-lock.json")
	f2 := filepath.Join(rt.opts.StateDir, "apps", "web", "dep-2", "app", "node_modules", ".package-lock.json")
	s1, err1 := os.Stat(f1)
	s2, err2 := os.Stat(f2)
	if err1 != nil || err2 != nil || !os.SameFile(s1, s2) {
		t.Fatalf("node_modules files are not the shared inode: %v %v", err1, err2)
	}
	if s2.Mode().Perm()&0o222 != 0 {
		t.Fatalf("shared file is writable: %v", s2.Mode())
	}
	if fi, _ := os.Lstat(filepath.Join(rt.opts.StateDir, "apps", "web", "dep-2", "app", "node_modules")); fi == nil || !fi.IsDir() {
		t.Fatal("node_modules must be a real directory in the app (not a symlink), so paths stay inside the app")
	}
	if st, ok := s2.Sys().(*syscall.Stat_t); ok && st.Nlink < 3 {
		t.Fatalf("link count %d, want the share and both deployments", st.Nlink)
	}
	logs, err := rt.Logs(t.Context(), "web", "dep-2", 50)
	if err != nil || !strings.Contains(strings.Join(logs.Lines, "\n"), "reused from an earlier deployment") {
		t.Fatalf("log does not say the layer was reused: %v %v", logs.Lines, err)
	}
}

func TestNoSharedLayers(t *testing.T) {
	reg := regtest.InProcess(t)
	rt := newRuntime(t, func(o *Options) { o.NoSharedLayers = true })
	image := testAppImage(t, reg)
	dir := t.TempDir()
	mustReady(t, deploy(t, rt, rollout("web", "dep-1", image, appEnv(dir, "serve", "v1"))))
	reg.ResetRequests()
	mustReady(t, deploy(t, rt, rollout("web", "dep-2", image, appEnv(dir, "serve", "v2"))))
	if n := blobGets(reg); n != 3 {
		t.Fatalf("read %d blobs, want 3 (config and both layers)", n)
	}
	if _, err := os.Stat(filepath.Join(rt.opts.StateDir, "layers")); !os.IsNotExist(err) {
		t.Fatalf("a layer share exists with NoSharedLayers: %v", err)
	}
}

func blobGets(reg *regtest.Registry) int {
	n := 0
	for _, q := range reg.Requests() {
		if q.Method == "GET" && strings.Contains(q.Path, "/blobs/sha256:") {
			n++
		}
	}
	return n
}
