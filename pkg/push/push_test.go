package push

import (
	"archive/tar"
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aetherengine/aether/internal/exampleapp"

	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"

	"github.com/aetherengine/aether/internal/regtest"
	"github.com/aetherengine/aether/internal/testtools"
	"github.com/aetherengine/aether/pkg/build"
	"github.com/aetherengine/aether/pkg/registry"
)

var cacheDir string

func TestMain(m *testing.M) {
	d, err := os.MkdirTemp("", "aether-push-cache-")
	if err != nil {
		panic(err)
	}
	cacheDir = d
	code := m.Run()
	os.RemoveAll(d)
	os.Exit(code)
}

// buildExample builds a copy of examples/hello (optionally with a changed
// greeting) and returns the layout directory.
func buildExample(t testing.TB, greeting string) *build.Result {
	t.Helper()
	if _, err := exec.LookPath("npm"); err != nil {
		t.Skip("npm is not installed: push tests build examples/hello for real")
	}
	dir := exampleapp.Copy(t, "hello")
	if greeting != "" {
		os.WriteFile(filepath.Join(dir, "lib", "greeting.js"), []byte("module.exports = { greeting: () => '"+greeting+"' };\n"), 0o644)
	}
	res, err := build.Build(context.Background(), build.Options{Dir: dir, CacheDir: cacheDir})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestPushBothRegistries(t *testing.T) {
	v1 := buildExample(t, "")
	v2 := buildExample(t, "Hello v2")
	for _, reg := range regtest.All(t) {
		t.Run(reg.Kind, func(t *testing.T) {
			ctx := context.Background()
			ref := reg.Ref("acme/hello:v1")
			res, err := Push(ctx, v1.Layout, ref, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if res.Reference != reg.Host+"/acme/hello@"+v1.Digest || res.Digest != v1.Digest {
				t.Fatalf("reference %s, want %s/acme/hello@%s", res.Reference, reg.Host, v1.Digest)
			}
			if got := statuses(res); got != "app=uploaded config=uploaded manifest=uploaded node_modules=uploaded" {
				t.Fatalf("first push: %s", got)
			}

			// Re-push: nothing uploaded.
			reg.ResetRequests()
			res, err = Push(ctx, v1.Layout, ref, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if n := reg.BlobUploads(); n != 0 || res.UploadedBytes != 0 {
				t.Fatalf("re-push started %d uploads, %d bytes: %s", n, res.UploadedBytes, statuses(res))
			}
			if got := statuses(res); got != "app=exists config=exists manifest=exists node_modules=exists" {
				t.Fatalf("re-push: %s", got)
			}

			// Code-only change: the dependency layer is skipped.
			reg.ResetRequests()
			res, err = Push(ctx, v2.Layout, reg.Ref("acme/hello:v2"), Options{})
			if err != nil {
				t.Fatal(err)
			}
			if got := statuses(res); got != "app=uploaded config=uploaded manifest=uploaded node_modules=exists" {
				t.Fatalf("code-only push: %s", got)
			}
			if n := reg.BlobUploads(); n != 2 {
				t.Fatalf("code-only push started %d blob uploads, want 2 (app layer, config)", n)
			}
		})
	}
}

func statuses(r *Result) string {
	var s []string
	for _, b := range r.Blobs {
		s = append(s, b.Label+"="+b.Status)
	}
	sort.Strings(s)
	return strings.Join(s, " ")
}

// flaky fails the first blob upload PUT by closing the connection, then
// behaves: the push must retry and succeed.
func TestPushRetriesTransientFailure(t *testing.T) {
	res := buildExample(t, "")
	var failed atomic.Int32
	h := ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0)))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/blobs/uploads/") && failed.Add(1) == 1 {
			hj, _ := w.(http.Hijacker)
			conn, _, _ := hj.Hijack()
			conn.(*net.TCPConn).SetLinger(0)
			conn.Close() // connection reset
			return
		}
		if r.Method == http.MethodGet && r.URL.Path == "/v2/" && failed.Load() == 0 {
			w.WriteHeader(http.StatusServiceUnavailable) // retried by the HTTP layer
			failed.Store(0)
		}
		h.ServeHTTP(w, r)
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	out, err := Push(context.Background(), res.Layout, host+"/acme/hello:v1", Options{})
	if err != nil {
		t.Fatalf("push through a connection reset: %v", err)
	}
	if out.Attempts < 2 {
		t.Fatalf("attempts = %d, want a retry", out.Attempts)
	}
}

