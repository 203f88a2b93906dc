package extract

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	xt "github.com/aetherengine/aether/pkg/extract/extracttest"
)

// TestExtractNodeApp extracts a dependency layer and an app layer the way an
// artifact carries them, including node_modules/.bin symlinks, and checks
// the tree a `node` process would see.
func TestExtractNodeApp(t *testing.T) {
	deps := xt.TarGz(
		xt.Dir("node_modules/"),
		xt.Dir("node_modules/.bin/"),
		xt.Symlink("node_modules/.bin/semver", "../semver/bin/semver.js"),
		xt.Symlink("node_modules/.bin/tsc", "../typescript/bin/tsc"),
		xt.Dir("node_modules/semver/"),
		xt.File("node_modules/semver/package.json", `{"name":"semver","bin":{"semver":"bin/semver.js"}}`),
		xt.Entry{Name: "node_modules/semver/bin/semver.js", Body: []byte("#!/usr/bin/env node\n"), Mode: 0o755},
		// Parent directories may be implicit.
		xt.Entry{Name: "node_modules/typescript/bin/tsc", Body: []byte("#!/usr/bin/env node\nrequire('../lib/tsc.js')\n"), Mode: 0o755},
		xt.File("node_modules/typescript/lib/tsc.js", "module.exports = 1\n"),
		// A relative link to a sibling package, as pnpm-like layouts have.
		xt.Symlink("node_modules/typescript/node_modules/semver", "../../semver"),
		xt.Hardlink("node_modules/typescript/lib/tsc-copy.js", "node_modules/typescript/lib/tsc.js"),
		xt.Entry{Name: "./node_modules/readonly/", Type: tar.TypeDir, Mode: 0o555},
		xt.File("node_modules/readonly/index.js", "ro\n"),
	)
	app := xt.TarGz(
		xt.Dir("./"),
		xt.File("package.json", `{"name":"hello","version":"1.0.0"}`),
		xt.File("server.js", "require('http').createServer().listen(process.env.PORT)\n"),
		xt.Dir("src/"),
		xt.File("src/util.js", "module.exports = {}\n"),
		// A later layer may replace an earlier regular file.
		xt.File("node_modules/semver/package.json", `{"name":"semver","patched":true}`),
	)
	for _, destExists := range []bool{false, true} {
		t.Run(map[bool]string{false: "dest-absent", true: "dest-empty"}[destExists], func(t *testing.T) {
			sb := newSandbox(t, destExists)
			var seen []Entry
			st, err := Extract(context.Background(), sb.dest, Options{HashFiles: true, OnEntry: func(e Entry) error {
				seen = append(seen, e)
				return nil
			}}, readers(deps, app)...)
			if err != nil {
				t.Fatal(err)
			}
			if names := sb.list(t); !equalStrings(names, []string{"dest", "sentinel"}) {
				t.Fatalf("parent holds %q, want dest and sentinel only", names)
			}
			wantFiles := map[string]string{
				"node_modules/semver/package.json":                         `{"name":"semver","patched":true}`,
				"node_modules/semver/bin/semver.js":                        "#!/usr/bin/env node\n",
				"node_modules/typescript/lib/tsc-copy.js":                  "module.exports = 1\n",
				"node_modules/.bin/tsc":                                    "#!/usr/bin/env node\nrequire('../lib/tsc.js')\n",
				"node_modules/.bin/semver":                                 "#!/usr/bin/env node\n",
				"node_modules/typescript/node_modules/semver/package.json": `{"name":"semver","patched":true}`,
				"server.js":   "require('http').createServer().listen(process.env.PORT)\n",
				"src/util.js": "module.exports = {}\n",
			}
			for p, want := range wantFiles {
				got, err := os.ReadFile(filepath.Join(sb.dest, p))
				if err != nil || string(got) != want {
					t.Errorf("%s = %q, %v; want %q", p, got, err, want)
				}
			}
			for p, want := range map[string]string{
				"node_modules/.bin/semver":                    "../semver/bin/semver.js",
				"node_modules/typescript/node_modules/semver": "../../semver",
			} {
				if got, err := os.Readlink(filepath.Join(sb.dest, p)); err != nil || got != want {
					t.Errorf("readlink %s = %q, %v; want %q", p, got, err, want)
				}
			}
			for p, want := range map[string]fs.FileMode{
				"node_modules/semver/bin/semver.js": 0o755,
				"server.js":                         0o644,
				"node_modules/readonly":             0o555 | fs.ModeDir,
				".":                                 0o755 | fs.ModeDir,
			} {
				fi, err := os.Lstat(filepath.Join(sb.dest, p))
				if err != nil || fi.Mode() != want {
					t.Errorf("mode of %s = %v, %v; want %v", p, fi.Mode(), err, want)
				}
			}
			a, _ := os.Stat(filepath.Join(sb.dest, "node_modules/typescript/lib/tsc.js"))
			b, _ := os.Stat(filepath.Join(sb.dest, "node_modules/typescript/lib/tsc-copy.js"))
			if !os.SameFile(a, b) {
				t.Error("hardlink was not made as a link to the same file")
			}
			want := Stats{Layers: 2, Entries: 19, Files: 9, Dirs: 10, Symlinks: 3, Hardlinks: 1}
			st.FileBytes, st.StreamBytes = 0, 0
			if st != want {
				t.Errorf("stats = %+v, want %+v", st, want)
			}
			var hashed int
			for _, e := range seen {
				if e.Type == TypeFile {
					body, err := os.ReadFile(filepath.Join(sb.dest, e.Path))
					if err != nil {
						t.Fatal(err)
					}
					if e.Layer == 1 || e.Path != "node_modules/semver/package.json" {
						if sha256.Sum256(body) != e.SHA256 {
							t.Errorf("OnEntry digest of %s does not match its content", e.Path)
						}
					}
					hashed++
				}
			}
			if hashed != 9 {
				t.Errorf("OnEntry saw %d files, want 9", hashed)
			}
		})
	}
}

