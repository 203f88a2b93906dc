// Package treegen generates deterministic node_modules-like trees for tests
// and benchmarks: package directories with package.json, many small .js
// files, some larger bundles and source maps, and node_modules/.bin symlinks.
package treegen

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
)

// Spec describes a tree.
type Spec struct {
	// Files is the number of regular files.
	Files int
	// Bytes is the approximate total size of file contents.
	Bytes int64
	// Seed makes the content; the same Spec gives the same tree.
	Seed uint64
}

// Realistic is the ~20,000-file, ~150 MB tree of the benchmarks.
var Realistic = Spec{Files: 20000, Bytes: 150 << 20, Seed: 1}

// Generate writes the tree under dir/node_modules and returns the number of
// files and bytes written.
func Generate(dir string, s Spec) (files int, bytes int64, err error) {
	rng := rand.New(rand.NewPCG(s.Seed, s.Seed^0x9e3779b97f4a7c15))
	nm := filepath.Join(dir, "node_modules")
	perPkg := 12
	pkgs := max(1, s.Files/perPkg)
	avg := s.Bytes / int64(max(1, s.Files))
	words := []string{"function", "return", "const", "module", "exports", "require", "value", "options", "callback", "this", "undefined", "typeof", "object", "string", "length", "prototype"}
	var sb strings.Builder
	body := func(n int64) []byte {
		sb.Reset()
		for int64(sb.Len()) < n {
			w := words[rng.IntN(len(words))]
			sb.WriteString(w)
			if rng.IntN(9) == 0 {
				fmt.Fprintf(&sb, "_%d(%d);\n", rng.IntN(1000), rng.IntN(100000))
			} else {
				sb.WriteByte(' ')
			}
		}
		return []byte(sb.String()[:n])
	}
	write := func(p string, data []byte) error {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			return err
		}
		files++
		bytes += int64(len(data))
		return nil
	}
	for i := 0; i < pkgs && files < s.Files; i++ {
		name := fmt.Sprintf("pkg-%05d", i)
		if i%7 == 0 {
			name = fmt.Sprintf("@scope%d/%s", i%13, name)
		}
		pdir := filepath.Join(nm, filepath.FromSlash(name))
		pj := fmt.Sprintf(`{"name":%q,"version":"1.%d.%d","main":"index.js","license":"MIT"}`, name, i%10, i%7)
		if err := write(filepath.Join(pdir, "package.json"), []byte(pj)); err != nil {
			return files, bytes, err
		}
		for j := 1; j < perPkg && files < s.Files; j++ {
			// Sizes are skewed like real packages: mostly small files,
			// an occasional large bundle or source map.
			size := avg / 4
			switch r := rng.IntN(100); {
			case r < 3:
				size = avg * 20
			case r < 15:
				size = avg * 2
			}
			size += int64(rng.IntN(int(max(1, avg/4))))
			fname := fmt.Sprintf("lib/file%02d.js", j)
			if j == 1 {
				fname = "index.js"
			} else if j%5 == 0 {
				fname = fmt.Sprintf("dist/bundle%02d.js.map", j)
			}
			if err := write(filepath.Join(pdir, filepath.FromSlash(fname)), body(size)); err != nil {
				return files, bytes, err
			}
		}
		if i%50 == 0 && !strings.Contains(name, "/") {
			bin := filepath.Join(nm, ".bin")
			if err := os.MkdirAll(bin, 0o755); err != nil {
				return files, bytes, err
			}
			if err := os.Symlink("../"+name+"/index.js", filepath.Join(bin, name)); err != nil {
				return files, bytes, err
			}
		}
	}
	return files, bytes, nil
}
