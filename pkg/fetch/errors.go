package fetch

import (
	"errors"
	"net/http"

	"github.com/aetherengine/aether/pkg/extract"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// Class sorts failures for an operator: whose problem is it? The CLI maps
// each class to an exit code.
type Class int

// The classes.
const (
	// ClassInternal: anything else (local I/O, a bug).
	ClassInternal Class = iota
	// ClassUsage: the reference or DEST given is not acceptable.
	ClassUsage
	// ClassRegistry: the registry could not be reached, refused the
	// credentials, or does not have the artifact.
	ClassRegistry
	// ClassVerify: the registry served something that is not the artifact
	// asked for (digest mismatch, wrong type, inconsistent config).
	ClassVerify
	// ClassExtract: the artifact is genuine but its layers break an
	// extraction rule (a path escape, a bomb).
	ClassExtract
)

// String names the class.
func (c Class) String() string {
	switch c {
	case ClassUsage:
		return "usage"
	case ClassRegistry:
		return "registry"
	case ClassVerify:
		return "verification"
	case ClassExtract:
		return "extraction"
	}
	return "internal"
}

// Error is a fetch failure with its class. Its message is the wrapped
// error's: one line that says what was wrong and what to do.
type Error struct {
	Class Class
	Err   error
}

// Error returns the message.
func (e *Error) Error() string { return e.Err.Error() }

// Unwrap returns the wrapped error.
func (e *Error) Unwrap() error { return e.Err }

func classed(c Class, err error) error {
	if err == nil {
		return nil
	}
	var fe *Error
	if errors.As(err, &fe) {
		return err
	}
	return &Error{Class: c, Err: err}
}

// ClassOf returns the class of an error returned by Fetch.
func ClassOf(err error) Class {
	var fe *Error
	if errors.As(err, &fe) {
		return fe.Class
	}
	var xe *extract.Error
	if errors.As(err, &xe) {
		return ClassExtract
	}
	if errors.Is(err, extract.ErrDest) {
		return ClassUsage
	}
	var te *transport.Error
	if errors.As(err, &te) {
		return ClassRegistry
	}
	return ClassInternal
}

// registryHint adds what to do to a registry error, by status code.
func registryHint(err error) string {
	var te *transport.Error
	if !errors.As(err, &te) {
		return "check that the registry is reachable from the pod (DNS, network policy, proxy)"
	}
	switch te.StatusCode {
	case http.StatusUnauthorized:
		return "the registry refused the credentials: check the imagePullSecret mounted for --docker-config"
	case http.StatusForbidden:
		return "the credentials may not pull this repository: check the account's permissions"
	case http.StatusNotFound:
		return "the repository or digest does not exist in this registry: check the reference (was it pushed with `aether push`?)"
	case http.StatusTooManyRequests:
		return "the registry is rate-limiting pulls: retry later or authenticate"
	}
	return "the registry answered with an error; it was retried with backoff"
}
