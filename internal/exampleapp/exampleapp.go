// Package exampleapp copies the example Node.js apps of examples/ for tests
// and benchmarks, which change them without touching the tree.
package exampleapp

import (
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// Dir returns the absolute path of examples/NAME in this repository.
func Dir(name string) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "examples", name)
}

// CopyTo copies the app at src into dst, leaving out node_modules and
// .aether (what a build adds), and keeping file modes.
func CopyTo(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || d.Name() == ".aether") {
			return filepath.SkipDir
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, info.Mode().Perm())
	})
}

// Copy copies examples/NAME into a new temporary directory of the test
// and returns it.
func Copy(t testing.TB, name string) string {
	t.Helper()
	dst := t.TempDir()
	if err := CopyTo(Dir(name), dst); err != nil {
		t.Fatalf("copying examples/%s: %v", name, err)
	}
	return dst
}
