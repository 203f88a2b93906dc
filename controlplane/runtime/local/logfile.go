package local

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// logFile is one deployment's log: what its processes write on stdout and
// stderr, and the supervisor's own lines ("[aether] …"). It is capped: a
// write that would take the file past max renames it to PATH.1 (dropping
// the previous PATH.1) and starts a new one, so a chatty or looping app
// costs at most 2×max bytes of disk.
type logFile struct {
	mu   sync.Mutex
	path string
	max  int64
	f    *os.File
	size int64
}

func openLog(path string, max int64) (*logFile, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open the deployment log: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	return &logFile{path: path, max: max, f: f, size: fi.Size()}, nil
}

// Write appends p, rotating first when p would not fit. Errors are
// swallowed after the file is closed: a process writing after its log was
// closed must not get EPIPE-like failures from the supervisor.
func (l *logFile) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return len(p), nil
	}
	if l.size > 0 && l.size+int64(len(p)) > l.max {
		if err := l.rotate(); err != nil {
			return 0, err
		}
	}
	n, err := l.f.Write(p)
	l.size += int64(n)
	return n, err
}

func (l *logFile) rotate() error {
	if err := l.f.Close(); err != nil {
		return err
	}
	l.f = nil
	if err := os.Rename(l.path, l.path+".1"); err != nil {
		return err
	}
	f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	l.f, l.size = f, 0
	return nil
}

// Printf writes one supervisor line, marked so it is not taken for the
// app's own output.
func (l *logFile) Printf(format string, args ...any) {
	line := fmt.Sprintf("[aether] %s "+format, append([]any{time.Now().UTC().Format("2006-01-02T15:04:05.000Z07:00")}, args...)...)
	_, _ = l.Write([]byte(strings.TrimRight(line, "\n") + "\n"))
}

// Close closes the file; later writes are dropped.
func (l *logFile) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}

// Bounds of a log tail.
const (
	// DefaultTail is how many lines a tail returns when none is asked.
	DefaultTail = 100
	// MaxTail is the most lines a tail returns.
	MaxTail = 10000
	// maxTailBytes bounds what a tail reads from disk and returns.
	maxTailBytes = 1 << 20
	// maxLineBytes cuts a single enormous line.
	maxLineBytes = 16 << 10
)

// tailLog returns the last n lines of the log at path, reading into its
// rotated predecessor when the current file is short. truncated reports
// that older lines exist. Control characters are escaped, so a log cannot
// drive the terminal of whoever reads it.
func tailLog(path string, n int) (lines []string, truncated bool, err error) {
	if n <= 0 {
		n = DefaultTail
	}
	if n > MaxTail {
		n = MaxTail
	}
	cur, curWhole, err := readTail(path, maxTailBytes)
	if err != nil {
		return nil, false, err
	}
	buf, whole := cur, curWhole
	if curWhole && int64(len(cur)) < maxTailBytes {
		prev, prevWhole, err := readTail(path+".1", maxTailBytes-int64(len(cur)))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, false, err
		}
		if len(prev) > 0 {
			buf, whole = append(prev, cur...), prevWhole
		}
	}
	s := strings.TrimRight(string(buf), "\n")
	if s == "" {
		return []string{}, !whole, nil
	}
	all := strings.Split(s, "\n")
	if !whole {
		// The first line was cut by the byte bound.
		all = all[1:]
	}
	if len(all) > n {
		all, truncated = all[len(all)-n:], true
	} else {
		truncated = !whole
	}
	out := make([]string, len(all))
	for i, line := range all {
		out[i] = cleanLine(line)
	}
	return out, truncated, nil
}

// readTail reads at most max bytes from the end of a file; whole reports
// that the file was read from its start.
func readTail(path string, max int64) ([]byte, bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, false, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, false, err
	}
	off := fi.Size() - max
	if off < 0 {
		off = 0
	}
	b, err := io.ReadAll(io.NewSectionReader(f, off, fi.Size()-off))
	return b, off == 0, err
}

// cleanLine escapes control characters and invalid UTF-8 and cuts the line
// at maxLineBytes.
func cleanLine(s string) string {
	if len(s) > maxLineBytes {
		s = s[:maxLineBytes] + "…"
	}
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 0x20 && c != '\t') || c == 0x7f || c >= 0x80 {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\r':
			// CRLF endings and progress bars: drop the carriage return.
		case (r < 0x20 && r != '\t') || r == 0x7f || (r >= 0x80 && r < 0xa0):
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			b.WriteRune(r)
		}
		i += size
	}
	return b.String()
}
