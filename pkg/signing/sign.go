package signing

import (
	"context"
	"fmt"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/aetherengine/aether/pkg/referrers"
)

// Sign signs the artifact subject and attaches the signature as an OCI
// 1.1 referrer, exactly as `cosign sign --key` does in cosign v3: a bundle
// v0.3 whose DSSE envelope carries an in-toto statement with the
// artifact's digest as subject and PredicateSignature as predicateType.
// It returns the referrer's descriptor.
func Sign(ctx context.Context, repo referrers.Target, subject ocispec.Descriptor, signer Signer) (ocispec.Descriptor, error) {
	return Attest(ctx, repo, subject, signer, PredicateSignature, nil)
}

// Attest signs an attestation (predicateType, predicate JSON object) about
// subject and attaches it as a referrer, as `cosign attest --key` does:
// PredicateCycloneDX with the SBOM document as predicate,
// PredicateSLSAProvenance1 with a provenance predicate.
func Attest(ctx context.Context, repo referrers.Target, subject ocispec.Descriptor, signer Signer, predicateType string, predicate []byte) (ocispec.Descriptor, error) {
	if len(predicate) > MaxStatementBytes {
		return ocispec.Descriptor{}, fmt.Errorf("attest %s: predicate is %d bytes, at most %d", predicateType, len(predicate), MaxStatementBytes)
	}
	stmt, err := NewStatement(subject.Digest, predicateType, predicate)
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("attest %s: %w", predicateType, err)
	}
	bundle, err := NewBundle(ctx, signer, stmt)
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("attest %s: %w", predicateType, err)
	}
	desc, err := referrers.Attach(ctx, repo, subject, BundleMediaType,
		[]referrers.Blob{{MediaType: BundleMediaType, Data: bundle}},
		map[string]string{
			ocispec.AnnotationCreated:     time.Now().UTC().Format(time.RFC3339),
			AnnotationBundleContent:       BundleContentDSSE,
			AnnotationBundlePredicateType: predicateType,
		})
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	return desc, nil
}
