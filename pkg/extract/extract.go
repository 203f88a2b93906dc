// Package extract unpacks gzipped OCI layer tars into a directory and
// refuses anything that could write outside it, replace what an earlier
// entry made in a dangerous way, or exhaust the disk.
//
// Guarantees, for any input:
//   - nothing is written outside a temporary sibling of DEST; DEST appears
//     (by one rename) only when every layer extracted and every check passed,
//     so DEST is either untouched or complete;
//   - every parent of every entry is a real directory made by this
//     extraction, so no write goes through a symlink;
//   - after all layers, every symlink is resolved component by component
//     inside the root (through chains of links) and must stay inside it;
//   - regular files, directories, symlinks and hardlinks to already
//     extracted regular files only; no devices, FIFOs, setuid/setgid bits,
//     owners, xattrs or file capabilities;
//   - bounded bytes, entries, file size and path length (Limits);
//   - memory bounded: content is streamed through one buffer.
//
// Every rejection is an *Error naming the layer, the entry and the Rule.
package extract

import (
	"archive/tar"
	"bufio"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"log/slog"
	"sync"
)

// Options tune an extraction. The zero value is ready to use.
type Options struct {
	// Limits bound the extraction; zero fields take the defaults.
	Limits Limits
	// HashFiles computes each regular file's SHA-256 while writing it and
	// passes it to OnEntry in Entry.SHA256.
	HashFiles bool
	// OnEntry, if set, is called after each entry is on disk. An error
	// from it stops the extraction and is returned unchanged.
	OnEntry func(Entry) error
	// Logger receives debug lines; nil discards them.
	Logger *slog.Logger
}

// EntryType is the kind of an extracted entry.
type EntryType uint8

// Entry types.
const (
	TypeFile EntryType = iota + 1
	TypeDir
	TypeSymlink
	TypeHardlink
)

// String names the type.
func (t EntryType) String() string {
	switch t {
	case TypeFile:
		return "file"
	case TypeDir:
		return "directory"
	case TypeSymlink:
		return "symlink"
	case TypeHardlink:
		return "hardlink"
	}
	return "unknown"
}

// Entry describes one entry that was written.
type Entry struct {
	// Layer is the layer's index in extraction order.
	Layer int
	// Path is the cleaned, slash-separated path relative to the root.
	Path string
	Type EntryType
	// Mode holds the permission bits as written (sticky bit dropped).
	Mode fs.FileMode
	// Size is a regular file's size (for a hardlink: its target's size).
	Size int64
	// Link is a symlink's target as written, or a hardlink's cleaned target.
	Link string
	// SHA256 is a regular file's digest when Options.HashFiles is set.
	SHA256 [sha256.Size]byte
}

// Stats counts what an extraction wrote.
type Stats struct {
	Layers    int
	Entries   int
	Files     int
	Dirs      int
	Symlinks  int
	Hardlinks int
	// FileBytes is the sum of regular file sizes.
	FileBytes int64
	// StreamBytes is the uncompressed size of all layers (tar framing included).
	StreamBytes int64
}

// Extractor extracts layers, in order, into one tree under a temporary
// sibling of DEST, then publishes it with Commit or discards it with Abort.
// It is not safe for concurrent use.
type Extractor struct {
	dest, tmp string
	lim       Limits
	opts      Options
	log       *slog.Logger
	umask     fs.FileMode
	umaskOK   bool

	dirs  map[string]fs.FileMode // real directories made here -> wanted mode
	links map[string]symlinkRec  // symlinks made here

	stats  Stats
	failed error
	closed bool

	buf    []byte
	raBufs [][]byte
	br     *bufio.Reader
	gz     decompressor
	h      hash.Hash
	cur    string // name of the entry being read, for corrupt-archive errors
}

const (
	bufSize    = 1 << 20
	netBufSize = 1 << 20
	// createdDirMode is what Mkdir asks for; modes from the archive are
	// applied in Commit, so a read-only directory cannot block its children.
	createdDirMode = 0o755
)

var bufPool = sync.Pool{New: func() any { b := make([]byte, bufSize); return &b }}

// New prepares an extraction into dest: it checks that dest is absent or an
// empty directory (not a mount point: the rename must stay on one file
// system) and creates the temporary sibling directory.
func New(dest string, opts Options) (*Extractor, error) {
	d, err := prepareDest(dest)
	if err != nil {
		return nil, err
	}
	x := &Extractor{
		dest:  d.dest,
		tmp:   d.tmp,
		lim:   opts.Limits.withDefaults(),
		opts:  opts,
		log:   opts.Logger,
		dirs:  map[string]fs.FileMode{"": createdDirMode},
		links: map[string]symlinkRec{},
	}
	if x.log == nil {
		x.log = slog.New(slog.DiscardHandler)
	}
	x.umask, x.umaskOK = processUmask()
	bp := bufPool.Get().(*[]byte)
	x.buf = *bp
	return x, nil
}

// Stats returns what was written so far.
func (x *Extractor) Stats() Stats { return x.stats }

// Layer extracts one gzipped tar from r on top of the layers before it. It
// reads r to its end (the gzip trailer and whatever follows the tar's end
// marker), so a digest-verifying reader sees every byte. After an error the
// Extractor only accepts Abort.
func (x *Extractor) Layer(ctx context.Context, r io.Reader) error {
	if x.closed {
		return errors.New("extract: Layer after Commit or Abort")
	}
	if x.failed != nil {
		return fmt.Errorf("extract: an earlier layer failed: %w", x.failed)
	}
	idx := x.stats.Layers
	x.stats.Layers++
	err := x.layer(ctx, idx, r)
	if err != nil {
		x.failed = err
	}
	return err
}

