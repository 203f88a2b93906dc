package layer

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	digest "github.com/opencontainers/go-digest"
)

// makeTree writes files (path → content; "->target" makes a symlink) under a
// new temp dir and returns it.
func makeTree(t testing.TB, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for p, content := range files {
		full := filepath.Join(root, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if target, ok := strings.CutPrefix(content, "->"); ok {
			if err := os.Symlink(target, full); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func build(t testing.TB, root string, wo WalkOptions, o Options) (*Result, []byte) {
	t.Helper()
	entries, err := Walk(root, wo)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	res, err := Write(context.Background(), &buf, entries, o)
	if err != nil {
		t.Fatal(err)
	}
	return res, buf.Bytes()
}

var appFiles = map[string]string{
	"package.json":                   `{"name":"x"}`,
	"server.js":                      "require('http')",
	"lib/a.js":                       "a",
	"lib/b.js":                       "b",
	"node_modules/.bin/tool":         "->../tool/bin/tool.js",
	"node_modules/tool/bin/tool.js":  "#!/usr/bin/env node\n",
	"node_modules/tool/package.json": "{}",
}

func TestReproducibleAcrossMtimesModesAndCores(t *testing.T) {
	a := makeTree(t, appFiles)
	b := makeTree(t, appFiles)
	// Different mtimes, different group/other bits: same layer.
	old := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	filepath.Walk(b, func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			os.Chtimes(p, old, old)
			os.Chmod(p, 0o600)
		}
		return nil
	})
	os.Chmod(filepath.Join(a, "node_modules/tool/bin/tool.js"), 0o755)
	os.Chmod(filepath.Join(b, "node_modules/tool/bin/tool.js"), 0o700)
	ra, ba := build(t, a, WalkOptions{}, Options{Concurrency: 1})
	rb, bb := build(t, b, WalkOptions{}, Options{Concurrency: 4})
	if ra.Digest != rb.Digest || ra.DiffID != rb.DiffID || !bytes.Equal(ba, bb) {
		t.Fatalf("same tree gave different layers: %s/%s vs %s/%s", ra.Digest, ra.DiffID, rb.Digest, rb.DiffID)
	}
	if got := digest.FromBytes(ba); got != ra.Digest || int64(len(ba)) != ra.Size {
		t.Fatalf("reported digest/size %s/%d, bytes are %s/%d", ra.Digest, ra.Size, got, len(ba))
	}
	// A different SOURCE_DATE_EPOCH-style timestamp changes the bytes.
	rc, _ := build(t, a, WalkOptions{}, Options{ModTime: old})
	if rc.Digest == ra.Digest {
		t.Fatal("ModTime had no effect")
	}
}

func TestTarContents(t *testing.T) {
	root := makeTree(t, appFiles)
	os.Chmod(filepath.Join(root, "node_modules/tool/bin/tool.js"), 0o751)
	res, blob := build(t, root, WalkOptions{Prefix: "app"}, Options{})
	zr, err := gzip.NewReader(bytes.NewReader(blob))
	if err != nil {
		t.Fatal(err)
	}
	diff := sha256.New()
	tr := tar.NewReader(io.TeeReader(zr, diff))
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
		if h.Uid != 0 || h.Gid != 0 || h.Uname != "" || h.Gname != "" || !h.ModTime.Equal(DefaultModTime) {
			t.Errorf("%s: owner %d/%d %q/%q mtime %v, want fixed", h.Name, h.Uid, h.Gid, h.Uname, h.Gname, h.ModTime)
		}
		switch h.Name {
		case "app/node_modules/tool/bin/tool.js":
			if h.Mode != 0o755 {
				t.Errorf("executable mode %o, want 755", h.Mode)
			}
		case "app/server.js":
			if h.Mode != 0o644 {
				t.Errorf("file mode %o, want 644", h.Mode)
			}
		case "app/node_modules/.bin/tool":
			if h.Typeflag != tar.TypeSymlink || h.Linkname != "../tool/bin/tool.js" {
				t.Errorf(".bin link = %c %q, want symlink to ../tool/bin/tool.js", h.Typeflag, h.Linkname)
			}
		case "app/lib/":
			if h.Typeflag != tar.TypeDir || h.Mode != 0o755 {
				t.Errorf("dir entry %c %o", h.Typeflag, h.Mode)
			}
		}
	}
	io.Copy(io.Discard, zr)
	if got := digest.NewDigest(digest.SHA256, diff); got != res.DiffID {
		t.Errorf("diffID %s, tar hashes to %s", res.DiffID, got)
	}
	want := []string{"app/", "app/lib/", "app/lib/a.js", "app/lib/b.js", "app/node_modules/", "app/node_modules/.bin/",
		"app/node_modules/.bin/tool", "app/node_modules/tool/", "app/node_modules/tool/bin/", "app/node_modules/tool/bin/tool.js",
		"app/node_modules/tool/package.json", "app/package.json", "app/server.js"}
	if fmt.Sprint(names) != fmt.Sprint(want) {
		t.Errorf("entries\n got %v\nwant %v", names, want)
	}
	// The per-file manifest lists files and links with their hashes.
	byPath := map[string]string{}
	for _, f := range res.Files {
		byPath[f.Path] = f.SHA256 + f.Link
	}
	if byPath["app/lib/a.js"] != fmt.Sprintf("%x", sha256.Sum256([]byte("a"))) {
		t.Errorf("sha256 of a.js = %q", byPath["app/lib/a.js"])
	}
	if byPath["app/node_modules/.bin/tool"] != "../tool/bin/tool.js" {
		t.Errorf("link entry = %q", byPath["app/node_modules/.bin/tool"])
	}
	if len(res.Files) != 7 {
		t.Errorf("%d file entries, want 7 (6 files + 1 link; dirs not listed)", len(res.Files))
	}
}

func TestWalkSkipAndErrors(t *testing.T) {
	root := makeTree(t, map[string]string{"a.js": "a", "tmp/x.log": "x", "keep.log": "k"})
	entries, err := Walk(root, WalkOptions{Skip: func(rel string, isDir bool) bool { return rel == "tmp" || rel == "keep.log" }})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Path != "a.js" {
		t.Fatalf("entries %+v, want only a.js", entries)
	}

	tests := []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"parent escape", map[string]string{"a": "->../outside"}, "leaves the tree"},
		{"deep escape", map[string]string{"x/y/a": "->../../../etc/passwd"}, "leaves the tree"},
		{"absolute", map[string]string{"a": "->/etc/passwd"}, "is absolute"},
		{"chain escape", map[string]string{"d": "->.", "e": "->d/.."}, "leaves the tree"},
		{"loop", map[string]string{"l1": "->l2", "l2": "->l1"}, "too many levels"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := makeTree(t, tt.files)
			_, err := Walk(root, WalkOptions{})
			var esc *EscapeError
			if !errors.As(err, &esc) || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), ".aetherignore") {
				t.Fatalf("Walk = %v, want an EscapeError containing %q and advice", err, tt.want)
			}
		})
	}
	// Links that stay inside, including dangling ones, are fine.
	root = makeTree(t, map[string]string{"lib/x.js": "x", "a": "->lib/x.js", "b": "->lib/../lib/missing.js", "lib/up": "->../a"})
	if _, err := Walk(root, WalkOptions{}); err != nil {
		t.Fatalf("inside links rejected: %v", err)
	}
}

