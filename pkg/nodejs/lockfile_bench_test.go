package nodejs

import (
	"encoding/json"
	"os"
	"testing"
)

// BenchmarkParseLockfile parses the real v2 lockfile (which carries npm 6's
// `dependencies` section besides `packages`) and the v3 one.
func BenchmarkParseLockfile(b *testing.B) {
	for _, dir := range []string{"npm-v2", "npm-v3"} {
		data, err := os.ReadFile("testdata/lockfile/" + dir + "/package-lock.json")
		if err != nil {
			b.Fatal(err)
		}
		// The baseline: encoding/json decoding the same bytes into a
		// generic value, with no checks.
		b.Run(dir+"/baseline-json.Unmarshal", func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				var v any
				if err := json.Unmarshal(data, &v); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(dir+"/ParseLockfile", func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ParseLockfile(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
