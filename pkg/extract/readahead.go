package extract

import (
	"io"
)

// readAhead decompresses in a goroutine of its own, a few chunks ahead of
// the extracting goroutine. The two stages then overlap the way
// `crane export | tar -x` overlaps two processes: network, digest and
// inflate on one side; tar parsing, file creation and hashing on the other.
// With one CPU it costs a copy of each byte and gains nothing; with two it
// cuts wall time (numbers in docs/fetch.md).
//
// Close stops the goroutine and waits for it, so that after Layer returns
// nobody reads the layer stream any more: the caller may then drain it or
// reuse the gzip reader.
type readAhead struct {
	ch   chan chunk
	free chan []byte
	stop chan struct{}
	done chan struct{}
	cur  []byte
	buf  []byte
	err  error
}

type chunk struct {
	b, buf []byte
	err    error
}

// readAheadChunk and readAheadDepth: four 256 KiB chunks in flight.
const (
	readAheadChunk = 256 << 10
	readAheadDepth = 4
)

func startReadAhead(r io.Reader, bufs [][]byte) *readAhead {
	ra := &readAhead{
		ch:   make(chan chunk, len(bufs)),
		free: make(chan []byte, len(bufs)),
		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
	for _, b := range bufs {
		ra.free <- b
	}
	go ra.loop(r)
	return ra
}

func (ra *readAhead) loop(r io.Reader) {
	defer close(ra.done)
	for {
		var buf []byte
		select {
		case buf = <-ra.free:
		case <-ra.stop:
			return
		}
		n, err := io.ReadFull(r, buf)
		if err == io.ErrUnexpectedEOF {
			err = io.EOF // a short last chunk is the end, not an error
		}
		select {
		case ra.ch <- chunk{b: buf[:n], buf: buf, err: err}:
		case <-ra.stop:
			return
		}
		if err != nil {
			return
		}
	}
}

// Read returns decompressed bytes in stream order, then the stream's error.
func (ra *readAhead) Read(p []byte) (int, error) {
	for len(ra.cur) == 0 {
		if ra.err != nil {
			return 0, ra.err
		}
		if ra.buf != nil {
			ra.free <- ra.buf // never blocks: free holds every buffer
			ra.buf = nil
		}
		c := <-ra.ch
		ra.cur, ra.buf, ra.err = c.b, c.buf, c.err
	}
	n := copy(p, ra.cur)
	ra.cur = ra.cur[n:]
	return n, nil
}

// Close stops the goroutine and waits until it no longer reads the source.
func (ra *readAhead) Close() {
	close(ra.stop)
	<-ra.done
}
