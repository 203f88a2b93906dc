package nodejs

import (
	"encoding/json"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"
)

func FuzzParseLockfile(f *testing.F) {
	// Small excerpts of the real lockfiles: whole 50-85 KB seeds make the
	// fuzzer spend its time minimizing instead of exploring.
	for _, dir := range []string{"npm-v2", "npm-v3"} {
		b, err := os.ReadFile("testdata/lockfile/" + dir + "/package-lock.json")
		if err != nil {
			f.Fatal(err)
		}
		f.Add(excerpt(f, b, 6))
	}
	for _, s := range []string{
		string(lockJSON(3, rootEntry+`, "node_modules/a": {"version": "1.0.0", "license": [{"type": "MIT"}], "os": "linux"}`)),
		string(lockJSON(3, rootEntry+`, "node_modules/a/node_modules/@s/b": {"dev": true, "dependencies": {"a": "1"}}`)),
		string(lockJSON(2, `"": {"workspaces": ["x"]}`)),
		`{"lockfileVersion":3,"packages":{"node_modules/../x":{}}}`,
		`{"lockfileVersion":1}`,
		`[]`, `{`, `null`, `{"packages": {"": {"name": 1}}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := ParseLockfile(data)
		if err != nil {
			if l != nil {
				t.Fatal("lockfile returned with an error")
			}
			return
		}
		if l.LockfileVersion != 2 && l.LockfileVersion != 3 {
			t.Fatalf("accepted lockfileVersion %d", l.LockfileVersion)
		}
		prod := l.Production()
		if !slices.IsSorted(prod) {
			t.Fatal("Production not sorted")
		}
		for _, p := range prod {
			if _, err := splitLockPath(p); err != nil || strings.Contains(p, "..") && checkRelativePath(p) != nil {
				t.Fatalf("accepted unsafe path %q", p)
			}
			if l.PackageName(p) == "" && l.Packages[p].Name == "" {
				t.Fatalf("no name for %q", p)
			}
			for _, dep := range l.Edges(p) {
				if got, ok := l.Resolve(p, dep); ok {
					if _, exists := l.Packages[got]; !exists {
						t.Fatalf("Resolve(%q, %q) = %q, not in the lockfile", p, dep, got)
					}
				}
			}
		}
	})
}

// excerpt keeps the root and the first n other entries of a lockfile.
func excerpt(f *testing.F, lock []byte, n int) []byte {
	var doc map[string]any
	if err := json.Unmarshal(lock, &doc); err != nil {
		f.Fatal(err)
	}
	pkgs, _ := doc["packages"].(map[string]any)
	keys := make([]string, 0, len(pkgs))
	for k := range pkgs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for i, k := range keys {
		if i > n {
			delete(pkgs, k)
		}
	}
	delete(doc, "dependencies")
	out, err := json.Marshal(doc)
	if err != nil {
		f.Fatal(err)
	}
	return out
}
