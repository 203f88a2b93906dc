package signing

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/errdef"

	"github.com/aetherengine/aether/pkg/referrers"
)

// Kinds of signed statement the policy knows.
const (
	kindSignature  = "signature"
	kindSBOM       = "sbom"
	kindProvenance = "provenance"
	kindOther      = "other"
)

// candidate is one signed thing found for the subject: a bundle referrer
// or a layer of a legacy `.sig`/`.att` manifest.
type candidate struct {
	ref    string // referrer digest, or legacy tag@digest
	format string // "bundle" or "legacy"
	// predicateType is the statement's, or the manifest annotation's when
	// the bundle did not parse (it is then only used to classify).
	predicateType string
	statement     *Statement
	keyHint       string
	certificate   bool
	verifyKey     func(PublicKey) error
	parseErr      error

	key     string  // the trusted key that verified it
	failure Failure // zero when trusted and about the subject
}

func (c *candidate) ok() bool { return c.key != "" && c.failure.Reason == "" }

func (c *candidate) kind() string {
	switch c.predicateType {
	case PredicateSignature, "":
		// A bundle we cannot read, with no hint of what it claims, counts
		// against the signature: it may have been one.
		return kindSignature
	case PredicateCycloneDX:
		return kindSBOM
	case PredicateSLSAProvenance1:
		return kindProvenance
	}
	return kindOther
}

// check verifies the candidate with the trusted keys and records the key
// or the failure.
func (c *candidate) check(keys, retired []PublicKey, subject digest.Digest) {
	what := describe(c.predicateType)
	if c.parseErr != nil {
		c.failure = Failure{Reason: ReasonBundleInvalid, Referrer: c.ref,
			Message: fmt.Sprintf("%s referrer %s cannot be read: %v; delete it and sign again", what, c.ref, c.parseErr)}
		return
	}
	for _, k := range keys {
		if c.verifyKey(k) == nil {
			c.key = k.Name
			break
		}
	}
	if c.key == "" {
		c.failure = c.untrusted(keys, retired, what)
		return
	}
	if !c.statement.Covers(subject) {
		c.failure = Failure{Reason: ReasonSubjectMismatch, Referrer: c.ref,
			Message: fmt.Sprintf("%s %s, signed by %s, is about %s, not this artifact %s: it was copied from another artifact; sign this digest",
				what, c.ref, c.key, strings.Join(c.statement.SubjectDigests(), ", "), subject)}
	}
}

// untrusted explains why no trusted key verified the candidate: a
// retired key, a bundle altered after it was signed (its key hint names a
// trusted key that does not verify it), keyless, or another key.
func (c *candidate) untrusted(keys, retired []PublicKey, what string) Failure {
	f := Failure{Reason: ReasonUntrustedKey, Referrer: c.ref}
	for _, k := range retired {
		if c.verifyKey(k) == nil {
			f.Message = fmt.Sprintf("%s %s is signed by key %s, retired at %s; sign again with a current key", what, c.ref, k.Name, k.RetiredAt.UTC().Format(time.RFC3339))
			return f
		}
	}
	if c.keyHint != "" {
		for _, k := range append(append([]PublicKey(nil), keys...), retired...) {
			if k.ID() == c.keyHint {
				return Failure{Reason: ReasonBundleInvalid, Referrer: c.ref,
					Message: fmt.Sprintf("%s %s names key %s but its signature does not verify: it was altered after signing; delete it and sign again", what, c.ref, k.Name)}
			}
		}
	}
	if c.certificate {
		f.Message = fmt.Sprintf("%s %s is signed keyless (Fulcio certificate); only key signatures are trusted by this policy", what, c.ref)
		return f
	}
	f.Message = fmt.Sprintf("%s %s is not signed by a trusted key (trusted: %s); sign with one of them or add its public key to the policy", what, c.ref, keyNames(keys))
	return f
}

func keyNames(keys []PublicKey) string {
	if len(keys) == 0 {
		return "none"
	}
	names := make([]string, len(keys))
	for i, k := range keys {
		names[i] = k.Name
	}
	return strings.Join(names, ", ")
}

func describe(predicateType string) string {
	switch predicateType {
	case PredicateSignature, "":
		return "signature"
	case PredicateCycloneDX:
		return "SBOM attestation"
	case PredicateSLSAProvenance1:
		return "provenance attestation"
	}
	return "attestation " + predicateType
}

// bundleCandidate reads a bundle referrer. Content problems (too large,
// bad digest, not a bundle) make an invalid candidate; only failing to
// talk to the registry is an error.
func (v *Verifier) bundleCandidate(ctx context.Context, repo Repository, d ocispec.Descriptor) (*candidate, error) {
	c := &candidate{ref: d.Digest.String(), format: "bundle", predicateType: d.Annotations[AnnotationBundlePredicateType]}
	m, _, err := referrers.FetchManifest(ctx, repo, d, 0)
	if err != nil {
		if !contentProblem(err) {
			return nil, err
		}
		c.parseErr = err
		return c, nil
	}
	if pt := m.Annotations[AnnotationBundlePredicateType]; pt != "" {
		c.predicateType = pt
	}
	var layer *ocispec.Descriptor
	for i := range m.Layers {
		if strings.HasPrefix(m.Layers[i].MediaType, "application/vnd.dev.sigstore.bundle") {
			layer = &m.Layers[i]
			break
		}
	}
	if layer == nil {
		c.parseErr = errors.New("its manifest has no Sigstore bundle layer")
		return c, nil
	}
	data, err := referrers.FetchBlob(ctx, repo, *layer, v.maxBundleBytes())
	if err != nil {
		if !contentProblem(err) {
			return nil, err
		}
		c.parseErr = err
		return c, nil
	}
	b, err := ParseBundle(data)
	if err != nil {
		c.parseErr = err
		return c, nil
	}
	c.statement = b.Statement
	c.predicateType = b.Statement.PredicateType
	c.keyHint = b.KeyHint
	c.certificate = b.Certificate
	c.verifyKey = b.VerifyKey
	return c, nil
}

// contentProblem tells content the registry served but we refuse from a
// registry we could not talk to.
func contentProblem(err error) bool {
	for _, target := range []error{
		referrers.ErrTooLarge, referrers.ErrInvalidManifest, content.ErrMismatchedDigest,
		content.ErrTrailingData, errdef.ErrNotFound, errdef.ErrSizeExceedsLimit, content.ErrInvalidDescriptorSize,
	} {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}
