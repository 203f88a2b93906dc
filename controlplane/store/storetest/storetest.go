// Package storetest is the conformance suite every store.Store passes: the
// SQLite and the PostgreSQL store run the same tests, the way
// go-containerregistry's validate package checks any image.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/aetherengine/aether/controlplane/store"
	"github.com/aetherengine/aether/pkg/api"
)

// Opener returns a fresh, empty, migrated store for one test; it registers
// its own cleanup.
type Opener func(t *testing.T) store.Store

// base is a fixed time with microsecond precision, which both stores keep.
var base = time.Date(2026, 3, 4, 5, 6, 7, 123456000, time.UTC)

// Run runs the conformance suite against the stores open returns.
func Run(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"Apps", testApps},
		{"AppsPagination", testAppsPagination},
		{"TrustPolicy", testTrustPolicy},
		{"Deployments", testDeployments},
		{"DeploymentsPagination", testDeploymentsPagination},
		{"Transitions", testTransitions},
		{"ConcurrentTransitions", testConcurrentTransitions},
		{"Artifacts", testArtifacts},
		{"Events", testEvents},
		{"APIKeys", testAPIKeys},
		{"Bootstrap", testBootstrap},
		{"Audit", testAudit},
		{"DeleteAppCascades", testDeleteAppCascades},
		{"BadCursors", testBadCursors},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if r := recover(); r != nil {
					f, ok := r.(failure)
					if !ok {
						panic(r)
					}
					t.Fatalf("%s: %v", f.where, f.err)
				}
			}()
			s := open(t)
			if err := s.Ping(context.Background()); err != nil {
				t.Fatalf("Ping: %v", err)
			}
			tt.fn(t, s)
		})
	}
}

// failure is a setup step that failed; Run turns it into t.Fatal.
type failure struct {
	where string
	err   error
}

// must returns v, or stops the test when err is set (through a panic that
// Run recovers, because a helper cannot take t next to a call's two results).
func must[T any](v T, err error) T {
	if err != nil {
		_, file, line, _ := runtime.Caller(1)
		panic(failure{fmt.Sprintf("%s:%d", filepath.Base(file), line), err})
	}
	return v
}

// items3 is must for a list call.
func items3[T any](v []T, _ string, err error) []T {
	if err != nil {
		_, file, line, _ := runtime.Caller(1)
		panic(failure{fmt.Sprintf("%s:%d", filepath.Base(file), line), err})
	}
	return v
}

// mustT is must for a transition.
func mustT(_ api.Deployment, _ api.Event, err error) {
	if err != nil {
		_, file, line, _ := runtime.Caller(1)
		panic(failure{fmt.Sprintf("%s:%d", filepath.Base(file), line), err})
	}
}

func wantErr(t *testing.T, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("error = %v, want %v", err, want)
	}
}

func newApp(name string) api.App {
	return api.App{Name: name, Namespace: "default", Env: map[string]string{"NODE_ENV": "production"}, CreatedBy: "key_admin", CreatedAt: base}
}

func testApps(t *testing.T, s store.Store) {
	ctx := context.Background()
	created := must(s.CreateApp(ctx, newApp("web")))
	want := newApp("web")
	want.UpdatedAt = base
	want.Trust = api.TrustPolicy{Keys: []api.TrustedKey{}, RequiredAttestations: []string{}}
	if !reflect.DeepEqual(created, want) {
		t.Fatalf("CreateApp = %+v\nwant %+v", created, want)
	}
	got := must(s.GetApp(ctx, "web"))
	if !reflect.DeepEqual(got, created) {
		t.Fatalf("GetApp = %+v\nwant %+v", got, created)
	}
	_, err := s.CreateApp(ctx, newApp("web"))
	wantErr(t, err, store.ErrConflict)
	_, err = s.GetApp(ctx, "nope")
	wantErr(t, err, store.ErrNotFound)

	ns := "team-a"
	env := map[string]string{"PORT": "8080"}
	later := base.Add(time.Minute)
	upd := must(s.UpdateApp(ctx, "web", store.AppPatch{Namespace: &ns, Env: &env, UpdatedAt: later}))
	if upd.Namespace != ns || !reflect.DeepEqual(upd.Env, env) || !upd.UpdatedAt.Equal(later) || !upd.CreatedAt.Equal(base) {
		t.Fatalf("UpdateApp = %+v", upd)
	}
	kept := must(s.UpdateApp(ctx, "web", store.AppPatch{UpdatedAt: later}))
	if kept.Namespace != ns || !reflect.DeepEqual(kept.Env, env) {
		t.Fatalf("an empty patch changed the app: %+v", kept)
	}
	_, err = s.UpdateApp(ctx, "nope", store.AppPatch{UpdatedAt: later})
	wantErr(t, err, store.ErrNotFound)

	if err := s.DeleteApp(ctx, "web"); err != nil {
		t.Fatal(err)
	}
	_, err = s.GetApp(ctx, "web")
	wantErr(t, err, store.ErrNotFound)
	wantErr(t, s.DeleteApp(ctx, "web"), store.ErrNotFound)
}

