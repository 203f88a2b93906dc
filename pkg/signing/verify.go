package signing

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/aetherengine/aether/pkg/provenance"
	"github.com/aetherengine/aether/pkg/referrers"
)

// Repository is what verification needs from a registry repository:
// listing and fetching referrers, and resolving the legacy cosign
// `sha256-<hex>.sig` tags. *remote.Repository from oras-go satisfies it;
// pass it through referrers.Limit so its answers are bounded.
type Repository interface {
	referrers.Target
	Resolve(ctx context.Context, reference string) (ocispec.Descriptor, error)
}

// ArtifactVerifier is the small interface the control plane and
// aether-fetch depend on; *Verifier implements it.
type ArtifactVerifier interface {
	Verify(ctx context.Context, repo Repository, subject ocispec.Descriptor, policy Policy) (*Result, error)
}

// Policy is what an artifact must carry to be accepted.
type Policy struct {
	// Keys are the trusted public keys; any of them may sign (rotation).
	Keys []PublicKey
	// RequireSBOM requires a CycloneDX SBOM attestation, signed by a
	// trusted key, about this digest, whose document is valid.
	RequireSBOM bool
	// RequireProvenance requires SLSA v1 provenance signed by a trusted
	// key about this digest.
	RequireProvenance bool
	// BuilderID, when set, is the builder id the provenance must name
	// (and makes provenance required).
	BuilderID string
	// SourceRepo, when set, is the source repository the provenance must
	// name (and makes provenance required).
	SourceRepo string
}

// Result is what verification established.
type Result struct {
	Digest     digest.Digest `json:"digest"`
	Verified   bool          `json:"verified"`
	VerifiedAt time.Time     `json:"verifiedAt"`
	// Signatures are the trusted signatures of this digest.
	Signatures []SignatureInfo `json:"signatures,omitempty"`
	// SBOM is the trusted, valid SBOM attestation, if any.
	SBOM *SBOMInfo `json:"sbom,omitempty"`
	// Provenance is the trusted provenance, if any.
	Provenance *ProvenanceInfo `json:"provenance,omitempty"`
	// Failures explain a refusal (also in the returned *Error).
	Failures []Failure `json:"failures,omitempty"`
	// Referrers is how many referrers were examined.
	Referrers int `json:"referrers"`
}

// SignatureInfo is one trusted signature.
type SignatureInfo struct {
	// Referrer is the referrer manifest's digest, or the legacy tag.
	Referrer string `json:"referrer"`
	// Key is the name of the trusted key that verified it.
	Key string `json:"key"`
	// Format is "bundle" (cosign v3) or "legacy" (simplesigning).
	Format string `json:"format"`
}

// SBOMInfo describes the trusted SBOM.
type SBOMInfo struct {
	Referrer string `json:"referrer"`
	Key      string `json:"key"`
	SBOMSummary
}

// ProvenanceInfo describes the trusted provenance.
type ProvenanceInfo struct {
	Referrer string `json:"referrer"`
	Key      string `json:"key"`
	provenance.Summary
}

// SBOMSummary is what the verifier records of a valid SBOM.
type SBOMSummary struct {
	Format      string `json:"format"`
	SpecVersion string `json:"specVersion"`
	Components  int    `json:"components"`
	// Name and Version are the described software's (metadata.component).
	Name         string `json:"name,omitempty"`
	Version      string `json:"version,omitempty"`
	SerialNumber string `json:"serialNumber,omitempty"`
}

// Verifier verifies artifacts against a Policy. The zero value is ready
// to use with the default bounds.
type Verifier struct {
	// MaxReferrers bounds the referrers examined (DefaultMaxReferrers).
	MaxReferrers int
	// MaxBundleBytes bounds a bundle or legacy layer read (MaxBundleBytes).
	MaxBundleBytes int64
	// ValidateSBOM checks an SBOM document; DefaultValidateSBOM when nil.
	ValidateSBOM func(data []byte) (SBOMSummary, error)
	// Now is the verification time (time.Now when nil); it decides which
	// keys are retired.
	Now func() time.Time
	// Log receives one debug line per referrer examined; nil discards.
	Log *slog.Logger
}

// Verify checks subject's referrers against policy with a zero Verifier.
func Verify(ctx context.Context, repo Repository, subject ocispec.Descriptor, policy Policy) (*Result, error) {
	return (&Verifier{}).Verify(ctx, repo, subject, policy)
}

