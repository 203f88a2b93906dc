package layer

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/aetherengine/aether/internal/treegen"
)

// benchTree returns a generated tree kept in the user cache dir between runs
// (generated once; never deleted, as mass deletes slow these disks down).
func benchTree(b *testing.B, s treegen.Spec) string {
	b.Helper()
	base, err := os.UserCacheDir()
	if err != nil {
		b.Fatal(err)
	}
	dir := filepath.Join(base, "aether-bench", fmt.Sprintf("tree-%d-%d-%d", s.Files, s.Bytes, s.Seed))
	if _, err := os.Stat(filepath.Join(dir, ".complete")); err == nil {
		return filepath.Join(dir, "node_modules")
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), "gen-")
	if err != nil {
		os.MkdirAll(filepath.Dir(dir), 0o755)
		if tmp, err = os.MkdirTemp(filepath.Dir(dir), "gen-"); err != nil {
			b.Fatal(err)
		}
	}
	if _, _, err := treegen.Generate(tmp, s); err != nil {
		b.Fatal(err)
	}
	os.WriteFile(filepath.Join(tmp, ".complete"), nil, 0o644)
	if err := os.Rename(tmp, dir); err != nil {
		b.Fatal(err)
	}
	return filepath.Join(dir, "node_modules")
}

var benchSpecs = []struct {
	name string
	spec treegen.Spec
}{
	{"files=10", treegen.Spec{Files: 10, Bytes: 40 << 10, Seed: 10}},
	{"files=100", treegen.Spec{Files: 100, Bytes: 400 << 10, Seed: 100}},
	{"files=500", treegen.Spec{Files: 500, Bytes: 2 << 20, Seed: 500}},
	{"files=20k", treegen.Realistic},
}

// BenchmarkPackage packages each tree with aether's layer writer, GNU tar
// -czf, and the limit (read + SHA-256 of every file), in one run; compare
// the sub-benchmarks' ns/op as ratios (scripts/bench-build.sh prints them).
func BenchmarkPackage(b *testing.B) {
	for _, s := range benchSpecs {
		if testing.Short() && s.spec.Files > 1000 {
			continue
		}
		root := benchTree(b, s.spec)
		var content int64
		filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() {
				fi, _ := d.Info()
				content += fi.Size()
			}
			return nil
		})
		b.Run(s.name+"/aether", func(b *testing.B) {
			b.SetBytes(content)
			for b.Loop() {
				entries, err := Walk(root, WalkOptions{Prefix: "node_modules"})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := Write(context.Background(), io.Discard, entries, Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(s.name+"/gnu-tar-czf", func(b *testing.B) {
			b.SetBytes(content)
			for b.Loop() {
				cmd := exec.Command("tar", "-czf", "-", "-C", filepath.Dir(root), "node_modules")
				cmd.Stdout = io.Discard
				if err := cmd.Run(); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(s.name+"/read-sha256", func(b *testing.B) {
			b.SetBytes(content)
			buf := make([]byte, 1<<20)
			for b.Loop() {
				filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
					if err != nil || !d.Type().IsRegular() {
						return err
					}
					f, err := os.Open(p)
					if err != nil {
						return err
					}
					h := sha256.New()
					io.CopyBuffer(h, f, buf)
					return f.Close()
				})
			}
		})
	}
}
