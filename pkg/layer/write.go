package layer

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"os"
	"runtime"
	"time"

	"github.com/klauspost/pgzip"
	digest "github.com/opencontainers/go-digest"

	"github.com/aetherengine/aether/pkg/artifact"
)

// DefaultModTime is the timestamp of every entry when SOURCE_DATE_EPOCH is
// not set: 1980-01-01T00:00:00Z, the earliest time zip and most tar tools
// accept without complaint.
var DefaultModTime = time.Unix(315532800, 0).UTC()

// Options control Write.
type Options struct {
	// ModTime is written into every entry. Zero means DefaultModTime.
	ModTime time.Time
	// Level is the gzip level (1-9). Zero means 6, gzip's default.
	Level int
	// Concurrency is the number of blocks compressed in parallel. Zero
	// means GOMAXPROCS. It never changes the output.
	Concurrency int
	// Progress, when set, is called with the number of content bytes
	// written so far (from the writing goroutine; keep it cheap).
	Progress func(written int64)
}

// Result describes a written layer.
type Result struct {
	// Digest is the sha256 of the gzipped bytes (the blob's digest).
	Digest digest.Digest `json:"digest"`
	// DiffID is the sha256 of the uncompressed tar.
	DiffID digest.Digest `json:"diffID"`
	// Size is the number of gzipped bytes.
	Size int64 `json:"size"`
	// UncompressedSize is the size of the tar.
	UncompressedSize int64 `json:"uncompressedSize"`
	// ContentSize is the sum of the regular files' sizes.
	ContentSize int64 `json:"contentSize"`
	// Files lists every file and symlink, in tar order.
	Files []artifact.FileEntry `json:"files"`
}

// ChangedError reports a file that changed between Walk and Write.
type ChangedError struct {
	Path       string
	Want, Have int64
}

func (e *ChangedError) Error() string {
	return fmt.Sprintf("%s changed while it was being packaged (size %d, then %d); stop whatever writes to it and build again", e.Path, e.Want, e.Have)
}

// Files up to this size are read ahead by a pool of goroutines (in parallel
// with compression); larger ones are streamed by the writer.
const (
	prefetchMax    = 256 << 10
	prefetchWindow = 128
)

type prefetched struct {
	data []byte
	sum  [sha256.Size]byte
	err  error
	done chan struct{}
}

