package signing

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/opencontainers/go-digest"
)

// In-toto and cosign identifiers.
const (
	// StatementType is the in-toto Statement v1 type.
	StatementType = "https://in-toto.io/Statement/v1"
	// InTotoPayloadType is the DSSE payloadType of an in-toto statement.
	InTotoPayloadType = "application/vnd.in-toto+json"

	// PredicateSignature is what cosign v3 signs for `cosign sign`: a
	// statement whose predicate is empty and whose subject is the image.
	PredicateSignature = "https://sigstore.dev/cosign/sign/v1"
	// PredicateCycloneDX is the predicateType of a CycloneDX SBOM
	// attestation (`cosign attest --type cyclonedx`).
	PredicateCycloneDX = "https://cyclonedx.org/bom"
	// PredicateSLSAProvenance1 is the predicateType of SLSA v1 provenance
	// (`cosign attest --type slsaprovenance1`).
	PredicateSLSAProvenance1 = "https://slsa.dev/provenance/v1"
)

// MaxStatementBytes bounds a decoded statement: it holds the predicate, and
// an SBOM predicate of a large app is a few MiB.
const MaxStatementBytes = 16 << 20

// maxSubjects bounds the subjects of a statement we look at.
const maxSubjects = 64

// Statement is an in-toto Statement v1.
type Statement struct {
	Type          string          `json:"_type"`
	Subject       []Subject       `json:"subject"`
	PredicateType string          `json:"predicateType"`
	Predicate     json.RawMessage `json:"predicate,omitempty"`
}

// Subject is a statement subject (an in-toto ResourceDescriptor).
type Subject struct {
	Name   string            `json:"name,omitempty"`
	Digest map[string]string `json:"digest"`
}

// NewStatement builds the statement for an artifact digest. cosign v3
// writes the subject without a name and an empty object as the predicate
// of a plain signature; so do we.
func NewStatement(subject digest.Digest, predicateType string, predicate []byte) ([]byte, error) {
	if err := subject.Validate(); err != nil {
		return nil, fmt.Errorf("statement subject %q: %w", subject, err)
	}
	if predicateType == "" {
		return nil, errors.New("statement: predicateType is required")
	}
	if len(bytes.TrimSpace(predicate)) == 0 {
		predicate = []byte("{}")
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, predicate); err != nil {
		return nil, fmt.Errorf("statement predicate is not JSON: %w", err)
	}
	if compact.Len() == 0 || compact.Bytes()[0] != '{' {
		return nil, errors.New("statement predicate must be a JSON object")
	}
	return json.Marshal(Statement{
		Type:          StatementType,
		Subject:       []Subject{{Digest: map[string]string{subject.Algorithm().String(): subject.Encoded()}}},
		PredicateType: predicateType,
		Predicate:     compact.Bytes(),
	})
}

// ParseStatement decodes an in-toto Statement v1 (v0.1 statements, which
// older cosign wrote, are accepted too) and checks it has a predicateType
// and between one and maxSubjects subjects.
func ParseStatement(data []byte) (*Statement, error) {
	if len(data) > MaxStatementBytes {
		return nil, fmt.Errorf("statement is %d bytes, at most %d", len(data), MaxStatementBytes)
	}
	var st Statement
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, fmt.Errorf("statement is not valid JSON: %v", err)
	}
	switch st.Type {
	case StatementType, "https://in-toto.io/Statement/v0.1":
	default:
		return nil, fmt.Errorf("statement _type %q is not an in-toto statement", st.Type)
	}
	if st.PredicateType == "" {
		return nil, errors.New("statement has no predicateType")
	}
	if len(st.Subject) == 0 || len(st.Subject) > maxSubjects {
		return nil, fmt.Errorf("statement has %d subjects, want 1 to %d", len(st.Subject), maxSubjects)
	}
	return &st, nil
}

// Covers reports whether one of the statement's subjects is d (same
// algorithm, same hex, case-insensitively as in-toto allows).
func (s *Statement) Covers(d digest.Digest) bool {
	for _, sub := range s.Subject {
		if v, ok := sub.Digest[d.Algorithm().String()]; ok && strings.EqualFold(v, d.Encoded()) {
			return true
		}
	}
	return false
}

// SubjectDigests lists the statement's subject digests, for messages.
func (s *Statement) SubjectDigests() []string {
	var out []string
	for _, sub := range s.Subject {
		for alg, v := range sub.Digest {
			out = append(out, alg+":"+v)
		}
	}
	return out
}