func testAppsPagination(t *testing.T, s store.Store) {
	ctx := context.Background()
	var names []string
	for i := 0; i < 7; i++ {
		n := fmt.Sprintf("app-%02d", 7-i) // creation order is not name order
		names = append(names, n)
		must(s.CreateApp(ctx, newApp(n)))
	}
	var got []string
	cursor := ""
	pages := 0
	for {
		items, next, err := s.ListApps(ctx, store.AppFilter{}, store.Page{Limit: 3, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, a := range items {
			got = append(got, a.Name)
		}
		if next == "" {
			break
		}
		if len(items) != 3 {
			t.Fatalf("a page with a next cursor had %d items, want 3", len(items))
		}
		cursor = next
	}
	if !reflect.DeepEqual(got, names) || pages != 3 {
		t.Fatalf("paged listing = %v in %d pages, want %v in 3", got, pages, names)
	}
	// An exact multiple of the limit ends with an empty next cursor.
	items, next, err := s.ListApps(ctx, store.AppFilter{}, store.Page{Limit: 7})
	if err != nil || len(items) != 7 || next != "" {
		t.Fatalf("ListApps(limit 7) = %d items, next %q, %v", len(items), next, err)
	}
	items = items3(s.ListApps(ctx, store.AppFilter{Names: []string{"app-03", "app-05", "ghost"}}, store.Page{}))
	if len(items) != 2 || items[0].Name != "app-05" || items[1].Name != "app-03" {
		t.Fatalf("filtered list = %v", items)
	}
	items = items3(s.ListApps(ctx, store.AppFilter{Names: []string{}}, store.Page{}))
	if len(items) != 0 {
		t.Fatalf("empty scope listed %d apps", len(items))
	}
}

func testTrustPolicy(t *testing.T, s store.Store) {
	ctx := context.Background()
	must(s.CreateApp(ctx, newApp("web")))
	retire := base.Add(30 * 24 * time.Hour)
	p := api.TrustPolicy{
		Keys: []api.TrustedKey{
			{Name: "old", PEM: "-----BEGIN PUBLIC KEY-----\nAAA\n-----END PUBLIC KEY-----\n", RetiresAt: &retire},
			{Name: "new", PEM: "-----BEGIN PUBLIC KEY-----\nBBB\n-----END PUBLIC KEY-----\n"},
		},
		RequiredAttestations: []string{api.AttestationSBOM, api.AttestationProvenance},
		BuilderID:            "https://github.com/actions/runner",
		SourceRepo:           "github.com/acme/web",
	}
	a := must(s.SetTrustPolicy(ctx, "web", p, base.Add(time.Hour)))
	p.Version = 1
	if !reflect.DeepEqual(a.Trust, p) {
		t.Fatalf("trust = %+v\nwant %+v", a.Trust, p)
	}
	if got := must(s.GetApp(ctx, "web")); !reflect.DeepEqual(got.Trust, p) {
		t.Fatalf("stored trust = %+v\nwant %+v", got.Trust, p)
	}
	a = must(s.SetTrustPolicy(ctx, "web", api.TrustPolicy{Keys: p.Keys[1:]}, base.Add(2*time.Hour)))
	if a.Trust.Version != 2 || len(a.Trust.Keys) != 1 || len(a.Trust.RequiredAttestations) != 0 {
		t.Fatalf("second policy = %+v", a.Trust)
	}
	_, err := s.SetTrustPolicy(ctx, "nope", p, base)
	wantErr(t, err, store.ErrNotFound)
}

func testArtifacts(t *testing.T, s store.Store) {
	ctx := context.Background()
	d1 := "sha256:" + fmt.Sprintf("%064x", 1)
	d2 := "sha256:" + fmt.Sprintf("%064x", 2)
	a := must(s.PutArtifact(ctx, api.Artifact{Digest: d1, Size: 1234, MediaType: "application/vnd.oci.image.manifest.v1+json", CreatedAt: base}))
	if a.Verification != nil || a.Size != 1234 || !a.CreatedAt.Equal(base) {
		t.Fatalf("unverified artifact = %+v", a)
	}
	v := api.Verification{KeyID: "team-a", PolicyVersion: 3, SBOMFormat: "CycloneDX 1.6", SBOMComponents: 42,
		ProvenanceBuilder: "https://github.com/actions/runner", ProvenanceSource: "github.com/acme/web", VerifiedAt: base.Add(time.Second)}
	a = must(s.PutArtifact(ctx, api.Artifact{Digest: d1, Size: 1234, Verification: &v, CreatedAt: base.Add(time.Hour)}))
	if a.Verification == nil || !reflect.DeepEqual(*a.Verification, v) || !a.CreatedAt.Equal(base) {
		t.Fatalf("verified artifact = %+v (verification %+v)", a, a.Verification)
	}
	// A later sighting without verification keeps the record.
	a = must(s.PutArtifact(ctx, api.Artifact{Digest: d1, Size: 1234, CreatedAt: base.Add(2 * time.Hour)}))
	if a.Verification == nil || !reflect.DeepEqual(*a.Verification, v) {
		t.Fatalf("verification lost: %+v", a)
	}
	got := must(s.GetArtifact(ctx, d1))
	if !reflect.DeepEqual(got, a) {
		t.Fatalf("GetArtifact = %+v, want %+v", got, a)
	}
	must(s.PutArtifact(ctx, api.Artifact{Digest: d2, Size: 1, CreatedAt: base}))
	items := items3(s.ListArtifacts(ctx, store.Page{}))
	if len(items) != 2 || items[0].Digest != d2 || items[1].Digest != d1 {
		t.Fatalf("ListArtifacts = %+v, want newest first", items)
	}
	_, err := s.GetArtifact(ctx, "sha256:"+fmt.Sprintf("%064x", 3))
	wantErr(t, err, store.ErrNotFound)
}

func newKey(id, hash string, role api.Role, apps ...string) store.APIKey {
	return store.APIKey{APIKey: api.APIKey{ID: id, Name: id + " name", Prefix: "aek_" + id[:4], Role: role, Apps: apps, CreatedBy: "bootstrap", CreatedAt: base}, Hash: hash}
}

func testAPIKeys(t *testing.T, s store.Store) {
	ctx := context.Background()
	k := newKey("key_a", "hash-a", api.RoleDeployer, "web", "api")
	created := must(s.CreateAPIKey(ctx, k))
	if !reflect.DeepEqual(created, k) {
		t.Fatalf("CreateAPIKey = %+v\nwant %+v", created, k)
	}
	if got := must(s.GetAPIKeyByHash(ctx, "hash-a")); !reflect.DeepEqual(got, k) {
		t.Fatalf("GetAPIKeyByHash = %+v", got)
	}
	_, err := s.CreateAPIKey(ctx, newKey("key_b", "hash-a", api.RoleViewer))
	wantErr(t, err, store.ErrConflict)
	_, err = s.CreateAPIKey(ctx, newKey("key_a", "hash-other", api.RoleViewer))
	wantErr(t, err, store.ErrConflict)
	_, err = s.GetAPIKeyByHash(ctx, "hash-nope")
	wantErr(t, err, store.ErrNotFound)

	must(s.CreateAPIKey(ctx, newKey("key_c", "hash-c", api.RoleAdmin)))
	revokedAt := base.Add(time.Hour)
	r := must(s.RevokeAPIKey(ctx, "key_a", revokedAt))
	if r.RevokedAt == nil || !r.RevokedAt.Equal(revokedAt) {
		t.Fatalf("RevokeAPIKey = %+v", r)
	}
	r = must(s.RevokeAPIKey(ctx, "key_a", revokedAt.Add(time.Hour)))
	if !r.RevokedAt.Equal(revokedAt) {
		t.Fatalf("second revoke moved revoked_at to %v", r.RevokedAt)
	}
	if got := must(s.GetAPIKeyByHash(ctx, "hash-a")); got.RevokedAt == nil {
		t.Fatal("a revoked key reads back unrevoked")
	}
	_, err = s.RevokeAPIKey(ctx, "key_nope", revokedAt)
	wantErr(t, err, store.ErrNotFound)
	keys, next, err := s.ListAPIKeys(ctx, store.Page{Limit: 1})
	if err != nil || len(keys) != 1 || keys[0].ID != "key_a" || next == "" {
		t.Fatalf("ListAPIKeys page 1 = %+v, %q, %v", keys, next, err)
	}
	keys, next, err = s.ListAPIKeys(ctx, store.Page{Limit: 1, Cursor: next})
	if err != nil || len(keys) != 1 || keys[0].ID != "key_c" || next != "" {
		t.Fatalf("ListAPIKeys page 2 = %+v, %q, %v", keys, next, err)
	}
}

func testBootstrap(t *testing.T, s store.Store) {
	ctx := context.Background()
	const n = 4
	var wg sync.WaitGroup
	results := make([]bool, n)
	errs := make([]error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			id := fmt.Sprintf("key_boot%d", i)
			results[i], errs[i] = s.CreateBootstrapKey(ctx, newKey(id, "hash-"+id, api.RoleAdmin))
		}(i)
	}
	wg.Wait()
	created := 0
	for i := range results {
		if errs[i] != nil {
			t.Fatalf("CreateBootstrapKey: %v", errs[i])
		}
		if results[i] {
			created++
		}
	}
	if created != 1 {
		t.Fatalf("%d racing bootstraps created a key, want exactly 1", created)
	}
	keys := items3(s.ListAPIKeys(ctx, store.Page{}))
	if len(keys) != 1 || keys[0].Role != api.RoleAdmin {
		t.Fatalf("keys after bootstrap = %+v", keys)
	}
	if ok := must(s.CreateBootstrapKey(ctx, newKey("key_late", "hash-late", api.RoleAdmin))); ok {
		t.Fatal("a second bootstrap created a key")
	}
}

func testAudit(t *testing.T, s store.Store) {
	ctx := context.Background()
	for i := 0; i < 5; i++ {
		e := must(s.AppendAudit(ctx, api.AuditEntry{At: base.Add(time.Duration(i) * time.Second), Actor: "key_a", ActorName: "ci",
			Action: "POST /v1/apps", Target: fmt.Sprintf("/v1/apps/%d", i), Status: 201, Outcome: "ok", RequestID: fmt.Sprintf("req-%d", i)}))
		if e.ID <= 0 || e.Status != 201 || !e.At.Equal(base.Add(time.Duration(i)*time.Second)) {
			t.Fatalf("AppendAudit = %+v", e)
		}
	}
	var ids []string
	cursor := ""
	for {
		items, next, err := s.ListAudit(ctx, store.Page{Limit: 2, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range items {
			ids = append(ids, e.RequestID)
		}
		if next == "" {
			break
		}
		cursor = next
	}
	want := []string{"req-4", "req-3", "req-2", "req-1", "req-0"}
	if !reflect.DeepEqual(ids, want) {
		t.Fatalf("audit = %v, want %v (newest first)", ids, want)
	}
}

func testBadCursors(t *testing.T, s store.Store) {
	ctx := context.Background()
	foreign := store.EncodeCursor("deployments", 1)
	checks := map[string]func(c string) error{
		"apps": func(c string) error {
			_, _, err := s.ListApps(ctx, store.AppFilter{}, store.Page{Cursor: c})
			return err
		},
		"deployments": func(c string) error {
			_, _, err := s.ListDeployments(ctx, store.DeploymentFilter{}, store.Page{Cursor: c})
			return err
		},
		"events":    func(c string) error { _, _, err := s.ListEvents(ctx, "dep_1", store.Page{Cursor: c}); return err },
		"artifacts": func(c string) error { _, _, err := s.ListArtifacts(ctx, store.Page{Cursor: c}); return err },
		"keys":      func(c string) error { _, _, err := s.ListAPIKeys(ctx, store.Page{Cursor: c}); return err },
		"audit":     func(c string) error { _, _, err := s.ListAudit(ctx, store.Page{Cursor: c}); return err },
	}
	for name, list := range checks {
		for _, c := range []string{"garbage!", foreign} {
			if name == "deployments" && c == foreign {
				continue
			}
			if err := list(c); !errors.Is(err, store.ErrInvalidCursor) {
				t.Errorf("%s with cursor %q: error = %v, want ErrInvalidCursor", name, c, err)
			}
		}
	}
}
