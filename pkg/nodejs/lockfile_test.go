package nodejs

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// lockJSON builds a lockfile of the given version around a `packages` body.
func lockJSON(version int, packages string) []byte {
	return []byte(fmt.Sprintf(`{"name":"app","version":"1.0.0","lockfileVersion":%d,"requires":true,"packages":{%s}}`, version, packages))
}

const rootEntry = `"": {"name": "app", "version": "1.0.0", "license": "MIT", "dependencies": {"a": "^1"}}`

func TestParseLockfile(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		// wantErr is a substring of the error; "" means success.
		wantErr         string
		wantUnsupported bool
		check           func(t *testing.T, l *Lockfile)
	}{
		{
			name: "v3 minimal",
			data: lockJSON(3, rootEntry+`, "node_modules/a": {"version": "1.2.3", "integrity": "sha512-AAAA", "license": "ISC"}`),
			check: func(t *testing.T, l *Lockfile) {
				a := l.Packages["node_modules/a"]
				if l.LockfileVersion != 3 || l.Name != "app" || l.Version != "1.0.0" {
					t.Errorf("header = %d %q %q", l.LockfileVersion, l.Name, l.Version)
				}
				if a.Version != "1.2.3" || a.Integrity != "sha512-AAAA" || a.License != "ISC" {
					t.Errorf("entry = %+v", a)
				}
				if got := l.Packages[""].Dependencies["a"]; got != "^1" {
					t.Errorf("root dependency a = %q", got)
				}
			},
		},
		{
			name: "v2 keeps the v1 section and ignores it",
			data: []byte(`{"name":"app","lockfileVersion":2,"packages":{` + rootEntry + `,"node_modules/a":{"version":"1.0.0"}},"dependencies":{"a":{"version":"1.0.0","requires":{"x":"1"}}}}`),
			check: func(t *testing.T, l *Lockfile) {
				if got := l.Production(); !slices.Equal(got, []string{"node_modules/a"}) {
					t.Errorf("Production = %v", got)
				}
			},
		},
		{
			name: "name and version fall back to the root entry",
			data: []byte(`{"lockfileVersion":3,"packages":{"":{"name":"from-root","version":"2.0.0"}}}`),
			check: func(t *testing.T, l *Lockfile) {
				if l.Name != "from-root" || l.Version != "2.0.0" || l.PackageName("") != "from-root" {
					t.Errorf("got %q %q", l.Name, l.Version)
				}
			},
		},
		{
			name: "aliases and scoped packages",
			data: lockJSON(3, rootEntry+`,
				"node_modules/legacy": {"name": "lodash", "version": "3.10.1"},
				"node_modules/@types/node": {"version": "20.0.0"},
				"node_modules/a/node_modules/@s/b": {"version": "1.0.0"},
				"node_modules/@s/c/node_modules/d": {"version": "1.0.0"}`),
			check: func(t *testing.T, l *Lockfile) {
				for path, want := range map[string]string{
					"node_modules/legacy":              "lodash",
					"node_modules/@types/node":         "@types/node",
					"node_modules/a/node_modules/@s/b": "@s/b",
					"node_modules/@s/c/node_modules/d": "d",
					"":                                 "app",
				} {
					if got := l.PackageName(path); got != want {
						t.Errorf("PackageName(%q) = %q, want %q", path, got, want)
					}
				}
			},
		},
		{
			name: "dev, optional, devOptional, peer and bundled packages",
			data: lockJSON(3, rootEntry+`,
				"node_modules/prod": {"version": "1.0.0"},
				"node_modules/dev": {"version": "1.0.0", "dev": true},
				"node_modules/opt": {"version": "1.0.0", "optional": true, "os": ["darwin"]},
				"node_modules/devopt": {"version": "1.0.0", "devOptional": true},
				"node_modules/devandopt": {"version": "1.0.0", "dev": true, "optional": true},
				"node_modules/peer": {"version": "1.0.0", "peer": true},
				"node_modules/prod/node_modules/bundled": {"version": "1.0.0", "inBundle": true},
				"node_modules/dev/node_modules/nested": {"version": "1.0.0", "dev": true}`),
			check: func(t *testing.T, l *Lockfile) {
				want := []string{"node_modules/devopt", "node_modules/opt", "node_modules/peer", "node_modules/prod", "node_modules/prod/node_modules/bundled"}
				if got := l.Production(); !slices.Equal(got, want) {
					t.Errorf("Production =\n %v\nwant\n %v", got, want)
				}
				if o := l.Packages["node_modules/opt"]; !o.Optional || !slices.Equal(o.OS, []string{"darwin"}) {
					t.Errorf("opt = %+v", o)
				}
				if !l.Packages["node_modules/prod/node_modules/bundled"].InBundle || !l.Packages["node_modules/peer"].Peer || !l.Packages["node_modules/devopt"].DevOptional {
					t.Error("flags not parsed")
				}
			},
		},
		{
			name: "license in every historical form",
			data: lockJSON(3, rootEntry+`,
				"node_modules/str": {"license": " MIT "},
				"node_modules/obj": {"license": {"type": "BSD-3-Clause", "url": "x"}},
				"node_modules/arr": {"license": [{"type": "MIT"}, {"type": "Apache-2.0"}]},
				"node_modules/arr1": {"license": [{"type": "ISC"}]},
				"node_modules/mixed": {"license": ["MIT", {"name": "GPL-2.0 OR MIT"}]},
				"node_modules/odd": {"license": 42},
				"node_modules/none": {"license": null}`),
			check: func(t *testing.T, l *Lockfile) {
				for path, want := range map[string]string{
					"node_modules/str":   "MIT",
					"node_modules/obj":   "BSD-3-Clause",
					"node_modules/arr":   "(MIT OR Apache-2.0)",
					"node_modules/arr1":  "ISC",
					"node_modules/mixed": "(MIT OR (GPL-2.0 OR MIT))",
					"node_modules/odd":   "",
					"node_modules/none":  "",
				} {
					if got := l.Packages[path].License; got != want {
						t.Errorf("%s: license %q, want %q", path, got, want)
					}
				}
			},
		},
		{
			name: "os as a single string",
			data: lockJSON(3, rootEntry+`, "node_modules/a": {"os": "linux", "cpu": ["x64"]}`),
			check: func(t *testing.T, l *Lockfile) {
				if a := l.Packages["node_modules/a"]; !slices.Equal(a.OS, []string{"linux"}) || !slices.Equal(a.CPU, []string{"x64"}) {
					t.Errorf("os/cpu = %v %v", a.OS, a.CPU)
				}
			},
		},
		{name: "v1 rejected", data: []byte(`{"name":"app","lockfileVersion":1,"dependencies":{}}`), wantErr: "npm install --package-lock-only", wantUnsupported: true},
		{name: "future version rejected", data: lockJSON(4, rootEntry), wantErr: "lockfileVersion 4 is newer", wantUnsupported: true},
		{name: "no lockfileVersion", data: []byte(`{"packages":{}}`), wantErr: "no lockfileVersion"},
		{name: "v3 without packages", data: []byte(`{"lockfileVersion":3}`), wantErr: "no `packages` map"},
		{name: "root workspaces", data: lockJSON(3, `"": {"name": "app", "workspaces": ["packages/*"]}`), wantErr: "workspaces are not supported yet", wantUnsupported: true},
		{name: "root workspaces object form", data: lockJSON(3, `"": {"name": "app", "workspaces": {"packages": ["a"]}}`), wantErr: "workspaces are not supported yet", wantUnsupported: true},
		{name: "workspace link", data: lockJSON(3, rootEntry+`, "node_modules/w": {"resolved": "packages/w", "link": true}`), wantErr: "workspaces are not supported yet", wantUnsupported: true},
		{name: "workspace folder", data: lockJSON(3, rootEntry+`, "packages/w": {"name": "w", "version": "1.0.0"}`), wantErr: "outside node_modules", wantUnsupported: true},
		{name: "file: dependency link", data: lockJSON(3, rootEntry+`, "node_modules/lib": {"resolved": "../lib", "link": true}`), wantErr: "is a link to \"../lib\"", wantUnsupported: true},
		{name: "dot-dot path", data: lockJSON(3, rootEntry+`, "node_modules/../../etc": {}`), wantErr: "not clean"},
		{name: "absolute path", data: lockJSON(3, rootEntry+`, "/etc/passwd": {}`), wantErr: "absolute"},
		{name: "backslash path", data: lockJSON(3, rootEntry+`, "node_modules\\a": {}`), wantErr: "backslash"},
		{name: "empty segment", data: lockJSON(3, rootEntry+`, "node_modules//a": {}`), wantErr: "not clean"},
		{name: "scope without name", data: lockJSON(3, rootEntry+`, "node_modules/@s": {}`), wantErr: "no package name"},
		{name: "dangling node_modules", data: lockJSON(3, rootEntry+`, "node_modules/a/node_modules": {}`), wantErr: "not a node_modules path"},
		{name: "dot folder", data: lockJSON(3, rootEntry+`, "node_modules/.bin": {}`), wantErr: "starts with a dot"},
		{name: "garbage", data: []byte(`{"lockfileVersion": 3, "packages": {`), wantErr: "line 1"},
		{name: "not an object", data: []byte(`[1,2]`), wantErr: "expected a JSON object"},
		{name: "trailing data", data: append(lockJSON(3, rootEntry), []byte(` {}`)...), wantErr: "after the top-level object"},
		{name: "wrong type", data: lockJSON(3, rootEntry+`, "node_modules/a": {"version": 1}`), wantErr: `packages["node_modules/a"]`},
		{name: "wrong dependencies type", data: lockJSON(3, rootEntry+`, "node_modules/a": {"dependencies": ["b"]}`), wantErr: "node_modules/a"},
		{name: "error position", data: []byte("{\n\"lockfileVersion\": 3,\n\"packages\": {\n  \"\": {\"name\": x}}}"), wantErr: "line 4, column 16"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := ParseLockfile(tt.data)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("ParseLockfile: %v", err)
				}
				tt.check(t, l)
				return
			}
			if err == nil {
				t.Fatalf("ParseLockfile succeeded, want error containing %q", tt.wantErr)
			}
			t.Logf("error: %v", err)
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q does not contain %q", err, tt.wantErr)
			}
			if got := errors.Is(err, ErrUnsupportedLockfile); got != tt.wantUnsupported {
				t.Errorf("errors.Is(ErrUnsupportedLockfile) = %v, want %v (%v)", got, tt.wantUnsupported, err)
			}
		})
	}
}

