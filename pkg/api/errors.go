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
	// DeploymentID names the deployment an admission refusal (HTTP 422)
	// recorded as failed, so its events can be read.
	DeploymentID string `json:"deployment_id,omitempty"`
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
	// ReasonUnsigned: no signature at all (an attestation is not one).
	ReasonUnsigned = "unsigned"
	// ReasonUntrustedKey: signed, but by no key the app trusts (or a retired one).
	ReasonUntrustedKey = "untrusted_key"
	// ReasonSubjectMismatch: a signature or attestation about another digest.
	ReasonSubjectMismatch = "subject_mismatch"
	// ReasonBundleInvalid: a signature that does not parse or was altered.
	ReasonBundleInvalid = "bundle_invalid"
	// ReasonSBOMMissing: no CycloneDX SBOM attestation from a trusted key.
	ReasonSBOMMissing = "sbom_missing"
	// ReasonSBOMInvalid: the SBOM attestation's document is not valid CycloneDX.
	ReasonSBOMInvalid = "sbom_invalid"
	// ReasonProvenanceMissing: provenance is required and absent.
	ReasonProvenanceMissing = "provenance_missing"
	// ReasonProvenanceMismatch: provenance names another builder or source.
	ReasonProvenanceMismatch = "provenance_mismatch"
	// ReasonTooManyReferrers: more referrers than the server reads.
	ReasonTooManyReferrers = "too_many_referrers"
	// ReasonNoTrustedKeys: the app's trust policy lists no key yet.
	ReasonNoTrustedKeys = "no_trusted_keys"
	// ReasonRegistryNotAllowed: the registry is not on the server's
	// allow-list, or it (or a redirect) led to an address the server
	// refuses to connect to (link-local, metadata, private, loopback).
	ReasonRegistryNotAllowed = "registry_not_allowed"
	// ReasonRegistryUnreachable: the registry could not be asked (network,
	// time-out, 5xx).
	ReasonRegistryUnreachable = "registry_unreachable"
	// ReasonRegistryRefused: the registry refused the server (credentials).
	ReasonRegistryRefused = "registry_refused"
	// ReasonArtifactNotFound: the reference does not exist in the registry.
	ReasonArtifactNotFound = "artifact_not_found"
	// ReasonArtifactInvalid: the reference is not an AetherEngine artifact,
	// or its metadata is larger than the server reads.
	ReasonArtifactInvalid = "artifact_invalid"
	// ReasonDigestMismatch: the registry served content that does not match
	// its digest.
	ReasonDigestMismatch = "digest_mismatch"
)

// Reasons lists the admission reason codes.
var Reasons = []string{
	ReasonUnsigned, ReasonUntrustedKey, ReasonSubjectMismatch, ReasonBundleInvalid, ReasonSBOMMissing, ReasonSBOMInvalid,
	ReasonProvenanceMissing, ReasonProvenanceMismatch, ReasonTooManyReferrers, ReasonNoTrustedKeys,
	ReasonRegistryNotAllowed, ReasonRegistryUnreachable, ReasonRegistryRefused, ReasonArtifactNotFound,
	ReasonArtifactInvalid, ReasonDigestMismatch,
}

// ReasonNoRuntime is the reason of the note event that ends a verified
// deployment's history on a server without a runtime: nothing will run
// it, so clients waiting for it stop there.
const ReasonNoRuntime = "no_runtime"
