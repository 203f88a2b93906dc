package registry

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"syscall"

	"oras.land/oras-go/v2/errdef"
	"oras.land/oras-go/v2/registry/remote/auth"
	"oras.land/oras-go/v2/registry/remote/errcode"
)

// Sentinel errors callers can test with errors.Is.
var (
	// ErrUnauthorized: the registry refused our credentials (or we had none).
	ErrUnauthorized = errors.New("registry authentication failed")
	// ErrNotFound: the repository, tag or digest does not exist.
	ErrNotFound = errors.New("not found in registry")
	// ErrRefused: the registry rejected what we sent (for example a media
	// type it does not support).
	ErrRefused = errors.New("registry refused the request")
	// ErrUnreachable: the registry could not be reached.
	ErrUnreachable = errors.New("registry unreachable")
)

// Error is a registry failure with an explanation for the user.
type Error struct {
	// Kind is one of the sentinel errors above.
	Kind error
	// Host is the registry host.
	Host string
	// Hint says what to do.
	Hint string
	Err  error
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("%s: %v", e.Host, e.Err)
	if e.Hint != "" {
		msg += "; " + e.Hint
	}
	return msg
}

// Unwrap returns both the kind and the cause, so errors.Is works on either.
func (e *Error) Unwrap() []error { return []error{e.Kind, e.Err} }

// Explain turns an error from a registry operation into an *Error with a
// hint, or returns err unchanged when it is not a registry error.
func Explain(err error, host string) error {
	if err == nil {
		return nil
	}
	var already *Error
	if errors.As(err, &already) {
		return err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	if errors.Is(err, auth.ErrBasicCredentialNotFound) {
		return &Error{Kind: ErrUnauthorized, Host: host, Err: err,
			Hint: fmt.Sprintf("the registry needs credentials: log in with `aether login %s` (or docker/oras login)", host)}
	}
	var resp *errcode.ErrorResponse
	if errors.As(err, &resp) {
		switch {
		case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
			return &Error{Kind: ErrUnauthorized, Host: host, Err: err,
				Hint: fmt.Sprintf("log in with `aether login %s` (or docker/oras login), or check that your credentials may push to this repository", host)}
		case resp.StatusCode == http.StatusNotFound || hasCode(resp, errcode.ErrorCodeNameUnknown, errcode.ErrorCodeManifestUnknown):
			return &Error{Kind: ErrNotFound, Host: host, Err: err,
				Hint: "check the repository name and tag; some registries (ECR, Harbor) need the repository or project created first"}
		case hasCode(resp, errcode.ErrorCodeManifestInvalid, errcode.ErrorCodeUnsupported, "MANIFEST_BLOB_UNKNOWN") || resp.StatusCode == http.StatusUnsupportedMediaType:
			return &Error{Kind: ErrRefused, Host: host, Err: err,
				Hint: "the registry does not accept this manifest or its media types; it needs OCI 1.1 artifact support (artifactType, custom config media types)"}
		case resp.StatusCode >= 500:
			return &Error{Kind: ErrUnreachable, Host: host, Err: err, Hint: "the registry failed repeatedly; try again later"}
		case resp.StatusCode == http.StatusBadRequest || resp.StatusCode == http.StatusMethodNotAllowed:
			return &Error{Kind: ErrRefused, Host: host, Err: err}
		}
		return err
	}
	if errors.Is(err, errdef.ErrNotFound) {
		return &Error{Kind: ErrNotFound, Host: host, Err: err}
	}
	var netErr net.Error
	var opErr *net.OpError
	var dnsErr *net.DNSError
	switch {
	case errors.As(err, &dnsErr):
		return &Error{Kind: ErrUnreachable, Host: host, Err: err, Hint: "check the registry host name"}
	case errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.As(err, &opErr) || errors.As(err, &netErr):
		hint := "check that the registry is running and reachable"
		if strings.Contains(err.Error(), "server gave HTTP response to HTTPS client") {
			hint = "the registry speaks plain HTTP: pass --plain-http"
		}
		return &Error{Kind: ErrUnreachable, Host: host, Err: err, Hint: hint}
	case strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		return &Error{Kind: ErrUnreachable, Host: host, Err: err, Hint: "the registry speaks plain HTTP: pass --plain-http"}
	case strings.Contains(err.Error(), "x509:") || strings.Contains(err.Error(), "tls:"):
		return &Error{Kind: ErrUnreachable, Host: host, Err: err, Hint: "TLS failed: check the registry's certificate, or pass --plain-http for a local registry without TLS"}
	}
	return err
}

func hasCode(resp *errcode.ErrorResponse, codes ...string) bool {
	for _, e := range resp.Errors {
		for _, c := range codes {
			if e.Code == c {
				return true
			}
		}
	}
	return false
}

// Transient reports whether an operation that failed with err is worth
// retrying as a whole (a blob upload's body cannot be replayed by the HTTP
// retry layer, so push retries the copy, which skips what already landed).
func Transient(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var resp *errcode.ErrorResponse
	if errors.As(err, &resp) {
		return resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusRequestTimeout
	}
	if errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNREFUSED) {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "connection reset") || strings.Contains(msg, "broken pipe") ||
		strings.Contains(msg, "unexpected EOF") || strings.Contains(msg, "server closed idle connection")
}
