package extract

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"

	xt "github.com/aetherengine/aether/pkg/extract/extracttest"
)

// attack is one hostile input: the layers (built lazily, per run), the
// limits, and the rule and entry the refusal must name.
type attack struct {
	name   string
	layers func(parent string) []io.Reader
	limits Limits
	rule   Rule
	entry  string
}

func layersOf(entries ...[]xt.Entry) func(string) []io.Reader {
	return func(string) []io.Reader {
		var rs []io.Reader
		for _, l := range entries {
			rs = append(rs, bytes.NewReader(xt.TarGz(l...)))
		}
		return rs
	}
}

func one(entries ...xt.Entry) func(string) []io.Reader { return layersOf(entries) }

const (
	tenGB = 10 << 30
	mib   = 1 << 20
)

func attacks() []attack {
	longPath := strings.Repeat("deep/", 800) + "f.js" // 4004 bytes
	return []attack{
		{name: "dotdot", layers: one(xt.File("../pwned", "x")), rule: RulePathTraversal, entry: "../pwned"},
		{name: "dotdot-inside-name", layers: one(xt.File("a/../../pwned", "x")), rule: RulePathTraversal, entry: "a/../../pwned"},
		{name: "dotdot-directory", layers: one(xt.Dir("../pwned/")), rule: RulePathTraversal, entry: "../pwned/"},
		{name: "absolute-path", layers: func(parent string) []io.Reader {
			return one(xt.File(parent+"/pwned", "x"))(parent)
		}, rule: RuleAbsolutePath},
		{name: "symlink-escape-direct", layers: one(xt.Symlink("evil", "../pwned")), rule: RuleSymlinkEscape, entry: "evil"},
		{name: "symlink-escape-nested", layers: one(xt.Symlink("node_modules/.bin/x", "../../../sentinel")), rule: RuleSymlinkEscape, entry: "node_modules/.bin/x"},
		{name: "symlink-absolute", layers: one(xt.Symlink("etc", "/etc")), rule: RuleSymlinkAbsolute, entry: "etc"},
		{name: "symlink-chain", layers: one(xt.Symlink("d", "."), xt.Symlink("e", "d/..")), rule: RuleSymlinkEscape, entry: "e"},
		{name: "symlink-chain-reversed-order", layers: one(xt.Symlink("e", "d/.."), xt.Symlink("d", ".")), rule: RuleSymlinkEscape, entry: "e"},
		{name: "symlink-chain-across-layers", layers: layersOf(
			[]xt.Entry{xt.Symlink("d", ".")},
			[]xt.Entry{xt.Symlink("e", "d/..")}), rule: RuleSymlinkEscape, entry: "e"},
		{name: "symlink-chain-deep", layers: one(xt.Dir("a/"), xt.Symlink("a/up", ".."), xt.Symlink("a/esc", "up/a/up/..")), rule: RuleSymlinkEscape, entry: "a/esc"},
		{name: "symlink-loop", layers: one(xt.Symlink("a", "b"), xt.Symlink("b", "a")), rule: RuleSymlinkLoop, entry: "a"},
		{name: "write-through-symlink", layers: one(xt.Dir("node_modules/"), xt.Symlink("node_modules/up", ".."), xt.File("node_modules/up/pwned", "x")), rule: RuleParentNotDir, entry: "node_modules/up/pwned"},
		{name: "write-through-symlink-later-layer", layers: layersOf(
			[]xt.Entry{xt.Symlink("lib", ".")},
			[]xt.Entry{xt.File("lib/x", "x")}), rule: RuleParentNotDir, entry: "lib/x"},
		{name: "hardlink-escape", layers: one(xt.Hardlink("h", "../sentinel")), rule: RuleHardlinkTarget, entry: "h"},
		{name: "hardlink-absolute", layers: one(xt.Hardlink("h", "/etc/passwd")), rule: RuleHardlinkTarget, entry: "h"},
		{name: "hardlink-through-symlink", layers: one(xt.File("f", "x"), xt.Symlink("l", "."), xt.Hardlink("h", "l/f")), rule: RuleHardlinkTarget, entry: "h"},
		{name: "hardlink-not-yet-extracted", layers: one(xt.Hardlink("h", "later"), xt.File("later", "x")), rule: RuleHardlinkTarget, entry: "h"},
		{name: "hardlink-to-directory", layers: one(xt.Dir("d/"), xt.Hardlink("h", "d")), rule: RuleHardlinkTarget, entry: "h"},
		{name: "hardlink-to-symlink", layers: one(xt.Symlink("s", "x"), xt.Hardlink("h", "s")), rule: RuleHardlinkTarget, entry: "h"},
		{name: "char-device", layers: one(xt.Entry{Name: "null", Type: tar.TypeChar}), rule: RuleSpecialFile, entry: "null"},
		{name: "block-device", layers: one(xt.Entry{Name: "sda", Type: tar.TypeBlock}), rule: RuleSpecialFile, entry: "sda"},
		{name: "fifo", layers: one(xt.Entry{Name: "pipe", Type: tar.TypeFifo}), rule: RuleSpecialFile, entry: "pipe"},
		{name: "setuid", layers: one(xt.Entry{Name: "bin/sh", Body: []byte("x"), Mode: 0o4755}), rule: RuleSetuid, entry: "bin/sh"},
		{name: "setgid-directory", layers: one(xt.Entry{Name: "shared/", Type: tar.TypeDir, Mode: 0o2775}), rule: RuleSetuid, entry: "shared/"},
		{name: "whiteout", layers: layersOf(
			[]xt.Entry{xt.File("a", "x")},
			[]xt.Entry{xt.File(".wh.a", "")}), rule: RuleWhiteout, entry: ".wh.a"},
		{name: "opaque-whiteout", layers: one(xt.File("dir/.wh..wh..opq", "")), rule: RuleWhiteout, entry: "dir/.wh..wh..opq"},
		{name: "file-replaces-directory", layers: one(xt.Dir("node_modules/"), xt.File("node_modules", "x")), rule: RuleReplace, entry: "node_modules"},
		{name: "file-replaces-directory-later-layer", layers: layersOf(
			[]xt.Entry{xt.File("node_modules/a.js", "x")},
			[]xt.Entry{xt.File("node_modules", "x")}), rule: RuleReplace, entry: "node_modules"},
		{name: "directory-replaces-file", layers: one(xt.File("f", "x"), xt.Dir("f/")), rule: RuleReplace, entry: "f/"},
		{name: "symlink-replaces-file", layers: one(xt.File("f", "x"), xt.Symlink("f", "g")), rule: RuleReplace, entry: "f"},
		{name: "file-replaces-symlink", layers: one(xt.Symlink("s", "t"), xt.File("s", "x")), rule: RuleReplace, entry: "s"},
		{name: "over-long-path", layers: one(xt.File(longPath, "x")), rule: RulePathLength, entry: longPath},
		{name: "over-long-component", layers: one(xt.File(strings.Repeat("n", 256), "x")), rule: RulePathLength, entry: strings.Repeat("n", 256)},
		{name: "over-long-symlink-target", layers: one(xt.Symlink("s", longPath)), rule: RulePathLength, entry: "s"},
		{name: "names-the-root", layers: one(xt.File(".", "x")), rule: RuleInvalidPath, entry: "."},
		{name: "truncated-gzip", layers: func(string) []io.Reader {
			b := xt.TarGz(xt.File("a", strings.Repeat("x", 10000)))
			return []io.Reader{bytes.NewReader(b[:len(b)/2])}
		}, rule: RuleCorrupt},
		{name: "not-gzip", layers: func(string) []io.Reader {
			return []io.Reader{bytes.NewReader(xt.Tar(xt.File("a", "x")))}
		}, rule: RuleCorrupt},
		// A 10 GB file: refused at its header, before a byte is written,
		// with the default limits. The generator is lazy; only a few
		// kilobytes are ever compressed.
		{name: "gzip-bomb-one-10GB-file", layers: func(string) []io.Reader {
			return []io.Reader{xt.Stream(func(tw *tar.Writer) error {
				if err := tw.WriteHeader(&tar.Header{Name: "bomb.bin", Size: tenGB, Mode: 0o644, Typeflag: tar.TypeReg}); err != nil {
					return err
				}
				_, err := io.Copy(tw, xt.Zeros(tenGB))
				return err
			})}
		}, rule: RuleMaxFileSize, entry: "bomb.bin"},
		// 10 GB in 1 MiB files: refused once the files reach the total
		// limit (lowered to 16 MiB so the test writes little).
		{name: "gzip-bomb-10GB-many-files", limits: Limits{MaxTotalBytes: 16 * mib}, layers: func(string) []io.Reader {
			return []io.Reader{xt.Stream(func(tw *tar.Writer) error {
				for i := 0; i < tenGB/mib; i++ {
					if err := tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("f%05d", i), Size: mib, Mode: 0o644, Typeflag: tar.TypeReg}); err != nil {
						return err
					}
					if _, err := io.Copy(tw, xt.Zeros(mib)); err != nil {
						return err
					}
				}
				return nil
			})}
		}, rule: RuleMaxTotalBytes, entry: "f00015"},
		// 10 GB of zeros after the tar's end marker: not a file at all,
		// still refused by the uncompressed-size limit while draining.
		{name: "gzip-bomb-10GB-trailing-padding", limits: Limits{MaxTotalBytes: 16 * mib}, layers: func(string) []io.Reader {
			pr, pw := io.Pipe()
			go func() {
				zw := newGzipWriter(pw)
				_, err := zw.Write(xt.Tar(xt.File("a", "x")))
				if err == nil {
					_, err = io.Copy(zw, xt.Zeros(tenGB))
				}
				if err == nil {
					err = zw.Close()
				}
				pw.CloseWithError(err)
			}()
			return []io.Reader{pr}
		}, rule: RuleMaxTotalBytes, entry: "(after the end-of-archive marker)"},
		// A million empty files, generated on the fly through a pipe; the
		// entry limit is lowered so the test stays fast (the default
		// limit is exercised by TestMillionEntriesDefaultLimit).
		{name: "million-empty-files", limits: Limits{MaxEntries: 1000}, layers: func(string) []io.Reader {
			return []io.Reader{millionEmptyFiles(1_000_000)}
		}, rule: RuleMaxEntries, entry: "f/0000999"},
	}
}

