package extract

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	xt "github.com/aetherengine/aether/pkg/extract/extracttest"
)

// FuzzExtract feeds arbitrary bytes to the extractor: as a gzip stream when
// they start with the gzip magic, else as a tar that the harness gzips
// (so the fuzzer explores tar headers instead of failing gzip checksums).
// Whatever happens, it must not panic, must leave nothing next to DEST, and
// a tree it accepts must hold only files, directories and symlinks that
// resolve inside it.
func FuzzExtract(f *testing.F) {
	seeds := [][]xt.Entry{
		{xt.Dir("node_modules/"), xt.Symlink("node_modules/.bin/x", "../x/cli.js"), xt.File("node_modules/x/cli.js", "#!")},
		{xt.File("a", "1"), xt.Hardlink("b", "a")},
		{xt.Symlink("d", "."), xt.Symlink("e", "d/..")},
		{xt.Symlink("l", "."), xt.File("l/x", "1")},
		{xt.File("../x", "1")},
		{xt.Dir("d/"), xt.File("d", "1")},
		{xt.Entry{Name: "a", Body: []byte("x"), Mode: 0o4755}},
	}
	for _, s := range seeds {
		f.Add(xt.Tar(s...))
		f.Add(xt.TarGz(s...))
	}
	limits := Limits{MaxTotalBytes: 1 << 20, MaxEntries: 200, MaxFileSize: 256 << 10, MaxPathLen: 512}
	f.Fuzz(func(t *testing.T, data []byte) {
		layer := data
		if len(data) < 2 || data[0] != 0x1f || data[1] != 0x8b {
			layer = xt.Gzip(data)
		}
		sb := newSandbox(t, false)
		_, err := Extract(context.Background(), sb.dest, Options{Limits: limits, HashFiles: true}, bytes.NewReader(layer))
		if err != nil {
			var xe *Error
			if !errors.As(err, &xe) {
				t.Fatalf("error is not an *extract.Error: %v", err)
			}
			sb.assertUntouched(t, false)
			return
		}
		if names := sb.list(t); !equalStrings(names, []string{"dest", "sentinel"}) {
			t.Fatalf("parent holds %q after a successful extraction", names)
		}
		checkTreeInside(t, sb.dest)
	})
}

// checkTreeInside walks an extracted tree and fails on anything a hostile
// layer could have planted: a link resolving outside, a special file, a
// setuid bit.
func checkTreeInside(t *testing.T, root string) {
	t.Helper()
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		t.Fatal(err)
	}
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		m := fi.Mode()
		if m&(fs.ModeSetuid|fs.ModeSetgid) != 0 {
			t.Errorf("%s has mode %v", p, m)
		}
		switch {
		case m.IsRegular(), m.IsDir():
		case m&fs.ModeSymlink != 0:
			resolved, err := filepath.EvalSymlinks(p)
			if err != nil {
				return nil // dangling or a loop the kernel refuses: harmless
			}
			if resolved != realRoot && !strings.HasPrefix(resolved, realRoot+string(os.PathSeparator)) {
				t.Errorf("symlink %s resolves to %s, outside %s", p, resolved, realRoot)
			}
		default:
			t.Errorf("%s is a special file (%v)", p, m)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
