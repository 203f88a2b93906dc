package extract

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"sort"
	"testing"
)

// sandbox is a parent directory holding DEST and a sentinel file, so a test
// can prove that nothing was written next to DEST.
type sandbox struct {
	parent, dest string
}

const sentinelBody = "untouched"

func newSandbox(t testing.TB, destExists bool) sandbox {
	t.Helper()
	parent := t.TempDir()
	if err := os.WriteFile(filepath.Join(parent, "sentinel"), []byte(sentinelBody), 0o644); err != nil {
		t.Fatal(err)
	}
	s := sandbox{parent: parent, dest: filepath.Join(parent, "dest")}
	if destExists {
		if err := os.Mkdir(s.dest, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// assertUntouched checks that the parent holds only the sentinel (intact)
// and DEST as it was before: absent, or an empty directory.
func (s sandbox) assertUntouched(t testing.TB, destExisted bool) {
	t.Helper()
	names := s.list(t)
	want := []string{"sentinel"}
	if destExisted {
		want = []string{"dest", "sentinel"}
	}
	if !equalStrings(names, want) {
		t.Fatalf("after a refused extraction the parent holds %q, want %q (something was written outside, or the temporary directory was left behind)", names, want)
	}
	if b, err := os.ReadFile(filepath.Join(s.parent, "sentinel")); err != nil || string(b) != sentinelBody {
		t.Fatalf("sentinel changed: %q, %v", b, err)
	}
	if destExisted {
		entries, err := os.ReadDir(s.dest)
		if err != nil || len(entries) != 0 {
			t.Fatalf("DEST changed: %v entries, err %v", len(entries), err)
		}
	}
}

func (s sandbox) list(t testing.TB) []string {
	t.Helper()
	entries, err := os.ReadDir(s.parent)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// readers turns byte slices into fresh readers.
func readers(layers ...[]byte) []io.Reader {
	rs := make([]io.Reader, len(layers))
	for i, l := range layers {
		rs[i] = bytes.NewReader(l)
	}
	return rs
}
