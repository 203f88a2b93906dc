package server

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aetherengine/aether/controlplane/config"
	"github.com/aetherengine/aether/controlplane/pgtest"
	"github.com/aetherengine/aether/pkg/api"
	"github.com/aetherengine/aether/pkg/client"
)

const adminKey = "aek_server_test_bootstrap_key_0123456789abcdefgh"

var stores = map[string]func(tb testing.TB) string{
	"sqlite":   func(tb testing.TB) string { return "sqlite://" + filepath.Join(tb.TempDir(), "aether.db") },
	"postgres": func(tb testing.TB) string { return pgtest.NewDatabase(tb) },
}

// serve builds the control plane on database and serves it on 127.0.0.1.
func serve(tb testing.TB, database string) *httptest.Server {
	tb.Helper()
	cfg := config.Defaults()
	cfg.Database = database
	cfg.BootstrapAdminKey = adminKey
	h, err := Build(context.Background(), cfg, Deps{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Notice: io.Discard})
	if err != nil {
		tb.Fatal(err)
	}
	srv := httptest.NewServer(h)
	tb.Cleanup(func() { srv.Close(); h.Store.Close() })
	return srv
}

// TestClientAgainstServer exercises pkg/client against the real server on
// both stores.
func TestClientAgainstServer(t *testing.T) {
	for name, db := range stores {
		t.Run(name, func(t *testing.T) {
			srv := serve(t, db(t))
			ctx := context.Background()
			c, err := client.New(srv.URL, adminKey)
			if err != nil {
				t.Fatal(err)
			}
			me, err := c.Whoami(ctx)
			if err != nil || me.Role != api.RoleAdmin {
				t.Fatalf("whoami = %+v, %v", me, err)
			}
			for i := 0; i < 7; i++ {
				if _, err := c.CreateApp(ctx, api.AppCreate{Name: fmt.Sprintf("app-%d", i)}); err != nil {
					t.Fatal(err)
				}
			}
			p1, err := c.ListApps(ctx, client.ListOptions{Limit: 3})
			if err != nil || len(p1.Items) != 3 || p1.NextCursor == "" {
				t.Fatalf("page 1 = %+v, %v", p1, err)
			}
			all, err := client.All(ctx, 0, c.ListApps)
			if err != nil || len(all) != 7 || all[6].Name != "app-6" {
				t.Fatalf("All = %d apps, %v", len(all), err)
			}
			if _, err := c.GetApp(ctx, "ghost"); !client.IsNotFound(err) {
				t.Fatalf("GetApp(ghost) = %v, want not_found", err)
			}

			pub := publicKeyPEM(t)
			tp, err := c.SetTrustPolicy(ctx, "app-0", api.TrustPolicyUpdate{Keys: []api.TrustedKey{{Name: "team", PEM: pub}}})
			if err != nil || tp.Version != 1 || len(tp.Keys) != 1 || tp.RequiredAttestations[0] != api.AttestationSBOM {
				t.Fatalf("SetTrustPolicy = %+v, %v", tp, err)
			}

			// No registry is allowed in this configuration: the deployment
			// is refused (422) and recorded as failed, with its events.
			digest := "sha256:" + fmt.Sprintf("%064x", 42)
			_, err = c.CreateDeployment(ctx, api.DeploymentCreate{App: "app-0", Artifact: "registry.example/app@" + digest})
			var ae *client.Error
			if !errors.As(err, &ae) || ae.StatusCode != 422 || ae.Code != api.ReasonRegistryNotAllowed || ae.DeploymentID == "" {
				t.Fatalf("CreateDeployment = %v, want a 422 registry_not_allowed naming the deployment", err)
			}
			d, err := c.GetDeployment(ctx, ae.DeploymentID)
			if err != nil || d.Status != api.StatusFailed || d.Reason != api.ReasonRegistryNotAllowed {
				t.Fatalf("refused deployment = %+v, %v", d, err)
			}
			evs, err := c.ListEvents(ctx, d.ID, client.ListOptions{})
			if err != nil || len(evs.Items) != 3 || evs.Items[0].Type != api.EventCreated || evs.Items[2].Status != api.StatusFailed {
				t.Fatalf("events = %+v, %v", evs, err)
			}
			deps, err := c.ListDeployments(ctx, "app-0", client.ListOptions{})
			if err != nil || len(deps.Items) != 1 || deps.Items[0].ID != d.ID {
				t.Fatalf("deployments = %+v, %v", deps, err)
			}

			k, err := c.CreateKey(ctx, api.APIKeyCreate{Name: "v", Role: api.RoleViewer, Apps: []string{"app-1"}})
			if err != nil {
				t.Fatal(err)
			}
			v, _ := client.New(srv.URL, k.Key)
			if _, err := v.CreateApp(ctx, api.AppCreate{Name: "x"}); client.ErrorCode(err) != api.CodeForbidden {
				t.Fatalf("viewer CreateApp = %v", err)
			}
			if _, err := c.RevokeKey(ctx, k.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := v.Whoami(ctx); client.ErrorCode(err) != api.CodeUnauthenticated {
				t.Fatalf("revoked key Whoami = %v", err)
			}
			if err := c.DeleteApp(ctx, "app-0"); err != nil {
				t.Fatal(err)
			}
			if _, err := c.GetDeployment(ctx, d.ID); !client.IsNotFound(err) {
				t.Fatalf("deployment of a deleted app: %v", err)
			}
		})
	}
}

// TestBootstrapOnce: a generated key is printed once, on an empty store only.
func TestBootstrapOnce(t *testing.T) {
	cfg := config.Defaults()
	cfg.Database = "sqlite://" + filepath.Join(t.TempDir(), "aether.db")
	var notice1, notice2 bytes.Buffer
	for i, n := range []*bytes.Buffer{&notice1, &notice2} {
		h, err := Build(context.Background(), cfg, Deps{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Notice: n})
		if err != nil {
			t.Fatalf("start %d: %v", i, err)
		}
		h.Store.Close()
	}
	if !strings.Contains(notice1.String(), "aek_") || strings.Contains(notice2.String(), "aek_") {
		t.Fatalf("first notice %q, second %q", notice1.String(), notice2.String())
	}
}

func publicKeyPEM(t *testing.T) string {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}
