// Package regtest starts real OCI registries on 127.0.0.1 for tests:
//
//   - InProcess: go-containerregistry's registry with the OCI 1.1 referrers
//     API enabled (the referrers API path);
//   - Distribution: the `distribution` registry v3 binary (built once with
//     `go install`), which has no referrers API (the tag-schema fallback path).
//
// Both sit behind a small recording proxy, so a test can see which requests
// reached the registry (for example: a re-push uploads no blob).
package regtest

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aetherengine/aether/internal/testtools"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
)

// Kinds of registry.
const (
	KindInProcess    = "ggcr-referrers-api"
	KindDistribution = "distribution-fallback"
)

// Registry is a running registry reachable at Host over plain HTTP.
type Registry struct {
	// Kind is KindInProcess or KindDistribution.
	Kind string
	// Host is "127.0.0.1:PORT" (use it as the registry part of a reference).
	Host string
	// ReferrersAPI reports whether the registry serves the referrers API.
	ReferrersAPI bool

	mu   sync.Mutex
	reqs []Request
}

// Request is one request the registry received.
type Request struct {
	Method string
	Path   string
	Status int
}

// Requests returns the requests received so far.
func (r *Registry) Requests() []Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Request(nil), r.reqs...)
}

// ResetRequests forgets the recorded requests.
func (r *Registry) ResetRequests() {
	r.mu.Lock()
	r.reqs = nil
	r.mu.Unlock()
}

// BlobUploads counts upload sessions started (POST .../blobs/uploads/) since
// the last reset; cross-repository mounts count too.
func (r *Registry) BlobUploads() int {
	n := 0
	for _, q := range r.Requests() {
		if q.Method == http.MethodPost && strings.Contains(q.Path, "/blobs/uploads") {
			n++
		}
	}
	return n
}

// Ref returns HOST/repo.
func (r *Registry) Ref(repo string) string { return r.Host + "/" + repo }

// All starts one registry of each kind, for table-driven tests that must
// pass on both referrers paths.
func All(t testing.TB) []*Registry {
	t.Helper()
	return []*Registry{InProcess(t), Distribution(t)}
}

// InProcess starts go-containerregistry's registry with the referrers API on.
func InProcess(t testing.TB) *Registry {
	t.Helper()
	r := &Registry{Kind: KindInProcess, ReferrersAPI: true}
	h := ggcrregistry.New(ggcrregistry.WithReferrersSupport(true), ggcrregistry.Logger(discardLogger()))
	srv := httptest.NewServer(r.record(h))
	t.Cleanup(srv.Close)
	r.Host = strings.TrimPrefix(srv.URL, "http://")
	return r
}

// Distribution starts the distribution registry binary with filesystem
// storage in a temporary directory. It is killed when the test ends (and,
// through Pdeathsig, when the test process dies).
func Distribution(t testing.TB) *Registry {
	t.Helper()
	bin := testtools.Require(t, testtools.Distribution)
	dir := t.TempDir()
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		addr, err := freeAddr()
		if err != nil {
			t.Fatal(err)
		}
		cfg := filepath.Join(dir, "config.yml")
		conf := fmt.Sprintf(`version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
http:
  addr: %s
`, filepath.Join(dir, "data"), addr)
		if err := os.WriteFile(cfg, []byte(conf), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin, "serve", cfg)
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		logf, err := os.Create(filepath.Join(dir, "registry.log"))
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stdout, cmd.Stderr = logf, logf
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan struct{})
		go func() { _ = cmd.Wait(); close(exited) }()
		if err := waitReady(addr, exited); err != nil {
			_ = cmd.Process.Kill()
			<-exited
			logf.Close()
			out, _ := os.ReadFile(filepath.Join(dir, "registry.log"))
			lastErr = fmt.Errorf("%v\n%s", err, out)
			continue
		}
		t.Cleanup(func() {
			_ = cmd.Process.Kill()
			<-exited
			logf.Close()
		})
		target, _ := url.Parse("http://" + addr)
		r := &Registry{Kind: KindDistribution}
		proxy := httputil.NewSingleHostReverseProxy(target)
		proxy.ErrorLog = nil
		srv := httptest.NewServer(r.record(proxy))
		t.Cleanup(srv.Close)
		r.Host = strings.TrimPrefix(srv.URL, "http://")
		return r
	}
	t.Fatalf("distribution registry did not start: %v", lastErr)
	return nil
}

func (r *Registry) record(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(sw, req)
		r.mu.Lock()
		r.reqs = append(r.reqs, Request{Method: req.Method, Path: req.URL.Path, Status: sw.status})
		r.mu.Unlock()
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func waitReady(addr string, exited <-chan struct{}) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/v2/", nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-exited:
			return fmt.Errorf("registry exited before it was ready")
		case <-ctx.Done():
			return fmt.Errorf("registry at %s not ready after 30s: %v", addr, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func discardLogger() *log.Logger { return log.New(io.Discard, "", 0) }
