package api

// ErrorResponse is the one shape of every error the API returns.
type ErrorResponse struct {
	Error ErrorBody `json:"error"`
}

// ErrorBody says what went wrong: a stable machine-readable code, a message
// for people that says what to do, and the request id to quote in a report.
type ErrorBody struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	RequestID string `json:"request_id"`
}

// Error codes. Admission adds its own reason codes (unsigned, untrusted_key,
// …) under HTTP 422.
const (
	CodeInvalidJSON       = "invalid_json"
	CodeUnknownField      = "unknown_field"
	CodeBodyTooLarge      = "body_too_large"
	CodeInvalidCursor     = "invalid_cursor"
	CodeInvalidArgument   = "invalid_argument"
	CodeUnauthenticated   = "unauthenticated"
	CodeForbidden         = "forbidden"
	CodeNotFound          = "not_found"
	CodeMethodNotAllowed  = "method_not_allowed"
	CodeConflict          = "conflict"
	CodeIllegalTransition = "illegal_transition"
	CodeUnsupportedMedia  = "unsupported_media_type"
	CodeUnavailable       = "unavailable"
	CodeInternal          = "internal"
)

// RequestIDHeader carries the request id on every response.
const RequestIDHeader = "X-Request-Id"

// Admission reason codes: why a deployment was refused (HTTP 422). They are
// also the values of the reason label of aether_verification_failures_total.
const (
	ReasonUnsigned            = "unsigned"
	ReasonUntrustedKey        = "untrusted_key"
	ReasonSubjectMismatch     = "subject_mismatch"
	ReasonSBOMMissing         = "sbom_missing"
	ReasonSBOMInvalid         = "sbom_invalid"
	ReasonProvenanceMissing   = "provenance_missing"
	ReasonProvenanceMismatch  = "provenance_mismatch"
	ReasonRegistryUnreachable = "registry_unreachable"
	ReasonRegistryRefused     = "registry_refused"
	ReasonDigestMismatch      = "digest_mismatch"
)

// Reasons lists the admission reason codes.
var Reasons = []string{
	ReasonUnsigned, ReasonUntrustedKey, ReasonSubjectMismatch, ReasonSBOMMissing, ReasonSBOMInvalid,
	ReasonProvenanceMissing, ReasonProvenanceMismatch, ReasonRegistryUnreachable, ReasonRegistryRefused, ReasonDigestMismatch,
}