func TestParseLockfileBounds(t *testing.T) {
	t.Run("oversized input", func(t *testing.T) {
		data := bytes.Repeat([]byte(" "), MaxLockfileBytes+1)
		if _, err := ParseLockfile(data); err == nil || !strings.Contains(err.Error(), "limit") {
			t.Fatalf("err = %v, want a size-limit error", err)
		}
	})
	t.Run("too many packages", func(t *testing.T) {
		var b strings.Builder
		b.WriteString(`{"lockfileVersion":3,"packages":{"":{}`)
		for i := range MaxLockfilePackages + 1 {
			fmt.Fprintf(&b, `,"node_modules/p%d":{}`, i)
		}
		b.WriteString(`}}`)
		if _, err := ParseLockfile([]byte(b.String())); err == nil || !strings.Contains(err.Error(), "more than") {
			t.Fatalf("err = %v, want a package-count error", err)
		}
	})
	t.Run("at the package bound", func(t *testing.T) {
		var b strings.Builder
		b.WriteString(`{"lockfileVersion":3,"packages":{"":{}`)
		for i := range MaxLockfilePackages - 1 {
			fmt.Fprintf(&b, `,"node_modules/p%d":{}`, i)
		}
		b.WriteString(`}}`)
		l, err := ParseLockfile([]byte(b.String()))
		if err != nil {
			t.Fatal(err)
		}
		if len(l.Packages) != MaxLockfilePackages {
			t.Fatalf("%d packages", len(l.Packages))
		}
	})
}

