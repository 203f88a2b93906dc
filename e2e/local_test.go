//go:build e2e

package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aetherengine/aether/internal/exampleapp"
)

// upEnv starts `aether up` with its own state, config and cache, on free
// ports, and returns the environment for CLI commands that talk to it.
func upEnv(t *testing.T) []string {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not installed: the local runtime runs the app with node")
	}
	root := t.TempDir()
	env := []string{
		"XDG_CONFIG_HOME=" + filepath.Join(root, "config"),
		"XDG_DATA_HOME=" + filepath.Join(root, "data"),
		"AETHER_CACHE_DIR=" + filepath.Join(root, "cache"),
	}
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	regAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	cmd := exec.Command(filepath.Join(bin, "aether"), "up", "--addr", addr, "--registry-addr", regAddr)
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	logf, err := os.Create(filepath.Join(root, "up.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = logf
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("aether up did not exit cleanly on SIGTERM: %v", err)
			}
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			t.Error("aether up did not stop within 30s of SIGTERM")
		}
		logf.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logf.Name())
			t.Logf("aether up log:\n%s", b)
		}
	})
	// aether up prints the server URL on stdout once it serves.
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || !strings.Contains(line, addr) {
		b, _ := os.ReadFile(logf.Name())
		t.Fatalf("aether up did not come up (%q, %v):\n%s", line, err, b)
	}
	go func() { bufio.NewReader(stdout).WriteTo(devNull{}) }()
	return env
}

type devNull struct{}

func (devNull) Write(p []byte) (int, error) { return len(p), nil }

// TestUpAndDeploy is the README's main job: aether up, then aether deploy
// examples/hello → the app answers; a code-only change deployed again → the
// new answer, and the dependency layer was not uploaded again.
func TestUpAndDeploy(t *testing.T) {
	env := upEnv(t)
	app := exampleapp.Copy(t, "hello")

	first := must(t, env, "aether", "deploy", app)
	url := strings.TrimSpace(first.stdout)
	if !strings.HasPrefix(url, "http://127.0.0.1:") {
		t.Fatalf("deploy printed %q on stdout, want the app's URL\n%s", url, first.stderr)
	}
	for _, stage := range []string{"✓ build", "✓ push", "✓ sign", "✓ sbom", "✓ provenance", "✓ deploy", "verified", "ready"} {
		if !strings.Contains(first.stderr, stage) {
			t.Errorf("deploy output lacks %q:\n%s", stage, first.stderr)
		}
	}
	if body := waitHTTP(t, url+"/", 10*time.Second); !strings.Contains(body, "Hello from AetherEngine") {
		t.Fatalf("GET / = %q", body)
	}

	greeting := filepath.Join(app, "lib", "greeting.js")
	src, _ := os.ReadFile(greeting)
	os.WriteFile(greeting, []byte(strings.Replace(string(src), "Hello from AetherEngine", "Hello v2 from AetherEngine", 1)), 0o644)
	second := must(t, env, "aether", "deploy", app, "--output", "json")
	var out struct {
		URL   string
		Build struct{ Cache struct{ Hit bool } }
		Push  struct {
			Blobs []struct{ Label, Status string }
		}
		Deployment struct{ Status string }
	}
	if err := json.Unmarshal([]byte(second.stdout), &out); err != nil {
		t.Fatalf("deploy --output json: %v\n%s", err, second.stdout)
	}
	if !out.Build.Cache.Hit || out.Deployment.Status != "ready" || out.URL != url {
		t.Fatalf("second deploy: cache hit %v, status %q, url %q (first %q)", out.Build.Cache.Hit, out.Deployment.Status, out.URL, url)
	}
	statuses := map[string]string{}
	for _, b := range out.Push.Blobs {
		statuses[b.Label] = b.Status
	}
	if statuses["node_modules"] != "exists" || statuses["app"] != "uploaded" {
		t.Fatalf("second push: %v; want node_modules skipped (exists) and app uploaded", statuses)
	}
	if body := waitHTTP(t, url+"/", 10*time.Second); !strings.Contains(body, "Hello v2") {
		t.Fatalf("after the second deploy GET / = %q", body)
	}

	// Status, logs and rollback.
	st := must(t, env, "aether", "status", "hello")
	if !strings.Contains(st.stdout, url) || !strings.Contains(st.stdout, "ready") {
		t.Fatalf("aether status:\n%s", st.stdout)
	}
	if logs := must(t, env, "aether", "logs", "hello"); !strings.Contains(logs.stdout, "hello listening") {
		t.Fatalf("aether logs:\n%s", logs.stdout)
	}
	must(t, env, "aether", "rollback", "hello")
	if body := waitHTTP(t, url+"/", 10*time.Second); !strings.Contains(body, "Hello from AetherEngine") {
		t.Fatalf("after rollback GET / = %q", body)
	}
}
