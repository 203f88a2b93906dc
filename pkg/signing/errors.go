package signing

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/opencontainers/go-digest"
)

// Reason is a machine-readable verification failure code. The control
// plane returns it in its 422 answers and counts it in
// aether_verification_failures_total{reason}.
type Reason string

// Reasons, from the most to the least fundamental: Error.Reason reports
// the first one present.
const (
	// ReasonRegistryUnreachable: the registry could not be asked.
	ReasonRegistryUnreachable Reason = "registry_unreachable"
	// ReasonTooManyReferrers: more referrers than the bound; nothing was
	// decided.
	ReasonTooManyReferrers Reason = "too_many_referrers"
	// ReasonSubjectMismatch: a trusted signature or attestation is about
	// another artifact.
	ReasonSubjectMismatch Reason = "subject_mismatch"
	// ReasonBundleInvalid: a signature referrer that does not parse, or
	// whose signature does not match the key it names (tampered).
	ReasonBundleInvalid Reason = "bundle_invalid"
	// ReasonUntrustedKey: signed, but by no key the policy trusts (or by a
	// retired one).
	ReasonUntrustedKey Reason = "untrusted_key"
	// ReasonUnsigned: no signature at all (attestations are not
	// signatures).
	ReasonUnsigned Reason = "unsigned"
	// ReasonSBOMMissing: no CycloneDX SBOM attestation from a trusted key
	// about this artifact.
	ReasonSBOMMissing Reason = "sbom_missing"
	// ReasonSBOMInvalid: the SBOM attestation is trusted but its document
	// is not a valid CycloneDX SBOM.
	ReasonSBOMInvalid Reason = "sbom_invalid"
	// ReasonProvenanceMissing: provenance is required and there is none
	// from a trusted key about this artifact.
	ReasonProvenanceMissing Reason = "provenance_missing"
	// ReasonProvenanceMismatch: the provenance does not parse or names
	// another builder or source than the policy requires.
	ReasonProvenanceMismatch Reason = "provenance_mismatch"
)

var reasonOrder = []Reason{
	ReasonRegistryUnreachable, ReasonTooManyReferrers, ReasonSubjectMismatch, ReasonBundleInvalid,
	ReasonUntrustedKey, ReasonUnsigned, ReasonSBOMMissing, ReasonSBOMInvalid,
	ReasonProvenanceMissing, ReasonProvenanceMismatch,
}

func rank(r Reason) int {
	for i, x := range reasonOrder {
		if x == r {
			return i
		}
	}
	return len(reasonOrder)
}

// Failure is one reason an artifact was refused.
type Failure struct {
	Reason Reason `json:"reason"`
	// Message says what was wrong and what to do.
	Message string `json:"message"`
	// Referrer is the digest of the referrer manifest concerned, if any.
	Referrer string `json:"referrer,omitempty"`
	// attestation marks failures about an attestation rather than the
	// signature: they rank after every signature failure.
	attestation bool
}

// Error is returned by Verify when the artifact does not satisfy the
// policy. It lists every failure found, most fundamental first.
type Error struct {
	Digest   digest.Digest
	Failures []Failure
}

// Error lists the failures on one line.
func (e *Error) Error() string {
	parts := make([]string, len(e.Failures))
	for i, f := range e.Failures {
		parts[i] = string(f.Reason) + ": " + f.Message
	}
	return fmt.Sprintf("artifact %s failed verification: %s", e.Digest, strings.Join(parts, "; "))
}

// Reason is the most fundamental failure's code.
func (e *Error) Reason() Reason {
	if len(e.Failures) == 0 {
		return ""
	}
	return e.Failures[0].Reason
}

// Has reports whether reason is among the failures.
func (e *Error) Has(reason Reason) bool {
	for _, f := range e.Failures {
		if f.Reason == reason {
			return true
		}
	}
	return false
}

// ReasonOf returns the reason code of a Verify error, or "" when err is
// not a verification failure.
func ReasonOf(err error) Reason {
	var ve *Error
	if errors.As(err, &ve) {
		return ve.Reason()
	}
	return ""
}

// newError sorts and de-duplicates failures.
func newError(d digest.Digest, fs []Failure) *Error {
	seen := map[Failure]bool{}
	var out []Failure
	for _, f := range fs {
		if !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].attestation != out[j].attestation {
			return !out[i].attestation
		}
		return rank(out[i].Reason) < rank(out[j].Reason)
	})
	return &Error{Digest: d, Failures: out}
}
