package clientconfig

import (
	"os"
	"path/filepath"
	"testing"
)

func TestSaveLoadMode0600(t *testing.T) {
	path := filepath.Join(t.TempDir(), "aether", "config.json")
	want := Config{Server: "http://127.0.0.1:8080", APIKey: "aek_secret", Registry: "127.0.0.1:5000"}
	if err := Save(path, want); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode = %v, want 0600", fi.Mode().Perm())
	}
	if di, _ := os.Stat(filepath.Dir(path)); di.Mode().Perm() != 0o700 {
		t.Fatalf("dir mode = %v, want 0700", di.Mode().Perm())
	}
	got, err := Load(path)
	if err != nil || got != want {
		t.Fatalf("Load = %+v, %v", got, err)
	}
	// Overwriting an existing file keeps 0600.
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Save(path, want); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode after rewrite = %v", fi.Mode().Perm())
	}
}

func TestLoadMissingAndBroken(t *testing.T) {
	dir := t.TempDir()
	if c, err := Load(filepath.Join(dir, "none.json")); err != nil || c != (Config{}) {
		t.Fatalf("missing file: %+v, %v", c, err)
	}
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte("{"), 0o600)
	if _, err := Load(bad); err == nil {
		t.Fatal("broken file accepted")
	}
}

func TestResolveOrder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.json")
	if err := Save(path, Config{Server: "http://file", APIKey: "file-key"}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name                string
		flagServer, flagKey string
		env                 map[string]string
		server, key         string
		serverFrom, keyFrom Source
	}{
		{"file only", "", "", nil, "http://file", "file-key", FromFile, FromFile},
		{"env over file", "", "", map[string]string{EnvServer: "http://env", EnvAPIKey: "env-key"}, "http://env", "env-key", FromEnv, FromEnv},
		{"flags over env", "http://flag", "flag-key", map[string]string{EnvServer: "http://env", EnvAPIKey: "env-key"}, "http://flag", "flag-key", FromFlag, FromFlag},
		{"mixed", "http://flag", "", map[string]string{EnvAPIKey: "env-key"}, "http://flag", "env-key", FromFlag, FromEnv},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Resolve(tt.flagServer, tt.flagKey, func(k string) string { return tt.env[k] }, path)
			if err != nil {
				t.Fatal(err)
			}
			if r.Server != tt.server || r.APIKey != tt.key || r.ServerSource != tt.serverFrom || r.KeySource != tt.keyFrom {
				t.Fatalf("Resolve = %+v", r)
			}
		})
	}
}

func TestPathFollowsXDG(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", "/x/cfg")
	if p, err := Path(); err != nil || p != "/x/cfg/aether/config.json" {
		t.Fatalf("Path = %q, %v", p, err)
	}
}