func TestResolve(t *testing.T) {
	l, err := ParseLockfile(lockJSON(3, rootEntry+`,
		"node_modules/a": {},
		"node_modules/c": {},
		"node_modules/@s/x": {},
		"node_modules/a/node_modules/b": {},
		"node_modules/a/node_modules/c": {},
		"node_modules/a/node_modules/b/node_modules/c": {},
		"node_modules/@s/y": {},
		"node_modules/@s/y/node_modules/c": {},
		"node_modules/@s/y/node_modules/@t/z": {}`))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		from, dep, want string
	}{
		{"", "a", "node_modules/a"},
		{"", "b", ""},
		{"", "@s/x", "node_modules/@s/x"},
		{"node_modules/a/node_modules/b", "c", "node_modules/a/node_modules/b/node_modules/c"},
		{"node_modules/a", "c", "node_modules/a/node_modules/c"},
		{"node_modules/a/node_modules/b", "a", "node_modules/a"},
		{"node_modules/a/node_modules/c", "b", "node_modules/a/node_modules/b"},
		{"node_modules/c", "b", ""},
		{"node_modules/@s/y", "c", "node_modules/@s/y/node_modules/c"},
		{"node_modules/@s/y/node_modules/@t/z", "c", "node_modules/@s/y/node_modules/c"},
		{"node_modules/@s/y/node_modules/@t/z", "@s/x", "node_modules/@s/x"},
		{"node_modules/@s/x", "@t/z", ""},
		{"node_modules/a", "", ""},
	}
	for _, tt := range tests {
		got, ok := l.Resolve(tt.from, tt.dep)
		if got != tt.want || ok != (tt.want != "") {
			t.Errorf("Resolve(%q, %q) = %q, %v; want %q", tt.from, tt.dep, got, ok, tt.want)
		}
	}
}

