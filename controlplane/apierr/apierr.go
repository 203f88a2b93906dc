// Package apierr is the control plane's typed error: services return it,
// and the HTTP layer turns it into the API's one error shape in one place.
// Errors that are not an *Error (store sentinels, driver failures) are
// classified by From.
package apierr

import (
	"errors"
	"fmt"

	"github.com/aetherengine/aether/controlplane/store"
	"github.com/aetherengine/aether/pkg/api"
)

// Kind is the class of an error; the HTTP layer maps each to a status.
type Kind int

// Kinds.
const (
	KindInternal Kind = iota
	KindInvalid
	KindTooLarge
	KindUnsupportedMedia
	KindUnauthenticated
	KindForbidden
	KindNotFound
	KindMethodNotAllowed
	KindConflict
	// KindRejected: the request was understood and refused on its merits
	// (admission: an unsigned artifact), HTTP 422.
	KindRejected
	KindUnavailable
)

// Error is an API error: a kind, a stable code and a message for people.
type Error struct {
	Kind    Kind
	Code    string
	Message string
	// Err is the cause, kept for logs; never shown to clients.
	Err error
	// DeploymentID names the deployment a refusal was recorded on.
	DeploymentID string
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// New returns an error of kind with code and a formatted message.
func New(kind Kind, code, format string, args ...any) *Error {
	return &Error{Kind: kind, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid is a bad argument (HTTP 400).
func Invalid(format string, args ...any) *Error {
	return New(KindInvalid, api.CodeInvalidArgument, format, args...)
}

// Forbidden says the caller's key may not do this (HTTP 403).
func Forbidden(format string, args ...any) *Error {
	return New(KindForbidden, api.CodeForbidden, format, args...)
}

// Unauthenticated says the request carries no valid key (HTTP 401).
func Unauthenticated(format string, args ...any) *Error {
	return New(KindUnauthenticated, api.CodeUnauthenticated, format, args...)
}

// Rejected refuses a request on its merits with a reason code (HTTP 422).
func Rejected(code, format string, args ...any) *Error {
	return New(KindRejected, code, format, args...)
}

// From classifies any error: an *Error as it is, store sentinels by kind,
// anything else as internal (its text stays in the logs, not the response).
func From(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		return &Error{Kind: KindNotFound, Code: api.CodeNotFound, Message: err.Error(), Err: err}
	case errors.Is(err, store.ErrIllegalTransition):
		return &Error{Kind: KindConflict, Code: api.CodeIllegalTransition, Message: err.Error(), Err: err}
	case errors.Is(err, store.ErrConflict):
		return &Error{Kind: KindConflict, Code: api.CodeConflict, Message: err.Error(), Err: err}
	case errors.Is(err, store.ErrInvalidCursor):
		return &Error{Kind: KindInvalid, Code: api.CodeInvalidCursor, Message: err.Error(), Err: err}
	}
	return &Error{Kind: KindInternal, Code: api.CodeInternal, Message: "internal error; the server log has the details under this request id", Err: err}
}
