package extract

import (
	stdgzip "compress/gzip"
	"io"

	kgzip "github.com/klauspost/compress/gzip"
)

// decompressor is what the gzip readers have in common.
type decompressor interface {
	io.ReadCloser
	Reset(io.Reader) error
}

// gunzipImpl selects the gzip reader. klauspost/compress extracts a
// node_modules layer in ~60% of the standard library's CPU time
// (BenchmarkGunzip; numbers in docs/fetch.md). klauspost/pgzip was measured
// too and was no faster on two busy cores; readAhead gives the same overlap
// with a stop that Layer waits for.
type gunzipImpl int

const (
	gunzipKlauspost gunzipImpl = iota
	gunzipStdlib
)

// gunzip is the implementation in use; benchmarks switch it.
var gunzip = gunzipKlauspost

func (x *Extractor) resetGzip(r io.Reader) error {
	if x.gz != nil {
		return x.gz.Reset(r)
	}
	var err error
	switch gunzip {
	case gunzipKlauspost:
		var z *kgzip.Reader
		if z, err = kgzip.NewReader(r); err == nil {
			x.gz = z
		}
	default:
		var z *stdgzip.Reader
		if z, err = stdgzip.NewReader(r); err == nil {
			x.gz = z
		}
	}
	return err
}