// readLines reads a testdata file of one item per line.
func readLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	s := bufio.NewScanner(f)
	for s.Scan() {
		if line := strings.TrimSpace(s.Text()); line != "" {
			lines = append(lines, line)
		}
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}

func readLockfile(t *testing.T, dir string) *Lockfile {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "lockfile", dir, "package-lock.json"))
	if err != nil {
		t.Fatal(err)
	}
	l, err := ParseLockfile(data)
	if err != nil {
		t.Fatalf("%s: %v", dir, err)
	}
	return l
}

// TestRealLockfiles compares the parser with what npm installed and what
// Node resolved for a lockfile npm wrote (see testdata/lockfile/README.md).
func TestRealLockfiles(t *testing.T) {
	installed := readLines(t, "testdata/lockfile/npm-v3/npm-ci-omit-dev.txt")
	var pkgJSON struct{ Name, Version string }
	b, err := os.ReadFile("testdata/lockfile/npm-v3/package.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &pkgJSON); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		dir     string
		version int
	}{{"npm-v3", 3}, {"npm-v2", 2}} {
		t.Run(tt.dir, func(t *testing.T) {
			l := readLockfile(t, tt.dir)
			if l.LockfileVersion != tt.version || l.Name != pkgJSON.Name || l.Version != pkgJSON.Version {
				t.Errorf("header %d %q %q, want %d %q %q", l.LockfileVersion, l.Name, l.Version, tt.version, pkgJSON.Name, pkgJSON.Version)
			}
			prod := l.Production()
			// Everything npm installed is production; what it did not
			// install is an optional package for another platform.
			for _, p := range installed {
				if !slices.Contains(prod, p) {
					t.Errorf("npm installed %s, Production misses it", p)
				}
			}
			for _, p := range prod {
				if slices.Contains(installed, p) {
					continue
				}
				pkg := l.Packages[p]
				if !pkg.Optional || len(pkg.OS) == 0 || slices.Contains(pkg.OS, runtime.GOOS) {
					t.Errorf("Production has %s (%+v), which npm ci --omit=dev did not install", p, pkg)
				}
			}
			for p, pkg := range l.Packages {
				if pkg.Dev && slices.Contains(installed, p) {
					t.Errorf("%s is marked dev but npm installed it", p)
				}
			}
		})
	}
	t.Run("v1 rejected", func(t *testing.T) {
		data, err := os.ReadFile("testdata/lockfile/npm-v1/package-lock.json")
		if err != nil {
			t.Fatal(err)
		}
		_, err = ParseLockfile(data)
		if !errors.Is(err, ErrUnsupportedLockfile) || !strings.Contains(err.Error(), "npm >= 7") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("v2 and v3 agree", func(t *testing.T) {
		v2, v3 := readLockfile(t, "npm-v2"), readLockfile(t, "npm-v3")
		if !slices.Equal(v2.Production(), v3.Production()) {
			t.Error("v2 and v3 Production differ")
		}
		for p := range v3.Packages {
			if !slices.Equal(v2.Edges(p), v3.Edges(p)) {
				t.Errorf("%s: edges differ: %v vs %v", p, v2.Edges(p), v3.Edges(p))
			}
		}
	})
}

// TestResolveMatchesNode checks Resolve and Edges against Node's own module
// lookup in the tree npm installed.
func TestResolveMatchesNode(t *testing.T) {
	l := readLockfile(t, "npm-v3")
	installed := readLines(t, "testdata/lockfile/npm-v3/npm-ci-omit-dev.txt")
	oracle := readLines(t, "testdata/lockfile/npm-v3/node-resolve.txt")
	edges := map[string][]string{}
	for _, line := range oracle {
		f := strings.Fields(line)
		if len(f) != 3 {
			t.Fatalf("bad oracle line %q", line)
		}
		from, dep, want := f[0], f[1], f[2]
		if from == "." {
			from = ""
		}
		edges[from] = append(edges[from], dep)
		got, ok := l.Resolve(from, dep)
		switch {
		case want == "-":
			// Not installed: only acceptable for a platform-specific
			// optional package that the lockfile records.
			if ok && (slices.Contains(installed, got) || !l.Packages[got].Optional) {
				t.Errorf("Resolve(%q, %q) = %q, Node found nothing", from, dep, got)
			}
		case got != want:
			t.Errorf("Resolve(%q, %q) = %q, Node loads %q", from, dep, got, want)
		}
	}
	if len(edges) == 0 {
		t.Fatal("empty oracle")
	}
	for from, names := range edges {
		slices.Sort(names)
		if got := l.Edges(from); !slices.Equal(got, names) {
			t.Errorf("Edges(%q) = %v, package.json says %v", from, got, names)
		}
	}
}