func TestWalkRejectsFifo(t *testing.T) {
	root := t.TempDir()
	if err := mkfifo(filepath.Join(root, "pipe")); err != nil {
		t.Skipf("cannot create a fifo here: %v", err)
	}
	_, err := Walk(root, WalkOptions{})
	var ue *UnsupportedError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "fifo") {
		t.Fatalf("want UnsupportedError for a fifo, got %v", err)
	}
}

func TestChangedFileDetected(t *testing.T) {
	for _, size := range []int{10, prefetchMax + 10} {
		root := makeTree(t, map[string]string{"f": strings.Repeat("x", size)})
		entries, err := Walk(root, WalkOptions{})
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(root, "f"), []byte(strings.Repeat("y", size+5)), 0o644)
		_, err = Write(context.Background(), io.Discard, entries, Options{})
		var ce *ChangedError
		if !errors.As(err, &ce) {
			t.Fatalf("size %d: grown file not detected: %v", size, err)
		}
		os.WriteFile(filepath.Join(root, "f"), []byte("short"), 0o644)
		_, err = Write(context.Background(), io.Discard, entries, Options{})
		if !errors.As(err, &ce) {
			t.Fatalf("size %d: shrunk file not detected: %v", size, err)
		}
	}
}

func TestCancel(t *testing.T) {
	files := map[string]string{}
	for i := range 2000 {
		files[fmt.Sprintf("f%04d.js", i)] = "x"
	}
	root := makeTree(t, files)
	entries, _ := Walk(root, WalkOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Write(ctx, io.Discard, entries, Options{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Write with a cancelled context = %v", err)
	}
}

// TestMemoryBoundedOnLargeFile packages a 500 MB sparse file and checks the
// heap did not grow with it (the layer is streamed, never held whole).
func TestMemoryBoundedOnLargeFile(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped in -short: packages 500 MB")
	}
	root := t.TempDir()
	f, err := os.Create(filepath.Join(root, "big.bin"))
	if err != nil {
		t.Fatal(err)
	}
	const size = 500 << 20
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	f.Close()
	entries, err := Walk(root, WalkOptions{})
	if err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	peak := uint64(0)
	res, err := Write(context.Background(), io.Discard, entries, Options{Progress: func(int64) {
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		if m.HeapInuse > peak {
			peak = m.HeapInuse
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	if res.ContentSize != size {
		t.Fatalf("content size %d", res.ContentSize)
	}
	growth := int64(peak) - int64(before.HeapInuse)
	t.Logf("500 MB file: heap in use before %d MiB, peak %d MiB, total allocated during write %d MiB",
		before.HeapInuse>>20, peak>>20, (after.TotalAlloc-before.TotalAlloc)>>20)
	if growth > 64<<20 {
		t.Fatalf("heap grew by %d MiB while packaging a 500 MiB file: not streaming", growth>>20)
	}
}
