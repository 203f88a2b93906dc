package registry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"syscall"
	"testing"

	"oras.land/oras-go/v2/registry/remote/errcode"
)

func TestIsLoopback(t *testing.T) {
	for host, want := range map[string]bool{
		"localhost": true, "localhost:5000": true, "127.0.0.1": true, "127.0.0.1:5000": true, "127.1.2.3:80": true,
		"[::1]:5000": true, "::1": true, "ghcr.io": false, "10.0.0.1:5000": false, "localhost.evil.com": false,
	} {
		if got := IsLoopback(host); got != want {
			t.Errorf("IsLoopback(%q) = %v, want %v", host, got, want)
		}
	}
}

func TestParseReference(t *testing.T) {
	if _, err := ParseReference("ghcr.io/acme/api:v1"); err != nil {
		t.Fatal(err)
	}
	_, err := ParseReference("not a reference")
	if err == nil || !strings.Contains(err.Error(), "REGISTRY/REPOSITORY") {
		t.Fatalf("bad reference error = %v, want an example of the form", err)
	}
}

func TestExplain(t *testing.T) {
	resp := func(code int, ecode string) error {
		u, _ := url.Parse("https://r.example/v2/x/manifests/v1")
		return &errcode.ErrorResponse{Method: "PUT", URL: u, StatusCode: code, Errors: errcode.Errors{{Code: ecode, Message: "m"}}}
	}
	tests := []struct {
		err  error
		kind error
		hint string
	}{
		{resp(401, "UNAUTHORIZED"), ErrUnauthorized, "aether login r.example"},
		{resp(403, "DENIED"), ErrUnauthorized, "aether login"},
		{resp(404, "NAME_UNKNOWN"), ErrNotFound, "repository"},
		{resp(400, "MANIFEST_INVALID"), ErrRefused, "OCI 1.1"},
		{resp(415, ""), ErrRefused, "media types"},
		{resp(503, ""), ErrUnreachable, "try again"},
		{fmt.Errorf("dial: %w", syscall.ECONNREFUSED), ErrUnreachable, "running"},
		{errors.New(`Get "https://x": http: server gave HTTP response to HTTPS client`), ErrUnreachable, "--plain-http"},
		{errors.New("x509: certificate signed by unknown authority"), ErrUnreachable, "certificate"},
	}
	for _, tt := range tests {
		err := Explain(tt.err, "r.example")
		if !errors.Is(err, tt.kind) || !strings.Contains(err.Error(), tt.hint) {
			t.Errorf("Explain(%v) = %v; want %v with %q", tt.err, err, tt.kind, tt.hint)
		}
		if !errors.Is(err, tt.err) {
			t.Errorf("Explain(%v) lost the cause", tt.err)
		}
	}
	if err := Explain(context.Canceled, "r"); err != context.Canceled {
		t.Errorf("a cancellation must pass through, got %v", err)
	}
	plain := errors.New("something else")
	if Explain(plain, "r") != plain || Explain(nil, "r") != nil {
		t.Error("unknown errors and nil must pass through unchanged")
	}
}

func TestTransient(t *testing.T) {
	u, _ := url.Parse("https://r.example/v2/")
	for err, want := range map[error]bool{
		&errcode.ErrorResponse{URL: u, StatusCode: 502}:  true,
		&errcode.ErrorResponse{URL: u, StatusCode: 429}:  true,
		&errcode.ErrorResponse{URL: u, StatusCode: 401}:  false,
		fmt.Errorf("write: %w", syscall.ECONNRESET):      true,
		errors.New("read tcp: connection reset by peer"): true,
		errors.New("unexpected EOF"):                     true,
		context.Canceled:                                 false,
		errors.New("manifest invalid"):                   false,
	} {
		if got := Transient(err); got != want {
			t.Errorf("Transient(%v) = %v, want %v", err, got, want)
		}
	}
}

// TestLogsNeverCarrySecrets: the debug transport logs method, URL and
// status, never headers or query values.
func TestLogsNeverCarrySecrets(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	var logs strings.Builder
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, err := NewClient(Options{Log: log, DockerConfig: t.TempDir() + "/config.json"})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", srv.URL+"/v2/x/blobs/uploads/abc?_state=SECRETSTATE&digest=sha256:1", nil)
	req.Header.Set("Authorization", "Bearer SECRETTOKEN")
	resp, err := c.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	out := logs.String()
	if !strings.Contains(out, "/v2/x/blobs/uploads/abc") || !strings.Contains(out, "status=200") {
		t.Fatalf("request not logged: %s", out)
	}
	if strings.Contains(out, "SECRET") {
		t.Fatalf("a secret reached the log: %s", out)
	}
}
