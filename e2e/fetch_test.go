//go:build e2e

package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aetherengine/aether/internal/exampleapp"

	"github.com/aetherengine/aether/internal/regtest"
)

// TestBuildPushFetchRun is the artifact's whole trip: aether build →
// aether push → aether-fetch into a temp dir → node runs the extracted app
// → an HTTP request gets its answer. On both registries.
func TestBuildPushFetchRun(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed")
	}
	app := exampleapp.Copy(t, "hello")
	env := []string{"AETHER_CACHE_DIR=" + t.TempDir()}
	layout := filepath.Join(t.TempDir(), "layout")
	digest := strings.TrimSpace(must(t, env, "aether", "build", app, "--layout", layout).stdout)
	for _, reg := range regtest.All(t) {
		t.Run(reg.Kind, func(t *testing.T) {
			ref := strings.TrimSpace(must(t, env, "aether", "push", layout, reg.Ref("e2e/hello:v1")).stdout)
			if ref != reg.Ref("e2e/hello")+"@"+digest {
				t.Fatalf("push printed %q, want %s@%s", ref, reg.Ref("e2e/hello"), digest)
			}
			dest := filepath.Join(t.TempDir(), "app")
			must(t, env, "aether-fetch", ref, dest)
			if _, err := os.Lstat(filepath.Join(dest, "node_modules", ".bin", "uuid")); err != nil {
				t.Fatalf("fetched tree lacks node_modules/.bin/uuid: %v", err)
			}
			port := freePort(t)
			cmd := exec.Command(node, "server.js")
			cmd.Dir = dest
			cmd.Env = append(os.Environ(), fmt.Sprintf("PORT=%d", port))
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
			body := waitHTTP(t, fmt.Sprintf("http://127.0.0.1:%d/", port), 20*time.Second)
			if !strings.Contains(body, "Hello") {
				t.Fatalf("GET / = %q, want a greeting with Hello", body)
			}
		})
	}
}
