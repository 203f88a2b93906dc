package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/aetherengine/aether/controlplane/apierr"
	"github.com/aetherengine/aether/controlplane/auth"
	"github.com/aetherengine/aether/controlplane/metrics"
	"github.com/aetherengine/aether/controlplane/service"
	"github.com/aetherengine/aether/controlplane/store"
	"github.com/aetherengine/aether/controlplane/store/sqlite"
	"github.com/aetherengine/aether/pkg/api"
)

// fixture is a served API over a real SQLite store with one key per role.
type fixture struct {
	srv   *httptest.Server
	api   *Server
	svc   *service.Service
	store store.Store
	keys  map[string]string // name → secret
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	return newFixtureWith(t, service.Options{})
}

// newFixtureWith serves a service with o's admitter and runtime.
func newFixtureWith(t *testing.T, o service.Options) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "aether.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	reg := prometheus.NewRegistry()
	m := metrics.New(reg)
	o.Store, o.Metrics, o.Log = st, m, log
	svc := service.New(o)
	a, err := New(Options{Service: svc, Auth: auth.Keys{Store: st}, Metrics: m, Gatherer: reg, Log: log, MaxBodyBytes: 4096})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{srv: httptest.NewServer(a), api: a, svc: svc, store: st, keys: map[string]string{}}
	t.Cleanup(f.srv.Close)
	for _, k := range []struct {
		name string
		role api.Role
		apps []string
	}{
		{"admin", api.RoleAdmin, nil},
		{"deployer", api.RoleDeployer, []string{"web"}},
		{"viewer", api.RoleViewer, []string{api.AllApps}},
		{"revoked", api.RoleAdmin, nil},
	} {
		secret, _ := auth.NewSecret()
		if _, err := st.CreateAPIKey(ctx, store.APIKey{APIKey: api.APIKey{ID: "key_" + k.name, Name: k.name, Prefix: auth.Prefix(secret),
			Role: k.role, Apps: k.apps, CreatedBy: "test", CreatedAt: time.Now()}, Hash: auth.Hash(secret)}); err != nil {
			t.Fatal(err)
		}
		f.keys[k.name] = secret
	}
	if _, err := st.RevokeAPIKey(ctx, "key_revoked", time.Now()); err != nil {
		t.Fatal(err)
	}
	for _, app := range []string{"web", "other"} {
		if _, err := st.CreateApp(ctx, api.App{Name: app, Namespace: "default", CreatedBy: "test", CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// do sends a request with the named key ("" for none) and a raw body.
func (f *fixture) do(t *testing.T, method, path, key string, body []byte, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, f.srv.URL+path, r)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+f.keys[key])
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// errorShape decodes the one error shape strictly, failing the test if the
// body is anything else.
func errorShape(t *testing.T, resp *http.Response, body []byte) api.ErrorBody {
	t.Helper()
	var e api.ErrorResponse
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		t.Fatalf("status %d body %q is not the error shape: %v", resp.StatusCode, body, err)
	}
	if e.Error.Code == "" || e.Error.Message == "" || e.Error.RequestID == "" {
		t.Fatalf("error shape incomplete: %+v", e.Error)
	}
	if got := resp.Header.Get(api.RequestIDHeader); got != e.Error.RequestID {
		t.Fatalf("request id header %q != body %q", got, e.Error.RequestID)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Fatalf("error content type = %q", ct)
	}
	return e.Error
}

// errorKindOK reports whether err maps to a 4xx.
func errorKindOK(err error) bool {
	s := statusOf(apierr.From(err).Kind)
	return s >= 400 && s < 500
}
