package standalone

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aetherengine/aether/controlplane/auth"
	"github.com/aetherengine/aether/controlplane/config"
	"github.com/aetherengine/aether/controlplane/store"
	"github.com/aetherengine/aether/controlplane/store/sqlite"
	"github.com/aetherengine/aether/pkg/api"
)

// TestConfig: up owns the address, database, runtime, state and key; the
// environment cannot redirect them, and adds registries after the local one.
func TestConfig(t *testing.T) {
	cases := []struct {
		name       string
		env        map[string]string
		registries string
		logLevel   string
	}{
		{name: "defaults", registries: "http://127.0.0.1:5000,http://localhost:5000", logLevel: "info"},
		{name: "env cannot redirect", env: map[string]string{"AETHER_ADDR": "0.0.0.0:1", "AETHER_DATABASE": "postgres://elsewhere/db", "AETHER_RUNTIME": "none", "AETHER_STATE_DIR": "/elsewhere", "AETHER_BOOTSTRAP_ADMIN_KEY": "aek_other_key_0123456789abcdefghijklmnop"},
			registries: "http://127.0.0.1:5000,http://localhost:5000", logLevel: "info"},
		{name: "extra registries and settings", env: map[string]string{"AETHER_REGISTRIES": "ghcr.io", "AETHER_LOG_LEVEL": "debug"},
			registries: "http://127.0.0.1:5000,http://localhost:5000,ghcr.io", logLevel: "debug"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			state := t.TempDir()
			o := Options{StateDir: state, Getenv: func(k string) string { return tc.env[k] }}
			cfg, err := o.config("127.0.0.1:8080", "127.0.0.1:5000", "aek_up_key_0123456789abcdefghijklmnopqrstu")
			if err != nil {
				t.Fatal(err)
			}
			want := config.Config{Addr: "127.0.0.1:8080", Database: "sqlite://" + filepath.Join(state, "aether.db"), Runtime: config.RuntimeLocal,
				StateDir: state, BootstrapAdminKey: "aek_up_key_0123456789abcdefghijklmnopqrstu", Registries: tc.registries, LogLevel: tc.logLevel}
			got := config.Config{Addr: cfg.Addr, Database: cfg.Database, Runtime: cfg.Runtime, StateDir: cfg.StateDir,
				BootstrapAdminKey: cfg.BootstrapAdminKey, Registries: cfg.Registries, LogLevel: cfg.LogLevel}
			if got != want {
				t.Fatalf("config =\n%+v\nwant\n%+v", got, want)
			}
		})
	}
}

func TestEnsureKeyPair(t *testing.T) {
	dir := t.TempDir()
	priv, pub, err := ensureKeyPair(dir)
	if err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(priv)
	if fi, err := os.Stat(priv); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("private key mode: %v %v", fi.Mode(), err)
	}
	// A second start keeps the pair.
	if _, _, err := ensureKeyPair(dir); err != nil {
		t.Fatal(err)
	}
	if after, _ := os.ReadFile(priv); string(after) != string(before) {
		t.Fatal("the key pair was replaced")
	}
	// Half a pair is refused, not silently replaced.
	if err := os.Remove(pub); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ensureKeyPair(dir); err == nil || !strings.Contains(err.Error(), "incomplete") {
		t.Fatalf("half a pair: %v", err)
	}
}

// TestEnsureAdminKey: the kept key is used while it is an active admin
// key; otherwise a new one is stored and kept.
func TestEnsureAdminKey(t *testing.T) {
	cases := []struct {
		name    string
		role    api.Role
		revoked bool
		stored  bool
		same    bool
	}{
		{name: "kept key valid", role: api.RoleAdmin, stored: true, same: true},
		{name: "kept key revoked", role: api.RoleAdmin, stored: true, revoked: true},
		{name: "kept key is not admin", role: api.RoleViewer, stored: true},
		{name: "kept key unknown to the store", role: api.RoleAdmin},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			state := t.TempDir()
			st, err := sqlite.Open(t.Context(), filepath.Join(state, "aether.db"), sqlite.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			secret, err := adminSecret(state)
			if err != nil {
				t.Fatal(err)
			}
			if tc.stored {
				if _, err := st.CreateAPIKey(t.Context(), store.APIKey{APIKey: api.APIKey{ID: "key_kept", Name: "kept", Prefix: auth.Prefix(secret), Role: tc.role, Apps: []string{api.AllApps},
					CreatedBy: "test", CreatedAt: time.Now()}, Hash: auth.Hash(secret)}); err != nil {
					t.Fatal(err)
				}
			}
			if tc.revoked {
				if _, err := st.RevokeAPIKey(t.Context(), "key_kept", time.Now()); err != nil {
					t.Fatal(err)
				}
			}
			got, err := ensureAdminKey(t.Context(), st, state, secret)
			if err != nil {
				t.Fatal(err)
			}
			if (got == secret) != tc.same {
				t.Fatalf("key kept = %v, want %v", got == secret, tc.same)
			}
			k, err := st.GetAPIKeyByHash(t.Context(), auth.Hash(got))
			if err != nil || k.Role != api.RoleAdmin || k.RevokedAt != nil {
				t.Fatalf("the key in use is %+v, %v; want an active admin key", k, err)
			}
			if again, _ := adminSecret(state); again != got {
				t.Fatal("the key in use is not the one kept in the state directory")
			}
		})
	}
}