func (x *Extractor) layer(ctx context.Context, idx int, r io.Reader) error {
	if x.br == nil {
		x.br = bufio.NewReaderSize(r, netBufSize)
	} else {
		x.br.Reset(r)
	}
	x.cur = ""
	if err := x.resetGzip(x.br); err != nil {
		return x.corrupt(idx, err)
	}
	if x.raBufs == nil {
		x.raBufs = make([][]byte, readAheadDepth)
		for i := range x.raBufs {
			x.raBufs[i] = make([]byte, readAheadChunk)
		}
	}
	ra := startReadAhead(x.gz, x.raBufs)
	defer ra.Close()
	cr := &countingReader{r: ra, n: &x.stats.StreamBytes, max: x.lim.MaxTotalBytes}
	tr := tar.NewReader(cr)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return x.corrupt(idx, err)
		}
		x.cur = hdr.Name
		x.stats.Entries++
		if x.stats.Entries > x.lim.MaxEntries {
			return x.reject(idx, hdr.Name, RuleMaxEntries, fmt.Sprintf("more than %d entries in the artifact", x.lim.MaxEntries))
		}
		if err := x.entry(idx, tr, hdr); err != nil {
			return err
		}
	}
	// The tar end marker is not the end of the stream: drain the padding
	// and the gzip trailer so its CRC is checked and the caller's digest
	// verification sees the whole blob. The drain counts against the limit.
	x.cur = "(after the end-of-archive marker)"
	for {
		_, err := cr.Read(x.buf)
		if err == io.EOF {
			break
		}
		if err != nil {
			return x.corrupt(idx, err)
		}
	}
	return nil
}

// Commit checks every symlink, applies directory modes and renames the tree
// to DEST. After an error the tree is removed and DEST left untouched.
func (x *Extractor) Commit() (Stats, error) {
	if x.closed {
		return x.stats, errors.New("extract: Commit after Commit or Abort")
	}
	if x.failed != nil {
		x.Abort()
		return x.stats, x.failed
	}
	if err := x.checkSymlinks(); err != nil {
		x.Abort()
		return x.stats, err
	}
	if err := x.applyDirModes(); err != nil {
		x.Abort()
		return x.stats, err
	}
	if err := publish(x.tmp, x.dest); err != nil {
		x.Abort()
		return x.stats, err
	}
	x.closed = true
	x.release()
	return x.stats, nil
}

// Abort removes the temporary tree. It is safe to call more than once and
// after Commit (then it does nothing).
func (x *Extractor) Abort() {
	if x.closed {
		return
	}
	x.closed = true
	x.release()
	if err := removeTree(x.tmp); err != nil {
		x.log.Warn("could not remove the temporary extraction directory", "dir", x.tmp, "err", err)
	}
}

func (x *Extractor) release() {
	if x.buf != nil {
		b := x.buf
		bufPool.Put(&b)
		x.buf = nil
	}
	if x.gz != nil {
		_ = x.gz.Close()
		x.gz = nil
	}
}

// Extract extracts the gzipped tar layers, in order, into dest: the
// one-call form of New, Layer and Commit.
func Extract(ctx context.Context, dest string, opts Options, layers ...io.Reader) (Stats, error) {
	x, err := New(dest, opts)
	if err != nil {
		return Stats{}, err
	}
	for _, l := range layers {
		if err := x.Layer(ctx, l); err != nil {
			x.Abort()
			return x.stats, err
		}
	}
	return x.Commit()
}

func (x *Extractor) reject(layer int, name string, rule Rule, detail string) error {
	return &Error{Layer: layer, Entry: name, Rule: rule, Detail: detail}
}

func (x *Extractor) corrupt(layer int, err error) error {
	var xe *Error
	if errors.As(err, &xe) {
		return err
	}
	if errors.Is(err, errTooBig) {
		return &Error{Layer: layer, Entry: x.cur, Rule: RuleMaxTotalBytes,
			Detail: fmt.Sprintf("the uncompressed layers exceed %d bytes (decompression bomb?)", x.lim.MaxTotalBytes)}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	detail := "the gzip or tar stream is malformed or truncated"
	if err == io.ErrUnexpectedEOF {
		detail = "the layer ends in the middle of an entry"
	}
	return &Error{Layer: layer, Entry: x.cur, Rule: RuleCorrupt, Detail: detail, Err: err}
}

// symlinkRec is a symlink this extraction made.
type symlinkRec struct {
	target string
	layer  int
}

// errTooBig is returned by countingReader past the limit.
var errTooBig = errors.New("uncompressed size limit reached")

// countingReader counts uncompressed bytes and fails past max.
type countingReader struct {
	r   io.Reader
	n   *int64
	max int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	if *c.n >= c.max {
		// Allow reading up to max exactly; one more byte is a violation.
		var one [1]byte
		if k, err := c.r.Read(one[:]); k > 0 {
			return 0, errTooBig
		} else if err != nil {
			return 0, err
		}
		return 0, nil
	}
	if rest := c.max - *c.n; int64(len(p)) > rest {
		p = p[:rest]
	}
	k, err := c.r.Read(p)
	*c.n += int64(k)
	return k, err
}
