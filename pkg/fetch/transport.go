package fetch

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"net/http"
	"strings"
)

// manifestGuard wraps the transport under go-containerregistry for manifest
// GETs. remote reads up to 100 MiB of a manifest into memory; an Aether
// manifest is ~1 KiB, so the body is cut at max bytes. When the URL names a
// digest, the body is hashed and a mismatch fails the read with a typed
// error (remote checks too, but only with an untyped message).
type manifestGuard struct {
	next http.RoundTripper
	max  int64
}

// RoundTrip wraps the body of manifest GETs.
func (t *manifestGuard) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err != nil || req.Method != http.MethodGet || resp.StatusCode != http.StatusOK {
		return resp, err
	}
	i := strings.LastIndex(req.URL.Path, "/manifests/")
	if i < 0 {
		return resp, nil
	}
	if resp.ContentLength > t.max {
		resp.Body.Close()
		return nil, &manifestSizeError{max: t.max}
	}
	b := &guardedBody{ReadCloser: resp.Body, left: t.max, max: t.max}
	if ref := req.URL.Path[i+len("/manifests/"):]; strings.HasPrefix(ref, "sha256:") {
		b.want, b.h = ref, sha256.New()
	}
	resp.Body = b
	return resp, nil
}

type manifestSizeError struct{ max int64 }

func (e *manifestSizeError) Error() string {
	return fmt.Sprintf("the registry sent a manifest larger than %d bytes; an Aether manifest is about 1 KiB", e.max)
}

type manifestDigestError struct{ want, got string }

func (e *manifestDigestError) Error() string {
	return fmt.Sprintf("the registry sent a manifest whose digest is %s, not the requested %s (corrupted or tampered)", e.got, e.want)
}

type guardedBody struct {
	io.ReadCloser
	left, max int64
	want      string
	h         hash.Hash
}

func (b *guardedBody) Read(p []byte) (int, error) {
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.ReadCloser.Read(p)
	b.left -= int64(n)
	if b.left < 0 {
		return 0, &manifestSizeError{max: b.max}
	}
	if b.h != nil {
		b.h.Write(p[:n])
		if err == io.EOF {
			if got := "sha256:" + hex.EncodeToString(b.h.Sum(nil)); got != b.want {
				return n, &manifestDigestError{want: b.want, got: got}
			}
		}
	}
	return n, err
}