// Write writes entries as a reproducible gzipped tar to w and returns its
// digests. Nothing is held in memory beyond a bounded read-ahead window.
func Write(ctx context.Context, w io.Writer, entries []Entry, opts Options) (*Result, error) {
	mtime := opts.ModTime
	if mtime.IsZero() {
		mtime = DefaultModTime
	}
	mtime = mtime.UTC().Truncate(time.Second)
	level := opts.Level
	if level == 0 {
		level = 6
	}

	compressedHash := sha256.New()
	compressedCount := &countWriter{}
	gzOut := io.MultiWriter(w, compressedHash, compressedCount)
	gz, err := newGzip(gzOut, level, opts.Concurrency)
	if err != nil {
		return nil, err
	}
	diffHash := sha256.New()
	tarCount := &countWriter{}
	tw := tar.NewWriter(io.MultiWriter(gz, diffHash, tarCount))

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	futures := startPrefetch(ctx, entries)

	res := &Result{}
	buf := make([]byte, 1<<20)
	fileHash := sha256.New()
	for i := range entries {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		e := &entries[i]
		hdr := &tar.Header{
			Name:    e.Path,
			Mode:    int64(e.Mode.Perm()),
			ModTime: mtime,
			Format:  tar.FormatPAX,
		}
		switch e.Type {
		case TypeDir:
			hdr.Typeflag = tar.TypeDir
			hdr.Name += "/"
			if err := tw.WriteHeader(hdr); err != nil {
				return nil, err
			}
			continue
		case TypeSymlink:
			hdr.Typeflag = tar.TypeSymlink
			hdr.Linkname = e.Link
			if err := tw.WriteHeader(hdr); err != nil {
				return nil, err
			}
			res.Files = append(res.Files, artifact.FileEntry{Path: e.Path, Mode: uint32(e.Mode.Perm()), Link: e.Link})
			continue
		}
		hdr.Typeflag = tar.TypeReg
		hdr.Size = e.Size
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, err
		}
		var sum []byte
		if f, ok := futures.take(ctx, i); ok {
			if f.err != nil {
				return nil, f.err
			}
			if _, err := tw.Write(f.data); err != nil {
				return nil, err
			}
			sum = f.sum[:]
		} else {
			fileHash.Reset()
			if err := streamFile(tw, fileHash, e, buf); err != nil {
				return nil, err
			}
			sum = fileHash.Sum(nil)
		}
		res.ContentSize += e.Size
		res.Files = append(res.Files, artifact.FileEntry{Path: e.Path, Mode: uint32(e.Mode.Perm()), Size: e.Size, SHA256: hex.EncodeToString(sum)})
		if opts.Progress != nil {
			opts.Progress(res.ContentSize)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := gz.Close(); err != nil {
		return nil, err
	}
	res.Digest = digest.NewDigest(digest.SHA256, compressedHash)
	res.DiffID = digest.NewDigest(digest.SHA256, diffHash)
	res.Size = compressedCount.n
	res.UncompressedSize = tarCount.n
	return res, nil
}

// newGzip returns the layer compressor. It is always pgzip with a fixed
// block size, because the output bytes depend on the block size: only the
// number of blocks compressed in parallel follows the machine, so the digest
// is the same on 1 core or 64.
func newGzip(w io.Writer, level, concurrency int) (io.WriteCloser, error) {
	if concurrency <= 0 {
		concurrency = runtime.GOMAXPROCS(0)
	}
	gz, err := pgzip.NewWriterLevel(w, level)
	if err != nil {
		return nil, err
	}
	if err := gz.SetConcurrency(gzipBlockSize, 2*concurrency); err != nil {
		return nil, err
	}
	return gz, nil
}

// gzipBlockSize is part of the format: changing it changes layer digests.
const gzipBlockSize = 1 << 20

func streamFile(tw io.Writer, h hash.Hash, e *Entry, buf []byte) error {
	f, err := os.Open(e.Src)
	if err != nil {
		return err
	}
	defer f.Close()
	n, err := io.CopyBuffer(io.MultiWriter(tw, h), io.LimitReader(f, e.Size), buf)
	if err != nil {
		return fmt.Errorf("reading %s: %w", e.Path, err)
	}
	if n != e.Size {
		return &ChangedError{Path: e.Path, Want: e.Size, Have: n}
	}
	// One more byte means the file grew.
	var one [1]byte
	if m, _ := f.Read(one[:]); m > 0 {
		fi, _ := f.Stat()
		have := e.Size + 1
		if fi != nil {
			have = fi.Size()
		}
		return &ChangedError{Path: e.Path, Want: e.Size, Have: have}
	}
	return nil
}

// futureSet holds the read-ahead results, one per prefetchable entry.
type futureSet struct {
	f []*prefetched
	// slots bounds how many prefetched files are held at once.
	slots chan struct{}
}

func prefetchable(e *Entry) bool { return e.Type == TypeFile && e.Size <= prefetchMax }

// take returns entry i's read-ahead result, waiting for it, or false when
// the entry is streamed by the writer instead.
func (s *futureSet) take(ctx context.Context, i int) (*prefetched, bool) {
	f := s.f[i]
	if f == nil {
		return nil, false
	}
	select {
	case <-f.done:
	case <-ctx.Done():
		return &prefetched{err: ctx.Err()}, true
	}
	s.f[i] = nil
	<-s.slots
	return f, true
}

// startPrefetch reads small files ahead of the writer, in entry order, with
// at most prefetchWindow files held in memory.
func startPrefetch(ctx context.Context, entries []Entry) *futureSet {
	s := &futureSet{f: make([]*prefetched, len(entries)), slots: make(chan struct{}, prefetchWindow)}
	for i := range entries {
		if prefetchable(&entries[i]) {
			s.f[i] = &prefetched{done: make(chan struct{})}
		}
	}
	jobs := make(chan int, prefetchWindow)
	workers := 2 * runtime.GOMAXPROCS(0)
	if workers < 4 {
		workers = 4
	}
	for range workers {
		go func() {
			for i := range jobs {
				f := s.f[i]
				if ctx.Err() != nil {
					f.err = ctx.Err()
				} else {
					f.data, f.sum, f.err = readSmall(&entries[i])
				}
				close(f.done)
			}
		}()
	}
	go func() {
		defer close(jobs)
		for i := range entries {
			if s.f[i] == nil {
				continue
			}
			select {
			case s.slots <- struct{}{}:
			case <-ctx.Done():
				return
			}
			jobs <- i
		}
	}()
	return s
}

func readSmall(e *Entry) ([]byte, [sha256.Size]byte, error) {
	var sum [sha256.Size]byte
	f, err := os.Open(e.Src)
	if err != nil {
		return nil, sum, err
	}
	defer f.Close()
	data := make([]byte, e.Size+1)
	n, err := io.ReadFull(f, data)
	switch {
	case err == io.ErrUnexpectedEOF || err == io.EOF:
		if int64(n) != e.Size {
			return nil, sum, &ChangedError{Path: e.Path, Want: e.Size, Have: int64(n)}
		}
	case err != nil:
		return nil, sum, fmt.Errorf("reading %s: %w", e.Path, err)
	default: // read Size+1 bytes: the file grew
		return nil, sum, &ChangedError{Path: e.Path, Want: e.Size, Have: int64(n)}
	}
	data = data[:n]
	return data, sha256.Sum256(data), nil
}

type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}
