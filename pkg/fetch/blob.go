package fetch

import (
	"errors"
	"fmt"
	"io"
)

// blobReader wraps a blob stream from go-containerregistry's remote, which
// verifies the digest (it hashes while reading and fails the read that
// reaches the end), and adds what an operator needs to tell failures apart:
//
//   - more bytes than the manifest's size: a blobSizeError, at once, so a
//     hostile registry cannot stream forever;
//   - a read error after exactly the manifest's size: the body was complete
//     and only the digest check can fail there, so a digestError;
//   - a read error or end of stream before that: the transfer broke, a
//     transferError (a registry/network problem, worth a retry).
type blobReader struct {
	r     io.Reader
	what  string // "layers[1] sha256:…"
	size  int64
	n     int64
	atEOF bool
}

type digestError struct {
	what string
	err  error
}

func (e *digestError) Error() string {
	return fmt.Sprintf("%s: content does not match its digest; the registry or a proxy served corrupted data (%v)", e.what, e.err)
}
func (e *digestError) Unwrap() error { return e.err }

type blobSizeError struct {
	what string
	size int64
}

func (e *blobSizeError) Error() string {
	return fmt.Sprintf("%s: the registry sent more than the %d bytes the manifest declares", e.what, e.size)
}

type transferError struct {
	what    string
	n, size int64
	err     error
}

func (e *transferError) Error() string {
	if e.err == io.EOF {
		return fmt.Sprintf("%s: the download ended after %d of %d bytes", e.what, e.n, e.size)
	}
	return fmt.Sprintf("%s: the download failed after %d of %d bytes: %v", e.what, e.n, e.size, e.err)
}
func (e *transferError) Unwrap() error { return e.err }

func (b *blobReader) Read(p []byte) (int, error) {
	if b.atEOF {
		return 0, io.EOF
	}
	// Read one byte past the declared size, so an over-long body shows.
	if rest := b.size + 1 - b.n; int64(len(p)) > rest {
		p = p[:rest]
	}
	k, err := b.r.Read(p)
	b.n += int64(k)
	switch {
	case b.n > b.size:
		return k, &blobSizeError{what: b.what, size: b.size}
	case err == io.EOF && b.n == b.size:
		b.atEOF = true
		return k, io.EOF
	case err != nil && b.n == b.size:
		return k, &digestError{what: b.what, err: err}
	case err != nil:
		return k, &transferError{what: b.what, n: b.n, size: b.size, err: err}
	}
	return k, nil
}

// finish reads what is left (at most the declared size plus one byte), so
// the digest is checked even when the consumer stopped early, and returns
// the first error.
func (b *blobReader) finish(buf []byte) error {
	for {
		_, err := b.Read(buf)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// blobVerdict decides which error describes a failed layer best: evidence
// that the bytes were not the artifact's (digest, size) beats a broken
// transfer, which beats an extraction refusal (corrupt bytes can look like
// a hostile tar).
func blobVerdict(extractErr, drainErr error) error {
	for _, err := range []error{extractErr, drainErr} {
		var de *digestError
		var se *blobSizeError
		if errors.As(err, &de) {
			return classed(ClassVerify, de)
		}
		if errors.As(err, &se) {
			return classed(ClassVerify, se)
		}
	}
	for _, err := range []error{extractErr, drainErr} {
		var te *transferError
		if errors.As(err, &te) {
			return classed(ClassRegistry, te)
		}
	}
	return extractErr
}
