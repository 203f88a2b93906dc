package cli

import (
	"bytes"
	"context"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
)

func TestLoginRegistryWritesDockerConfig(t *testing.T) {
	reg := ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0)))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "bot" || p != "s3cret" {
			w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		reg.ServeHTTP(w, r)
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	cfgDir := t.TempDir()
	t.Setenv("DOCKER_CONFIG", cfgDir)

	login := func(password string) (int, string) {
		var out, errb bytes.Buffer
		code := Execute(context.Background(), []string{"login", host, "-u", "bot", "--password-stdin"},
			Streams{In: strings.NewReader(password + "\n"), Out: &out, Err: &errb})
		return code, errb.String()
	}
	if code, stderr := login("wrong"); code == 0 || !strings.Contains(stderr, "refused the credentials") {
		t.Fatalf("login with a wrong password: exit %d, %s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(cfgDir, "config.json")); err == nil {
		b, _ := os.ReadFile(filepath.Join(cfgDir, "config.json"))
		if strings.Contains(string(b), host) {
			t.Fatal("a refused login was saved")
		}
	}
	if code, stderr := login("s3cret"); code != 0 {
		t.Fatalf("login: exit %d, %s", code, stderr)
	}
	b, err := os.ReadFile(filepath.Join(cfgDir, "config.json"))
	if err != nil || !strings.Contains(string(b), host) {
		t.Fatalf("docker config after login: %s, %v", b, err)
	}
	if strings.Contains(string(b), "s3cret") {
		t.Fatal("password stored in clear: want the base64 auth field docker uses")
	}
}

func TestLoginUsage(t *testing.T) {
	for _, args := range [][]string{{"login"}, {"login", "r.example", "--server", "http://x"}, {"login", "r.example", "-u", "x"}} {
		code, _, stderr := run(t, args...)
		if code != ExitUsage {
			t.Errorf("aether %v: exit %d (%s), want usage error", args, code, stderr)
		}
	}
}
