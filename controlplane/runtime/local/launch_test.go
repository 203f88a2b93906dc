package local

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestResolveCommand(t *testing.T) {
	app := t.TempDir()
	bin := filepath.Join(app, "node_modules", ".bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bin, "next"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	node, nodeErr := nodePath("")
	cases := []struct {
		name    string
		command []string
		want    []string
		err     string
		needs   bool // needs node installed
	}{
		{name: "node", command: []string{"node", "server.js"}, want: []string{node, "server.js"}, needs: true},
		{name: "node as an image path", command: []string{"/usr/local/bin/node", "server.js"}, want: []string{node, "server.js"}, needs: true},
		{name: "package binary", command: []string{"next", "start"}, want: []string{filepath.Join(bin, "next"), "start"}},
		{name: "script in the app", command: []string{"./bin/start"}, want: []string{filepath.Join(app, "bin/start")}},
		{name: "absolute", command: []string{"/bin/true"}, want: []string{"/bin/true"}},
		{name: "escapes the app", command: []string{"../../etc/evil"}, err: "points outside the app"},
		{name: "empty", command: nil, err: "no start command"},
		{name: "unknown binary", command: []string{"no-such-binary-anywhere"}, err: "not found"},
		{name: "NUL", command: []string{"node", "a\x00b"}, err: "NUL"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.needs && nodeErr != nil {
				t.Skipf("skipping: %v", nodeErr)
			}
			got, err := resolveCommand(tc.command, app, "")
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || !slices.Equal(got, tc.want) {
				t.Fatalf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

// TestBuildEnv: the app gets its own env, PATH with node_modules/.bin
// first, NODE_ENV=production by default, and nothing of the server's own
// settings or secrets.
func TestBuildEnv(t *testing.T) {
	t.Setenv("AETHER_BOOTSTRAP_ADMIN_KEY", "aek_secret")
	t.Setenv("COSIGN_PASSWORD", "hunter2")
	t.Setenv("HOME", "/home/dev")
	t.Setenv("LC_ALL", "C.UTF-8")
	cases := []struct {
		name    string
		env     map[string]string
		want    map[string]string
		absent  []string
		ignored []string
	}{
		{name: "defaults", want: map[string]string{"NODE_ENV": "production", "HOME": "/home/dev", "LC_ALL": "C.UTF-8"},
			absent: []string{"AETHER_BOOTSTRAP_ADMIN_KEY", "COSIGN_PASSWORD", "PORT"}},
		{name: "app env wins over defaults", env: map[string]string{"NODE_ENV": "staging", "DB": "postgres://db"},
			want: map[string]string{"NODE_ENV": "staging", "DB": "postgres://db"}},
		{name: "reserved names ignored", env: map[string]string{"PORT": "1", "PATH": "/evil"}, ignored: []string{"PATH", "PORT"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, ignored := buildEnv("/srv/app", tc.env)
			got := map[string]string{}
			for _, kv := range out {
				k, v, _ := strings.Cut(kv, "=")
				got[k] = v
			}
			if !strings.HasPrefix(got["PATH"], "/srv/app/node_modules/.bin:") {
				t.Errorf("PATH = %q", got["PATH"])
			}
			for k, v := range tc.want {
				if got[k] != v {
					t.Errorf("%s = %q, want %q", k, got[k], v)
				}
			}
			for _, k := range tc.absent {
				if _, ok := got[k]; ok {
					t.Errorf("%s leaked into the app's env", k)
				}
			}
			if !slices.Equal(ignored, tc.ignored) {
				t.Errorf("ignored = %q, want %q", ignored, tc.ignored)
			}
		})
	}
}