func TestPushErrors(t *testing.T) {
	res := buildExample(t, "")
	inner := ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0)))
	tests := []struct {
		name    string
		handler http.HandlerFunc
		kind    error
		want    string
	}{
		{"auth required", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`)
		}, registry.ErrUnauthorized, "aether login"},
		{"unknown repository", func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/v2/" {
				return
			}
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known to registry"}]}`)
		}, registry.ErrNotFound, "repository"},
		{"media type refused", func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/manifests/") {
				w.WriteHeader(http.StatusBadRequest)
				io.WriteString(w, `{"errors":[{"code":"MANIFEST_INVALID","message":"unsupported config media type"}]}`)
				return
			}
			inner.ServeHTTP(w, r)
		}, registry.ErrRefused, "OCI 1.1 artifact"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.handler)
			defer srv.Close()
			host := strings.TrimPrefix(srv.URL, "http://")
			_, err := Push(context.Background(), res.Layout, host+"/acme/hello:v1", Options{Registry: registry.Options{MaxRetry: 1}})
			if !errors.Is(err, tt.kind) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %v mentioning %q", err, tt.kind, tt.want)
			}
		})
	}
	if _, err := Push(context.Background(), t.TempDir(), "127.0.0.1:1/x:y", Options{}); err == nil || !strings.Contains(err.Error(), "not an OCI layout") {
		t.Fatalf("push of a non-layout: %v", err)
	}
	if _, err := Push(context.Background(), res.Layout, "127.0.0.1:1/x@sha256:"+strings.Repeat("a", 64), Options{}); err == nil || !strings.Contains(err.Error(), "not a digest") {
		t.Fatalf("push to a digest: %v", err)
	}
}

// TestStockToolsReadTheArtifact: crane export and oras pull give the app's
// files (interop with the stock CLIs).
func TestStockToolsReadTheArtifact(t *testing.T) {
	res := buildExample(t, "")
	crane := testtools.Require(t, testtools.Crane)
	oras := testtools.Require(t, testtools.ORAS)
	for _, reg := range regtest.All(t) {
		t.Run(reg.Kind, func(t *testing.T) {
			out, err := Push(context.Background(), res.Layout, reg.Ref("interop/hello:v1"), Options{})
			if err != nil {
				t.Fatal(err)
			}
			// crane export flattens the layers into one tar.
			cmd := exec.Command(crane, "export", "--insecure", out.Reference, "-")
			tarOut, err := cmd.Output()
			if err != nil {
				t.Fatalf("crane export: %v", err)
			}
			names := map[string]bool{}
			tr := tar.NewReader(strings.NewReader(string(tarOut)))
			for {
				h, err := tr.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				names[strings.TrimPrefix(h.Name, "./")] = true
			}
			for _, want := range []string{"server.js", "package.json", "lib/greeting.js", "node_modules/ms/index.js", "node_modules/.bin/uuid"} {
				if !names[want] {
					t.Errorf("crane export lacks %s", want)
				}
			}
			// oras pull unpacks both layers into the working directory.
			dir := t.TempDir()
			cmd = exec.Command(oras, "pull", "--plain-http", "-o", dir, out.Reference)
			if b, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("oras pull: %v\n%s", err, b)
			}
			for _, want := range []string{"server.js", "lib/greeting.js", "node_modules/ms/index.js"} {
				if _, err := os.Stat(filepath.Join(dir, want)); err != nil {
					t.Errorf("oras pull did not give %s: %v", want, err)
				}
			}
			if target, err := os.Readlink(filepath.Join(dir, "node_modules/.bin/uuid")); err != nil || target != "../uuid/dist/bin/uuid" {
				t.Errorf("oras pull: node_modules/.bin/uuid = %q, %v", target, err)
			}
		})
	}
}