// Verify lists the referrers of subject (bounded), checks every Sigstore
// bundle against the policy's keys, and decides on the signed statements:
// a signature is a statement of predicateType PredicateSignature (never an
// attestation), the SBOM one of PredicateCycloneDX, the provenance one of
// PredicateSLSAProvenance1, each about subject's digest. Legacy cosign
// signatures (the `sha256-<hex>.sig` tag) and attestations (`.att`) count
// too. It returns the Result and, when the artifact is refused, an *Error
// with a Reason per failure; any other error is not a verdict.
func (v *Verifier) Verify(ctx context.Context, repo Repository, subject ocispec.Descriptor, policy Policy) (*Result, error) {
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	log := v.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	res := &Result{Digest: subject.Digest, VerifiedAt: now().UTC()}
	fail := func(fs ...Failure) (*Result, error) {
		e := newError(subject.Digest, fs)
		res.Failures = e.Failures
		return res, e
	}
	if err := subject.Digest.Validate(); err != nil {
		return nil, fmt.Errorf("verify: subject digest %q: %w", subject.Digest, err)
	}
	if len(policy.Keys) == 0 {
		return nil, errors.New("verify: the policy trusts no key; pass at least one public key (cosign.pub)")
	}
	keys, retired := splitKeys(policy.Keys, res.VerifiedAt)

	refs, err := referrers.List(ctx, repo, subject, referrers.Options{MaxReferrers: v.maxReferrers()})
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if errors.Is(err, referrers.ErrTooManyReferrers) {
			return fail(Failure{Reason: ReasonTooManyReferrers, Message: fmt.Sprintf("%v; a registry (or someone with push rights) attached more than the %d referrers we read — delete stale signatures or raise the bound", err, v.maxReferrers())})
		}
		return fail(Failure{Reason: ReasonRegistryUnreachable, Message: fmt.Sprintf("cannot list referrers: %v", err)})
	}
	res.Referrers = len(refs)

	var cands []*candidate
	for _, d := range refs {
		if d.ArtifactType != BundleMediaType {
			log.Debug("referrer skipped", "referrer", d.Digest, "artifactType", d.ArtifactType)
			continue
		}
		c, err := v.bundleCandidate(ctx, repo, d)
		if err != nil {
			return fail(Failure{Reason: ReasonRegistryUnreachable, Message: err.Error(), Referrer: d.Digest.String()})
		}
		cands = append(cands, c)
	}
	legacy, err := v.legacyCandidates(ctx, repo, subject)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return fail(Failure{Reason: ReasonRegistryUnreachable, Message: err.Error()})
	}
	cands = append(cands, legacy...)
	for _, c := range cands {
		c.check(keys, retired, subject.Digest)
		log.Debug("referrer examined", "referrer", c.ref, "format", c.format, "predicateType", c.predicateType, "key", c.key, "failure", c.failure.Reason)
	}

	failures := v.decide(res, cands, policy)
	if len(failures) > 0 {
		return fail(failures...)
	}
	res.Verified = true
	return res, nil
}

func (v *Verifier) maxReferrers() int {
	if v.MaxReferrers > 0 {
		return v.MaxReferrers
	}
	return referrers.DefaultMaxReferrers
}

func (v *Verifier) maxBundleBytes() int64 {
	if v.MaxBundleBytes > 0 {
		return v.MaxBundleBytes
	}
	return MaxBundleBytes
}

// splitKeys separates the keys trusted at t from the retired ones.
func splitKeys(all []PublicKey, t time.Time) (trusted, retired []PublicKey) {
	for _, k := range all {
		if k.Retired(t) {
			retired = append(retired, k)
		} else {
			trusted = append(trusted, k)
		}
	}
	return trusted, retired
}

