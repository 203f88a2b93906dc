// Package extracttest builds deterministic layer tars for the tests and
// benchmarks of pkg/extract and pkg/fetch: hand-written entries (including
// hostile ones a real builder never writes), lazily streamed archives for
// bombs and million-entry layers, and a node_modules-like tree.
//
// It is test support, like net/http/httptest; production code never imports
// it. The reproducible layer writer of `aether build` lives in pkg/layer.
package extracttest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"path"
	"strings"
	"time"

	"github.com/aetherengine/aether/pkg/artifact"
)

// Epoch is the fixed mtime of every entry.
var Epoch = time.Unix(0, 0).UTC()

// Entry is one tar entry. Type defaults to a regular file; Mode defaults to
// 0644 for files, 0755 for directories and 0777 for symlinks.
type Entry struct {
	Name     string
	Type     byte
	Mode     int64
	Body     []byte
	Linkname string
	// Size overrides len(Body) in the header (a lying header); the body
	// written is still Body.
	Size int64
	// PAX adds PAX records (forces the PAX format).
	PAX map[string]string
}

// File is a regular file entry.
func File(name, body string) Entry { return Entry{Name: name, Body: []byte(body)} }

// Dir is a directory entry.
func Dir(name string) Entry { return Entry{Name: name, Type: tar.TypeDir} }

// Symlink is a symlink entry.
func Symlink(name, target string) Entry {
	return Entry{Name: name, Type: tar.TypeSymlink, Linkname: target}
}

// Hardlink is a hardlink entry.
func Hardlink(name, target string) Entry {
	return Entry{Name: name, Type: tar.TypeLink, Linkname: target}
}

// Header returns the entry's deterministic tar header.
func (e Entry) Header() *tar.Header {
	typ := e.Type
	if typ == 0 {
		typ = tar.TypeReg
	}
	mode := e.Mode
	if mode == 0 {
		switch typ {
		case tar.TypeDir:
			mode = 0o755
		case tar.TypeSymlink:
			mode = 0o777
		default:
			mode = 0o644
		}
	}
	h := &tar.Header{
		Typeflag: typ,
		Name:     e.Name,
		Linkname: e.Linkname,
		Mode:     mode,
		ModTime:  Epoch,
		Format:   tar.FormatPAX,
	}
	if len(e.PAX) > 0 {
		h.PAXRecords = e.PAX
	} else if len(e.Name) <= 100 && len(e.Linkname) <= 100 {
		h.Format = tar.FormatUSTAR
	}
	if typ == tar.TypeReg {
		h.Size = int64(len(e.Body))
		if e.Size != 0 {
			h.Size = e.Size
		}
	}
	return h
}

// Tar writes the entries as an uncompressed tar. It panics on error: the
// input is the test's own table.
func Tar(entries ...Entry) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		if err := tw.WriteHeader(e.Header()); err != nil {
			panic(fmt.Sprintf("extracttest: header %q: %v", e.Name, err))
		}
		if len(e.Body) > 0 {
			if _, err := tw.Write(e.Body); err != nil && e.Size == 0 {
				panic(fmt.Sprintf("extracttest: body %q: %v", e.Name, err))
			}
		}
	}
	if err := tw.Close(); err != nil && !strings.Contains(err.Error(), "missed writing") {
		panic(err)
	}
	return buf.Bytes()
}

// Gzip compresses b with a fixed header (no name, no mtime).
func Gzip(b []byte) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	_, _ = zw.Write(b)
	_ = zw.Close()
	return buf.Bytes()
}

// TarGz is Gzip(Tar(entries...)).
func TarGz(entries ...Entry) []byte { return Gzip(Tar(entries...)) }

// Stream runs gen in a goroutine that writes a gzipped tar into a pipe and
// returns the read end: nothing is materialised, and the generator stops
// (its writes fail) as soon as the reader is closed. gen need not close tw.
func Stream(gen func(tw *tar.Writer) error) io.ReadCloser {
	pr, pw := io.Pipe()
	go func() {
		zw, _ := gzip.NewWriterLevel(pw, gzip.BestSpeed)
		tw := tar.NewWriter(zw)
		err := gen(tw)
		if err == nil {
			err = tw.Close()
		}
		if err == nil {
			err = zw.Close()
		}
		pw.CloseWithError(err)
	}()
	return pr
}

// Zeros is an io.Reader of n zero bytes that allocates nothing per read.
func Zeros(n int64) io.Reader { return io.LimitReader(zeroReader{}, n) }

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// Layer is a built layer and what the artifact config says about it.
type Layer struct {
	// Gz is the gzipped tar (the blob pushed to a registry).
	Gz []byte
	// DiffID is the sha256 digest of the uncompressed tar.
	DiffID string
	// Files lists the regular files and symlinks, as pkg/artifact records them.
	Files []artifact.FileEntry
	// Size is the sum of regular file sizes.
	Size int64
}

// BuildLayer builds a layer from entries and records its file list.
func BuildLayer(entries ...Entry) Layer {
	t := Tar(entries...)
	sum := sha256.Sum256(t)
	l := Layer{Gz: Gzip(t), DiffID: "sha256:" + hex.EncodeToString(sum[:])}
	for _, e := range entries {
		h := e.Header()
		name := strings.TrimPrefix(path.Clean(e.Name), "./")
		switch h.Typeflag {
		case tar.TypeReg:
			fs := sha256.Sum256(e.Body)
			l.Files = append(l.Files, artifact.FileEntry{Path: name, Mode: uint32(h.Mode), Size: h.Size, SHA256: hex.EncodeToString(fs[:])})
			l.Size += h.Size
		case tar.TypeSymlink:
			l.Files = append(l.Files, artifact.FileEntry{Path: name, Mode: uint32(h.Mode), Link: h.Linkname})
		}
	}
	return l
}