func newGzipWriter(w io.Writer) *gzip.Writer {
	zw, _ := gzip.NewWriterLevel(w, gzip.BestSpeed)
	return zw
}

func millionEmptyFiles(n int) io.Reader {
	return xt.Stream(func(tw *tar.Writer) error {
		if err := tw.WriteHeader(&tar.Header{Name: "f/", Mode: 0o755, Typeflag: tar.TypeDir}); err != nil {
			return err
		}
		for i := 0; i < n; i++ {
			if err := tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("f/%07d", i), Mode: 0o644, Typeflag: tar.TypeReg}); err != nil {
				return err
			}
		}
		return nil
	})
}

// TestAttacks runs every hostile input twice (DEST absent, DEST an empty
// directory) and checks that it is refused with the right rule and entry,
// that nothing was written next to DEST, and that DEST is untouched.
func TestAttacks(t *testing.T) {
	for _, a := range attacks() {
		for _, destExists := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/dest-exists=%v", a.name, destExists), func(t *testing.T) {
				sb := newSandbox(t, destExists)
				layers := a.layers(sb.parent)
				_, err := Extract(context.Background(), sb.dest, Options{Limits: a.limits, HashFiles: true}, layers...)
				for _, l := range layers {
					if c, ok := l.(io.Closer); ok {
						c.Close() // stops a lazy generator
					}
				}
				var xe *Error
				if !errors.As(err, &xe) {
					t.Fatalf("err = %v, want an *extract.Error with rule %s", err, a.rule)
				}
				if xe.Rule != a.rule {
					t.Errorf("rule = %s, want %s (%v)", xe.Rule, a.rule, err)
				}
				if a.entry != "" && xe.Entry != a.entry {
					t.Errorf("entry = %q, want %q", xe.Entry, a.entry)
				}
				if !strings.Contains(err.Error(), string(a.rule)) || (xe.Entry != "" && !strings.Contains(err.Error(), quoteEntry(xe.Entry))) {
					t.Errorf("message %q does not name the rule and the entry", err)
				}
				sb.assertUntouched(t, destExists)
			})
		}
	}
}

// TestMillionEntriesDefaultLimit streams 1,000,001 empty files against the
// default limits: the entry after the millionth is refused. It writes a
// million files, so it is skipped with -short.
func TestMillionEntriesDefaultLimit(t *testing.T) {
	if testing.Short() || os.Getenv("AETHER_SLOW_TESTS") == "" {
		t.Skip("writes 1,000,000 files (3.5 min on 2 busy cores); set AETHER_SLOW_TESTS=1 to run it")
	}
	sb := newSandbox(t, false)
	r := millionEmptyFiles(DefaultMaxEntries)
	_, err := Extract(context.Background(), sb.dest, Options{}, r)
	r.(io.Closer).Close()
	var xe *Error
	if !errors.As(err, &xe) || xe.Rule != RuleMaxEntries || xe.Entry != fmt.Sprintf("f/%07d", DefaultMaxEntries-1) {
		t.Fatalf("err = %v, want max-entries on the last file", err)
	}
	sb.assertUntouched(t, false)
}