// decide turns the examined candidates into the result and the failures.
func (v *Verifier) decide(res *Result, cands []*candidate, policy Policy) []Failure {
	var failures []Failure
	byKind := map[string][]*candidate{}
	for _, c := range cands {
		byKind[c.kind()] = append(byKind[c.kind()], c)
	}

	// Signature: at least one trusted statement of the signature type.
	for _, c := range byKind[kindSignature] {
		if c.ok() {
			res.Signatures = append(res.Signatures, SignatureInfo{Referrer: c.ref, Key: c.key, Format: c.format})
		}
	}
	if len(res.Signatures) == 0 {
		failures = append(failures, rejected(byKind[kindSignature])...)
		if len(byKind[kindSignature]) == 0 {
			msg := fmt.Sprintf("artifact %s has no signature; sign it with `aether sign REF --key cosign.key`", res.Digest)
			if others := trustedKinds(cands); len(others) > 0 {
				msg = fmt.Sprintf("artifact %s has no signature, only attestations (%s), and an attestation is not a signature; sign it with `aether sign REF --key cosign.key`", res.Digest, strings.Join(others, ", "))
			}
			failures = append(failures, Failure{Reason: ReasonUnsigned, Message: msg})
		}
	}

	// What is wrong with the signature matters more than what is wrong with
	// an attestation: an unsigned artifact is "unsigned" even when an
	// untrusted key signed its SBOM.
	signatureFailures := len(failures)

	// SBOM: a trusted CycloneDX attestation whose document validates.
	validate := v.ValidateSBOM
	if validate == nil {
		validate = DefaultValidateSBOM
	}
	var sbomFailures []Failure
	for _, c := range byKind[kindSBOM] {
		if !c.ok() {
			continue
		}
		sum, err := validate(c.statement.Predicate)
		if err != nil {
			sbomFailures = append(sbomFailures, Failure{Reason: ReasonSBOMInvalid, Referrer: c.ref,
				Message: fmt.Sprintf("the SBOM attestation signed by %s is not a valid CycloneDX SBOM: %v; attach the SBOM `aether build` wrote with `aether attest REF --sbom FILE`", c.key, err)})
			continue
		}
		res.SBOM = &SBOMInfo{Referrer: c.ref, Key: c.key, SBOMSummary: sum}
		break
	}
	if res.SBOM == nil && policy.RequireSBOM {
		failures = append(failures, sbomFailures...)
		failures = append(failures, rejected(byKind[kindSBOM])...)
		if len(sbomFailures) == 0 {
			failures = append(failures, Failure{Reason: ReasonSBOMMissing,
				Message: fmt.Sprintf("artifact %s has no CycloneDX SBOM attestation signed by a trusted key; attach one with `aether attest REF --key cosign.key --sbom sbom.cdx.json`", res.Digest)})
		}
	}

	// Provenance: reported when present; required by the policy or not.
	var provFailures []Failure
	for _, c := range byKind[kindProvenance] {
		if !c.ok() {
			continue
		}
		p, err := provenance.Parse(c.statement.Predicate)
		if err != nil {
			provFailures = append(provFailures, Failure{Reason: ReasonProvenanceMismatch, Referrer: c.ref,
				Message: fmt.Sprintf("the provenance signed by %s does not parse: %v", c.key, err)})
			continue
		}
		s := p.Summary()
		if policy.BuilderID != "" && s.BuilderID != policy.BuilderID {
			provFailures = append(provFailures, Failure{Reason: ReasonProvenanceMismatch, Referrer: c.ref,
				Message: fmt.Sprintf("provenance names builder %q, the policy requires %q", s.BuilderID, policy.BuilderID)})
			continue
		}
		if policy.SourceRepo != "" && !provenance.SameRepo(s.SourceRepo, policy.SourceRepo) {
			provFailures = append(provFailures, Failure{Reason: ReasonProvenanceMismatch, Referrer: c.ref,
				Message: fmt.Sprintf("provenance names source %q, the policy requires %q", s.SourceRepo, policy.SourceRepo)})
			continue
		}
		res.Provenance = &ProvenanceInfo{Referrer: c.ref, Key: c.key, Summary: s}
		break
	}
	needProv := policy.RequireProvenance || policy.BuilderID != "" || policy.SourceRepo != ""
	if res.Provenance == nil && needProv {
		failures = append(failures, provFailures...)
		failures = append(failures, rejected(byKind[kindProvenance])...)
		if len(provFailures) == 0 {
			failures = append(failures, Failure{Reason: ReasonProvenanceMissing,
				Message: fmt.Sprintf("artifact %s has no SLSA provenance signed by a trusted key; attach it with `aether attest REF --key cosign.key --provenance`", res.Digest)})
		}
	}
	for i := signatureFailures; i < len(failures); i++ {
		failures[i].attestation = true
	}
	return failures
}

// rejected lists why candidates of one kind were not trusted.
func rejected(cs []*candidate) []Failure {
	var out []Failure
	for _, c := range cs {
		if !c.ok() {
			out = append(out, c.failure)
		}
	}
	return out
}

// trustedKinds names the predicate types of trusted candidates, for the
// "only attestations" message.
func trustedKinds(cs []*candidate) []string {
	seen := map[string]bool{}
	var out []string
	for _, c := range cs {
		if c.ok() && !seen[c.predicateType] {
			seen[c.predicateType] = true
			out = append(out, c.predicateType)
		}
	}
	return out
}
