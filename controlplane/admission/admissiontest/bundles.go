package admissiontest

import (
	"context"
	"testing"

	"github.com/aetherengine/aether/pkg/signing/signingtest"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/aetherengine/aether/pkg/referrers"
	"github.com/aetherengine/aether/pkg/signing"
)

// BundleFor signs a statement of predicateType about about (which need not
// be the artifact it will be attached to) and returns the Sigstore bundle.
func BundleFor(t testing.TB, about ocispec.Descriptor, k Key, predicateType string, predicate []byte) []byte {
	t.Helper()
	st, err := signing.NewStatement(about.Digest, predicateType, predicate)
	if err != nil {
		t.Fatal(err)
	}
	b, err := signing.NewBundle(context.Background(), k.Signer, st)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// AttachBundle attaches raw bundle bytes to subject as cosign does, with
// predicateType in the annotation (whatever the bundle really holds).
func AttachBundle(t testing.TB, repo referrers.Target, subject ocispec.Descriptor, bundle []byte, predicateType string) {
	t.Helper()
	if _, err := referrers.Attach(context.Background(), repo, subject, signing.BundleMediaType,
		[]referrers.Blob{{MediaType: signing.BundleMediaType, Data: bundle}},
		map[string]string{signing.AnnotationBundleContent: signing.BundleContentDSSE, signing.AnnotationBundlePredicateType: predicateType}); err != nil {
		t.Fatal(err)
	}
}

// Tamper changes the signed statement inside a bundle and keeps its
// signature (see signingtest.Tamper).
func Tamper(t testing.TB, bundle []byte) []byte { return signingtest.Tamper(t, bundle) }