// TestOnEntryErrorAborts checks that a caller's verification error stops
// the extraction, is returned unchanged, and leaves DEST untouched.
func TestOnEntryErrorAborts(t *testing.T) {
	sb := newSandbox(t, false)
	errBad := errors.New("file digest differs from the config")
	_, err := Extract(context.Background(), sb.dest, Options{OnEntry: func(e Entry) error {
		if e.Path == "b" {
			return errBad
		}
		return nil
	}}, readers(xt.TarGz(xt.File("a", "1"), xt.File("b", "2"), xt.File("c", "3")))...)
	if !errors.Is(err, errBad) {
		t.Fatalf("err = %v, want the OnEntry error", err)
	}
	sb.assertUntouched(t, false)
}

// TestCancel checks that a cancelled context stops the extraction.
func TestCancel(t *testing.T) {
	sb := newSandbox(t, false)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Extract(ctx, sb.dest, Options{}, readers(xt.TarGz(xt.File("a", "1")))...)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	sb.assertUntouched(t, false)
}

// TestDestRefused checks the destinations that cannot receive a tree.
func TestDestRefused(t *testing.T) {
	layer := xt.TarGz(xt.File("a", "1"))
	tests := []struct {
		name  string
		setup func(t *testing.T, dest string)
	}{
		{"not-empty", func(t *testing.T, dest string) {
			must(t, os.Mkdir(dest, 0o755))
			must(t, os.WriteFile(filepath.Join(dest, "old"), nil, 0o644))
		}},
		{"a-file", func(t *testing.T, dest string) { must(t, os.WriteFile(dest, nil, 0o644)) }},
		{"a-symlink", func(t *testing.T, dest string) { must(t, os.Symlink(".", dest)) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sb := newSandbox(t, false)
			tc.setup(t, sb.dest)
			before := sb.list(t)
			_, err := Extract(context.Background(), sb.dest, Options{}, readers(layer)...)
			if !errors.Is(err, ErrDest) {
				t.Fatalf("err = %v, want ErrDest", err)
			}
			if after := sb.list(t); !equalStrings(before, after) {
				t.Fatalf("parent changed from %q to %q", before, after)
			}
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
