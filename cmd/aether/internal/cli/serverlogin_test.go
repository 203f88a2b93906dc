package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aetherengine/aether/controlplane/config"
	"github.com/aetherengine/aether/controlplane/server"
	"github.com/aetherengine/aether/pkg/clientconfig"
)

const testAdminKey = "aek_cli_test_bootstrap_key_0123456789abcdefghij"

// startControlPlane serves a real control plane (SQLite in a temp dir) and
// points the CLI's config at a fresh directory.
func startControlPlane(t *testing.T) string {
	t.Helper()
	cfg := config.Defaults()
	cfg.Database = "sqlite://" + filepath.Join(t.TempDir(), "aether.db")
	cfg.BootstrapAdminKey = testAdminKey
	h, err := server.Build(context.Background(), cfg, server.Deps{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Notice: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(func() { srv.Close(); h.Store.Close() })
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv(clientconfig.EnvServer, "")
	t.Setenv(clientconfig.EnvAPIKey, "")
	return srv.URL
}

// runCLI runs the aether command line in-process.
func runCLI(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Execute(context.Background(), args, Streams{In: strings.NewReader(stdin), Out: &out, Err: &errb})
	return code, out.String(), errb.String()
}

func TestLoginServer(t *testing.T) {
	url := startControlPlane(t)
	path, _ := clientconfig.Path()
	// Keep a setting another command wrote.
	if err := clientconfig.Save(path, clientconfig.Config{Registry: "127.0.0.1:5000"}); err != nil {
		t.Fatal(err)
	}
	g := &Global{Streams: Streams{In: strings.NewReader("wrong-key\n"), Out: io.Discard, Err: io.Discard}}
	if err := loginServer(context.Background(), g, url, true); err == nil || !strings.Contains(err.Error(), "refused the key") {
		t.Fatalf("login with a wrong key: %v", err)
	}
	if c, _ := clientconfig.Load(path); c.APIKey != "" {
		t.Fatal("a refused key was saved")
	}
	var status bytes.Buffer
	g = &Global{Streams: Streams{In: strings.NewReader(testAdminKey + "\n"), Out: io.Discard, Err: &status}}
	if err := loginServer(context.Background(), g, url+"/", true); err != nil {
		t.Fatal(err)
	}
	c, err := clientconfig.Load(path)
	if err != nil || c.Server != url || c.APIKey != testAdminKey || c.Registry != "127.0.0.1:5000" {
		t.Fatalf("config after login = %+v, %v", c, err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Fatalf("config mode %v", fi.Mode().Perm())
	}
	if !strings.Contains(status.String(), "bootstrap admin") || strings.Contains(status.String(), testAdminKey) {
		t.Fatalf("status %q (must name the key, never print it)", status.String())
	}
	// Commands now find the server and key in the file.
	if code, out, errs := runCLI(t, "", "apps", "list"); code != 0 || !strings.Contains(out, "NAME") {
		t.Fatalf("apps list after login: %d %q %q", code, out, errs)
	}
	// Without stdin or env there is no key.
	g = &Global{Streams: Streams{In: strings.NewReader(""), Out: io.Discard, Err: io.Discard}}
	if err := loginServer(context.Background(), g, url, false); err == nil {
		t.Fatal("login without a key succeeded")
	}
}

// TestControlPlaneCommands drives apps, deployments and keys end to end.
func TestControlPlaneCommands(t *testing.T) {
	url := startControlPlane(t)
	t.Setenv(clientconfig.EnvServer, url)
	t.Setenv(clientconfig.EnvAPIKey, testAdminKey)

	mustRun := func(args ...string) string {
		t.Helper()
		code, out, errs := runCLI(t, "", args...)
		if code != 0 {
			t.Fatalf("aether %s: exit %d\n%s", strings.Join(args, " "), code, errs)
		}
		return out
	}
	mustRun("apps", "create", "web", "--env", "NODE_ENV=production")
	mustRun("apps", "create", "api")
	if out := mustRun("apps", "get", "web"); !strings.Contains(out, "NODE_ENV=production") || !strings.Contains(out, "Namespace:") {
		t.Fatalf("apps get:\n%s", out)
	}
	var page struct {
		Items []struct {
			Name string `json:"name"`
		} `json:"items"`
		NextCursor string `json:"next_cursor"`
	}
	if err := json.Unmarshal([]byte(mustRun("apps", "list", "-o", "json", "--limit", "1")), &page); err != nil || len(page.Items) != 1 || page.NextCursor == "" {
		t.Fatalf("apps list --limit 1: %+v %v", page, err)
	}
	if err := json.Unmarshal([]byte(mustRun("apps", "list", "-o", "json", "--all")), &page); err != nil || len(page.Items) != 2 {
		t.Fatalf("apps list --all: %+v %v", page, err)
	}

	// A deployer key scoped to web, created and used through the CLI.
	key := strings.TrimSpace(mustRun("keys", "create", "--name", "ci-web", "--role", "deployer", "--app", "web"))
	if !strings.HasPrefix(key, "aek_") {
		t.Fatalf("keys create printed %q", key)
	}
	if out := mustRun("keys", "list"); !strings.Contains(out, "ci-web") || strings.Contains(out, key) {
		t.Fatalf("keys list (must not show secrets):\n%s", out)
	}

	// Deployments are created through the API (aether deploy comes later).
	code, _, errs := runCLI(t, "", "apps", "create", "nope", "--api-key", key)
	if code == 0 || !strings.Contains(errs, "forbidden") {
		t.Fatalf("deployer creating an app: exit %d %q", code, errs)
	}
	if out := mustRun("deployments", "list", "--app", "web"); !strings.Contains(out, "STATUS") {
		t.Fatalf("deployments list:\n%s", out)
	}
	code, _, errs = runCLI(t, "", "deployments", "get", "dep_missing")
	if code == 0 || !strings.Contains(errs, "not found") {
		t.Fatalf("deployments get of a missing id: exit %d %q", code, errs)
	}

	var k struct {
		ID string `json:"id"`
	}
	json.Unmarshal([]byte(mustRun("keys", "create", "--name", "tmp", "--role", "viewer", "--app", "*", "-o", "json")), &k)
	mustRun("keys", "revoke", k.ID)
	code, _, errs = runCLI(t, "", "keys", "revoke", "key_nope")
	if code == 0 || !strings.Contains(errs, "not found") {
		t.Fatalf("revoking a missing key: exit %d %q", code, errs)
	}
}

func TestCommandsWithoutServer(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv(clientconfig.EnvServer, "")
	t.Setenv(clientconfig.EnvAPIKey, "")
	code, _, errs := runCLI(t, "", "apps", "list")
	if code != ExitUsage || !strings.Contains(errs, "aether login --server") {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
}

func TestServerCommandRejectsBadConfig(t *testing.T) {
	for _, args := range [][]string{
		{"server", "--database", "mysql://x"},
		{"server", "--log-level", "loud"},
		{"server", "--config", filepath.Join(t.TempDir(), "missing.yaml")},
	} {
		if code, _, errs := runCLI(t, "", args...); code != ExitUsage {
			t.Errorf("aether %v: exit %d, want %d (%s)", args, code, ExitUsage, errs)
		}
	}
}
