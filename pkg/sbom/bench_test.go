package sbom

import (
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/aetherengine/aether/pkg/nodejs"
)

// syntheticLockfile builds a realistic lockfile of n packages: most at the
// top of node_modules, a quarter nested under another package (a second
// version), one in eight scoped, one in ten dev-only, each depending on a
// few others, with integrity and licenses of every kind. Seeded, so every
// run benchmarks the same input.
func syntheticLockfile(tb testing.TB, n int) []byte {
	tb.Helper()
	r := rand.New(rand.NewPCG(1, 2))
	licenses := []any{"MIT", "ISC", "(MIT OR Apache-2.0)", "Apache-2.0 WITH LLVM-exception", "SEE LICENSE IN LICENSE", map[string]any{"type": "BSD-3-Clause"}}
	name := func(i int) string {
		if i%8 == 0 {
			return fmt.Sprintf("@scope%d/pkg%d", i%13, i)
		}
		return fmt.Sprintf("pkg%d", i)
	}
	top := n * 3 / 4
	packages := map[string]any{}
	rootDeps := map[string]string{}
	for i := 0; i < top; i++ {
		if i%20 == 0 {
			rootDeps[name(i)] = "^1.0.0"
		}
	}
	packages[""] = map[string]any{"name": "bench-app", "version": "1.0.0", "dependencies": rootDeps}
	entry := func(nm, version string, dev bool) map[string]any {
		sum := sha512.Sum512([]byte(nm + "@" + version))
		deps := map[string]string{}
		for range 2 + r.IntN(4) {
			deps[name(r.IntN(top))] = "^1.0.0"
		}
		e := map[string]any{
			"version": version, "integrity": "sha512-" + base64.StdEncoding.EncodeToString(sum[:]),
			"license": licenses[r.IntN(len(licenses))], "dependencies": deps,
		}
		if dev {
			e["dev"] = true
		}
		return e
	}
	for i := 0; i < top; i++ {
		packages["node_modules/"+name(i)] = entry(name(i), "1.0.0", i%10 == 9)
	}
	for i := top; i < n; i++ {
		parent, child := name(r.IntN(top)), name(r.IntN(top))
		packages["node_modules/"+parent+"/node_modules/"+child] = entry(child, "2.0.0", false)
	}
	data, err := json.Marshal(map[string]any{"name": "bench-app", "version": "1.0.0", "lockfileVersion": 3, "requires": true, "packages": packages})
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// BenchmarkSBOM measures, for a ~2,000-package lockfile, SBOM generation
// (FromLockfile + Encode) and validation against the baseline of parsing
// the lockfile itself.
func BenchmarkSBOM(b *testing.B) {
	data := syntheticLockfile(b, 2000)
	lock, err := nodejs.ParseLockfile(data)
	if err != nil {
		b.Fatal(err)
	}
	bom, err := FromLockfile(lock, Options{Timestamp: fixedTime})
	if err != nil {
		b.Fatal(err)
	}
	doc, err := Encode(bom)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := Validate(doc); err != nil { // also compiles the schemas once
		b.Fatal(err)
	}
	b.Logf("lockfile %d KB, %d packages; SBOM %d KB, %d components", len(data)>>10, len(lock.Packages), len(doc)>>10, len(*bom.Components))

	b.Run("baseline-ParseLockfile", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := nodejs.ParseLockfile(data); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("FromLockfile+Encode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			bom, err := FromLockfile(lock, Options{Timestamp: fixedTime})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := Encode(bom); err != nil {
				b.Fatal(err)
			}
		}
	})
	// The cost of a hostile document: every value a schema violation.
	hostile := []byte(`{"bomFormat":"CycloneDX","specVersion":"1.6","components":[1` + strings.Repeat(",1", 99_999) + `]}`)
	b.Run("Validate-100k-violations", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Validate(hostile); err == nil {
				b.Fatal("accepted")
			}
		}
	})
	b.Run("Validate", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(doc)))
		for b.Loop() {
			if _, err := Validate(doc); err != nil {
				b.Fatal(err)
			}
		}
	})
}
