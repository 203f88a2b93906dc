// Package admissiontest signs test artifacts the way `aether sign` and
// `aether attest` do, and serves a hostile registry, for the admission
// tests of the control plane and the end-to-end tests.
package admissiontest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/aetherengine/aether/pkg/provenance"
	"github.com/aetherengine/aether/pkg/referrers"
	"github.com/aetherengine/aether/pkg/signing"
)

// SBOM is a small valid CycloneDX 1.5 SBOM with two components.
var SBOM = []byte(`{
  "bomFormat": "CycloneDX",
  "specVersion": "1.5",
  "serialNumber": "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79",
  "version": 1,
  "metadata": {"component": {"type": "application", "name": "hello", "version": "1.0.0", "bom-ref": "pkg:npm/hello@1.0.0"}},
  "components": [
    {"type": "library", "name": "express", "version": "4.19.2", "purl": "pkg:npm/express@4.19.2", "bom-ref": "pkg:npm/express@4.19.2"},
    {"type": "library", "name": "ms", "version": "2.1.3", "purl": "pkg:npm/ms@2.1.3", "bom-ref": "pkg:npm/ms@2.1.3"}
  ]
}`)

// Source and builder the test provenance names.
const (
	SourceRepo   = "https://github.com/acme/hello"
	SourceCommit = "0123456789abcdef0123456789abcdef01234567"
	BuilderID    = provenance.BuilderGitHubHosted
)

// Key is a signing key pair; PEM is the public key as cosign.pub holds it.
type Key struct {
	Signer *signing.KeySigner
	PEM    string
}

// NewKey generates an ECDSA P-256 key (what cosign generates), without the
// deliberately slow password encryption of a cosign.key file.
func NewKey(t testing.TB) Key {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := signing.NewKeySigner(priv)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := signing.MarshalPublicKey(&priv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return Key{Signer: s, PEM: string(pub)}
}

// Sign attaches a signature of subject by k.
func Sign(t testing.TB, repo referrers.Target, subject ocispec.Descriptor, k Key) {
	t.Helper()
	if _, err := signing.Sign(context.Background(), repo, subject, k.Signer); err != nil {
		t.Fatalf("sign %s: %v", subject.Digest, err)
	}
}

// AttestSBOM attaches sbom (SBOM when nil) as a signed CycloneDX attestation.
func AttestSBOM(t testing.TB, repo referrers.Target, subject ocispec.Descriptor, k Key, sbom []byte) {
	t.Helper()
	if sbom == nil {
		sbom = SBOM
	}
	if _, err := signing.Attest(context.Background(), repo, subject, k.Signer, signing.PredicateCycloneDX, sbom); err != nil {
		t.Fatalf("attest SBOM of %s: %v", subject.Digest, err)
	}
}

// AttestProvenance attaches SLSA provenance naming builder (BuilderID when
// empty) and SourceRepo at SourceCommit.
func AttestProvenance(t testing.TB, repo referrers.Target, subject ocispec.Descriptor, k Key, builder string) {
	t.Helper()
	if builder == "" {
		builder = BuilderID
	}
	p, err := provenance.Generate(context.Background(), provenance.Options{
		Source:         &provenance.Source{Repository: SourceRepo, Ref: "refs/heads/main", Commit: SourceCommit},
		BuilderID:      builder,
		LockfileDigest: "sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae",
		NodeVersion:    "20.20.2",
		StartedOn:      time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC),
		FinishedOn:     time.Date(2024, 1, 1, 0, 1, 0, 0, time.UTC),
	})
	if err != nil {
		t.Fatal(err)
	}
	b, err := p.JSON()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := signing.Attest(context.Background(), repo, subject, k.Signer, signing.PredicateSLSAProvenance1, b); err != nil {
		t.Fatalf("attest provenance of %s: %v", subject.Digest, err)
	}
}

// SignAll signs subject and attaches the SBOM and the provenance.
func SignAll(t testing.TB, repo referrers.Target, subject ocispec.Descriptor, k Key) {
	t.Helper()
	Sign(t, repo, subject, k)
	AttestSBOM(t, repo, subject, k, nil)
	AttestProvenance(t, repo, subject, k, "")
}
