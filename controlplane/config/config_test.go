package config

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestResolvePrecedence(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "cp.yaml")
	if err := os.WriteFile(file, []byte("addr: 127.0.0.1:7000\ndatabase: sqlite:///from/file.db\nlog_level: debug\nshutdown_timeout: 5s\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"AETHER_DATABASE": "postgres://env@127.0.0.1/db", "AETHER_LOG_LEVEL": "warn", "AETHER_BOOTSTRAP_ADMIN_KEY": "k-from-env"}
	getenv := func(k string) string { return env[k] }
	tests := []struct {
		name  string
		file  string
		flags map[string]string
		check func(c Config) string
	}{
		{"defaults", "", nil, func(c Config) string {
			if c.Addr != "127.0.0.1:8080" || c.Database != "postgres://env@127.0.0.1/db" || c.LogLevel != "warn" {
				return "defaults + env wrong"
			}
			return ""
		}},
		{"file under env", file, nil, func(c Config) string {
			if c.Addr != "127.0.0.1:7000" || c.Database != "postgres://env@127.0.0.1/db" || c.LogLevel != "warn" || time.Duration(c.ShutdownTimeout) != 5*time.Second {
				return "file/env precedence wrong"
			}
			return ""
		}},
		{"flags over all", file, map[string]string{"addr": "0.0.0.0:9", "database": "sqlite:///flag.db", "bootstrap-admin-key": "ignored"}, func(c Config) string {
			if c.Addr != "0.0.0.0:9" || c.Database != "sqlite:///flag.db" || c.BootstrapAdminKey != "k-from-env" {
				return "flag precedence wrong (or a secret taken from a flag)"
			}
			return ""
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Resolve(tt.file, getenv, tt.flags)
			if err != nil {
				t.Fatal(err)
			}
			if msg := tt.check(c); msg != "" {
				t.Fatalf("%s: %+v", msg, c)
			}
		})
	}
}

func TestResolveRejects(t *testing.T) {
	dir := t.TempDir()
	unknown := filepath.Join(dir, "unknown.yaml")
	os.WriteFile(unknown, []byte("adr: typo\n"), 0o600)
	none := func(string) string { return "" }
	tests := []struct {
		name  string
		file  string
		flags map[string]string
	}{
		{"unknown file key", unknown, nil},
		{"missing file", filepath.Join(dir, "nope.yaml"), nil},
		{"bad database scheme", "", map[string]string{"database": "mysql://x"}},
		{"empty sqlite path", "", map[string]string{"database": "sqlite://"}},
		{"bad level", "", map[string]string{"log-level": "loud"}},
		{"bad duration", "", map[string]string{"shutdown-timeout": "soon"}},
		{"tiny body", "", map[string]string{"max-body-bytes": "10"}},
		{"registry with a path", "", map[string]string{"registries": "ghcr.io/acme"}},
		{"registry time-out past the write time-out", "", map[string]string{"registry-timeout": "2m"}},
		{"no referrers", "", map[string]string{"max-referrers": "0"}},
		{"negative cache TTL", "", map[string]string{"verification-cache-ttl": "-1s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Resolve(tt.file, none, tt.flags); err == nil {
				t.Fatal("Resolve accepted it")
			}
		})
	}
}

func TestParseDatabase(t *testing.T) {
	tests := []struct{ in, kind, target string }{
		{"sqlite:///var/lib/aether/aether.db", SQLite, "/var/lib/aether/aether.db"},
		{"sqlite://rel/aether.db", SQLite, "rel/aether.db"},
		{"postgres://u@h/db", Postgres, "postgres://u@h/db"},
		{"postgresql://u@h/db", Postgres, "postgresql://u@h/db"},
	}
	for _, tt := range tests {
		k, tg, err := ParseDatabase(tt.in)
		if err != nil || k != tt.kind || tg != tt.target {
			t.Errorf("ParseDatabase(%q) = %q, %q, %v", tt.in, k, tg, err)
		}
	}
}

func TestDefaultDatabaseUnderXDGDataDir(t *testing.T) {
	t.Setenv("XDG_DATA_HOME", "/x/data")
	if got := DataDir(); got != "/x/data/aether" {
		t.Fatalf("DataDir = %q", got)
	}
	c, err := Resolve("", func(string) string { return "" }, nil)
	if err != nil || c.Database != "sqlite:///x/data/aether/aether.db" {
		t.Fatalf("default database = %q, %v", c.Database, err)
	}
}

func TestAdmissionSettings(t *testing.T) {
	env := map[string]string{"AETHER_REGISTRIES": "ghcr.io,*.corp.example", "AETHER_REGISTRY_TIMEOUT": "10s"}
	c, err := Resolve("", func(k string) string { return env[k] }, map[string]string{"max-referrers": "32", "verification-cache-ttl": "0"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Registries != "ghcr.io,*.corp.example" || time.Duration(c.RegistryTimeout) != 10*time.Second || c.MaxReferrers != 32 || c.VerificationCacheTTL != 0 {
		t.Fatalf("config = %+v", c)
	}
	d := Defaults()
	if d.Registries != "" || time.Duration(d.RegistryTimeout) != 30*time.Second || d.MaxReferrers != 256 || time.Duration(d.VerificationCacheTTL) != time.Hour {
		t.Fatalf("defaults = %+v", d)
	}
}
