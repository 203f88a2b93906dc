package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aetherengine/aether/controlplane/pgtest"
	"github.com/aetherengine/aether/pkg/api"
	"github.com/aetherengine/aether/pkg/client"
)

// binary is the real aether-controlplane, built once for the package's tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "aether-controlplane-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "aether-controlplane")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build aether-controlplane:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

const adminKey = "aek_test_bootstrap_key_0123456789abcdefghijklmnop"

// proc is a running control plane.
type proc struct {
	cmd  *exec.Cmd
	url  string
	logs *bytes.Buffer
	done chan error
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// start runs the binary on database and waits until /readyz answers 200.
func start(t *testing.T, database string) *proc {
	t.Helper()
	addr := freeAddr(t)
	p := &proc{url: "http://" + addr, logs: &bytes.Buffer{}, done: make(chan error, 1)}
	p.cmd = exec.Command(binary, "--addr", addr, "--database", database, "--log-level", "warn")
	p.cmd.Env = append(os.Environ(), "AETHER_BOOTSTRAP_ADMIN_KEY="+adminKey)
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.done
	})
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(p.url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return p
			}
		}
		select {
		case err := <-p.done:
			t.Fatalf("control plane exited: %v\n%s", err, p.logs)
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatalf("control plane not ready in 30s:\n%s", p.logs)
	return nil
}

func databases(t *testing.T) map[string]func(t *testing.T) string {
	return map[string]func(t *testing.T) string{
		"sqlite":   func(t *testing.T) string { return "sqlite://" + filepath.Join(t.TempDir(), "aether.db") },
		"postgres": func(t *testing.T) string { return pgtest.NewDatabase(t) },
	}
}

// TestSIGKILLDuringWrites: the server is killed with SIGKILL in the middle
// of a burst of writes and restarted; every write that got a 2xx is there.
func TestSIGKILLDuringWrites(t *testing.T) {
	for name, db := range databases(t) {
		t.Run(name, func(t *testing.T) {
			database := db(t)
			p := start(t, database)
			c, err := client.New(p.url, adminKey, client.WithHTTPClient(&http.Client{Timeout: 10 * time.Second}))
			if err != nil {
				t.Fatal(err)
			}
			const workers, killAfter = 8, 120
			var (
				mu       sync.Mutex
				apps     []string
				deploys  []string
				acked    int
				killOnce sync.Once
				wg       sync.WaitGroup
			)
			kill := func() { killOnce.Do(func() { _ = p.cmd.Process.Signal(syscall.SIGKILL) }) }
			ctx := context.Background()
			for w := 0; w < workers; w++ {
				wg.Add(1)
				go func(w int) {
					defer wg.Done()
					for i := 0; i < 1000; i++ { // bounded; the kill ends it long before
						name := fmt.Sprintf("burst-%d-%d", w, i)
						if _, err := c.CreateApp(ctx, api.AppCreate{Name: name}); err != nil {
							return
						}
						mu.Lock()
						apps = append(apps, name)
						acked++
						mu.Unlock()
						d, err := c.CreateDeployment(ctx, api.DeploymentCreate{App: name, Artifact: "registry.example/" + name + ":v1"})
						// Admission refuses it (the app trusts no key): a 422
						// that names the deployment it recorded as failed.
						var refused *client.Error
						if errors.As(err, &refused) && refused.StatusCode == http.StatusUnprocessableEntity && refused.DeploymentID != "" {
							d.ID, err = refused.DeploymentID, nil
						}
						if err != nil {
							return
						}
						mu.Lock()
						deploys = append(deploys, d.ID)
						acked++
						n := acked
						mu.Unlock()
						if n >= killAfter {
							kill()
						}
					}
				}(w)
			}
			wg.Wait()
			kill()
			if err := <-p.done; err == nil || !strings.Contains(err.Error(), "killed") {
				t.Fatalf("the server did not die of SIGKILL: %v", err)
			}
			p.done <- errors.New("already waited")
			if acked < killAfter {
				t.Fatalf("only %d writes acknowledged before the kill; the burst did not run", acked)
			}

			p2 := start(t, database)
			c2, _ := client.New(p2.url, adminKey)
			stored, err := client.All(ctx, 0, c2.ListApps)
			if err != nil {
				t.Fatal(err)
			}
			have := map[string]bool{}
			for _, a := range stored {
				have[a.Name] = true
			}
			for _, a := range apps {
				if !have[a] {
					t.Errorf("app %s was acknowledged (2xx) but is gone after the restart", a)
				}
			}
			for _, id := range deploys {
				if _, err := c2.GetDeployment(ctx, id); err != nil {
					t.Errorf("deployment %s was acknowledged but is gone: %v", id, err)
				}
			}
			t.Logf("%s: %d apps and %d deployments acknowledged before SIGKILL, all present after restart", name, len(apps), len(deploys))
		})
	}
}

// TestSIGTERMIsGraceful: SIGTERM stops the server cleanly (exit 0).
func TestSIGTERMIsGraceful(t *testing.T) {
	p := start(t, "sqlite://"+filepath.Join(t.TempDir(), "aether.db"))
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.done:
		p.done <- err
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, p.logs)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no exit 30s after SIGTERM")
	}
}

func TestRunRejectsBadConfiguration(t *testing.T) {
	none := func(string) string { return "" }
	tests := []struct {
		name string
		args []string
		env  map[string]string
	}{
		{"unknown flag", []string{"--nope"}, nil},
		{"argument", []string{"extra"}, nil},
		{"bad database", []string{"--database", "mysql://x"}, nil},
		{"bad env", nil, map[string]string{"AETHER_LOG_LEVEL": "loud"}},
		{"missing config file", []string{"--config", "/nonexistent/cp.yaml"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			getenv := none
			if tt.env != nil {
				getenv = func(k string) string { return tt.env[k] }
			}
			var stderr bytes.Buffer
			if code := run(context.Background(), tt.args, getenv, &stderr); code != 2 {
				t.Fatalf("exit code %d, want 2; stderr %s", code, stderr.String())
			}
		})
	}
}
