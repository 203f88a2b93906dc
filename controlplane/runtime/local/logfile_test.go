package local

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestLogRotationAndTail: the log is capped at two files of max bytes;
// a tail reads across the rotation and says when older lines exist.
func TestLogRotationAndTail(t *testing.T) {
	cases := []struct {
		name      string
		max       int64
		lines     int
		tail      int
		want      []string
		truncated bool
		rotated   bool
	}{
		{name: "short log", max: 1 << 20, lines: 3, tail: 10, want: []string{"line 0", "line 1", "line 2"}},
		{name: "tail of a short log", max: 1 << 20, lines: 5, tail: 2, want: []string{"line 3", "line 4"}, truncated: true},
		// 7-byte lines, 30-byte files: 4 lines a file; after 10 lines the
		// current file holds 8-9, the rotated one 4-7, 0-3 are gone.
		{name: "across a rotation", max: 30, lines: 10, tail: 5, want: []string{"line 5", "line 6", "line 7", "line 8", "line 9"}, truncated: true, rotated: true},
		{name: "everything kept", max: 30, lines: 10, tail: 100, want: []string{"line 4", "line 5", "line 6", "line 7", "line 8", "line 9"}, rotated: true},
		{name: "default tail", max: 1 << 20, lines: 150, tail: 0, want: seq(50, 150), truncated: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "log")
			l, err := openLog(path, tc.max)
			if err != nil {
				t.Fatal(err)
			}
			for i := range tc.lines {
				fmt.Fprintf(l, "line %d\n", i)
			}
			l.Close()
			fmt.Fprintln(l, "after close: dropped")
			got, truncated, err := tailLog(path, tc.tail)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) || truncated != tc.truncated {
				t.Fatalf("tail = %q truncated=%v, want %q truncated=%v", got, truncated, tc.want, tc.truncated)
			}
			if _, err := os.Stat(path + ".1"); (err == nil) != tc.rotated {
				t.Fatalf("rotated file present = %v, want %v", err == nil, tc.rotated)
			}
			for _, p := range []string{path, path + ".1"} {
				if fi, err := os.Stat(p); err == nil && fi.Size() > tc.max {
					t.Fatalf("%s is %d bytes, over the cap of %d", p, fi.Size(), tc.max)
				}
			}
		})
	}
}

func seq(from, to int) []string {
	var out []string
	for i := from; i < to; i++ {
		out = append(out, fmt.Sprintf("line %d", i))
	}
	return out
}

// TestCleanLine: what an app prints cannot drive the reader's terminal.
func TestCleanLine(t *testing.T) {
	cases := []struct{ in, want string }{
		{"plain\ttext", "plain\ttext"},
		{"\x1b[31mred\x1b[0m", `\x1b[31mred\x1b[0m`},
		{"crlf\r", "crlf"},
		{"bell\a", `bell\x07`},
		{"caf\xc3\xa9", "café"},
		{"bad \xff byte", `bad \xff byte`},
		{"c1 \u009b control", `c1 \x9b control`},
		{strings.Repeat("a", maxLineBytes+10), strings.Repeat("a", maxLineBytes) + "…"},
	}
	for _, tc := range cases {
		if got := cleanLine(tc.in); got != tc.want {
			t.Errorf("cleanLine(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// FuzzTailLog: any bytes an app writes give a bounded tail of clean lines.
func FuzzTailLog(f *testing.F) {
	f.Add([]byte("a\nb\nc\n"), []byte("old\n"), 2)
	f.Add([]byte("\x1b[2J\r\n\xff\xfe"), []byte{}, 0)
	f.Add([]byte(strings.Repeat("x", 5000)), []byte("\n\n\n"), 100000)
	f.Fuzz(func(t *testing.T, cur, prev []byte, n int) {
		dir := t.TempDir()
		path := filepath.Join(dir, "log")
		if err := os.WriteFile(path, cur, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path+".1", prev, 0o600); err != nil {
			t.Fatal(err)
		}
		lines, _, err := tailLog(path, n)
		if err != nil {
			t.Fatal(err)
		}
		limit := n
		if limit <= 0 {
			limit = DefaultTail
		}
		if len(lines) > min(limit, MaxTail) {
			t.Fatalf("%d lines for tail %d", len(lines), n)
		}
		for _, l := range lines {
			if len(l) > 4*maxLineBytes+8 {
				t.Fatalf("line of %d bytes", len(l))
			}
			for _, r := range l {
				if (r < 0x20 && r != '\t') || r == 0x7f || (r >= 0x80 && r < 0xa0) {
					t.Fatalf("control character %U in %q", r, l)
				}
			}
		}
	})
}
