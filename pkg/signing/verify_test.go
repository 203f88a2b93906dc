package signing_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/aetherengine/aether/pkg/signing/signingtest"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/registry/remote"

	"github.com/aetherengine/aether/internal/regtest"
	"github.com/aetherengine/aether/pkg/provenance"
	"github.com/aetherengine/aether/pkg/referrers"
	"github.com/aetherengine/aether/pkg/referrers/referrerstest"
	"github.com/aetherengine/aether/pkg/signing"
)

// setup prepares one case: the repository, the subject to verify and the
// policy. It may sign, attest, attach, push and move tags.
type setup func(t *testing.T, repo *remote.Repository, subject ocispec.Descriptor) (ocispec.Descriptor, signing.Policy)

func TestVerify(t *testing.T) {
	ctx := context.Background()
	a, b := keys(t)
	sbom := readTestdata(t, "sbom.cdx.json")
	prov := provenancePredicate(t)
	trustA := signing.Policy{Keys: []signing.PublicKey{a.pub}, RequireSBOM: true}

	sign := func(t *testing.T, repo *remote.Repository, s ocispec.Descriptor, k testKey) {
		t.Helper()
		if _, err := signing.Sign(ctx, repo, s, k.signer); err != nil {
			t.Fatal(err)
		}
	}
	attest := func(t *testing.T, repo *remote.Repository, s ocispec.Descriptor, k testKey, pt string, pred []byte) {
		t.Helper()
		if _, err := signing.Attest(ctx, repo, s, k.signer, pt, pred); err != nil {
			t.Fatal(err)
		}
	}
	full := func(t *testing.T, repo *remote.Repository, s ocispec.Descriptor, k testKey) {
		sign(t, repo, s, k)
		attest(t, repo, s, k, signing.PredicateCycloneDX, sbom)
		attest(t, repo, s, k, signing.PredicateSLSAProvenance1, prov)
	}
	// attachBundle attaches raw bundle bytes as cosign would.
	attachBundle := func(t *testing.T, repo *remote.Repository, s ocispec.Descriptor, bundle []byte, pt string) {
		t.Helper()
		if _, err := referrers.Attach(ctx, repo, s, signing.BundleMediaType,
			[]referrers.Blob{{MediaType: signing.BundleMediaType, Data: bundle}},
			map[string]string{signing.AnnotationBundleContent: signing.BundleContentDSSE, signing.AnnotationBundlePredicateType: pt}); err != nil {
			t.Fatal(err)
		}
	}
	bundleFor := func(t *testing.T, s ocispec.Descriptor, k testKey, pt string, pred []byte) []byte {
		t.Helper()
		st, err := signing.NewStatement(s.Digest, pt, pred)
		if err != nil {
			t.Fatal(err)
		}
		bb, err := signing.NewBundle(ctx, k.signer, st)
		if err != nil {
			t.Fatal(err)
		}
		return bb
	}

	tests := []struct {
		name       string
		setup      setup
		wantReason signing.Reason // "" means verified
		check      func(t *testing.T, res *signing.Result)
	}{
		{
			name: "signed with SBOM and provenance",
			setup: func(t *testing.T, repo *remote.Repository, s ocispec.Descriptor) (ocispec.Descriptor, signing.Policy) {
				full(t, repo, s, a)
				p := trustA
				p.RequireProvenance = true
				p.BuilderID = provenance.BuilderGitHubHosted
				p.SourceRepo = "git+https://github.com/acme/hello.git"
				return s, p
			},
			check: func(t *testing.T, res *signing.Result) {
				if len(res.Signatures) != 1 || res.Signatures[0].Key != "a.pub" || res.Signatures[0].Format != "bundle" {
					t.Errorf("signatures = %+v", res.Signatures)
				}
				if res.SBOM == nil || res.SBOM.Components != 2 || res.SBOM.SpecVersion != "1.5" || res.SBOM.Key != "a.pub" {
					t.Errorf("sbom = %+v", res.SBOM)
				}
				if res.Provenance == nil || res.Provenance.SourceCommit != "0123456789abcdef0123456789abcdef01234567" ||
					res.Provenance.BuilderID != provenance.BuilderGitHubHosted || res.Provenance.NodeVersion != "20.20.2" {
					t.Errorf("provenance = %+v", res.Provenance)
				}
			},
		},
		{
			name: "rotation: signed by the second of two trusted keys",
			setup: func(t *testing.T, repo *remote.Repository, s ocispec.Descriptor) (ocispec.Descriptor, signing.Policy) {
				full(t, repo, s, b)
				return s, signing.Policy{Keys: []signing.PublicKey{a.pub, b.pub}, RequireSBOM: true}
			},
			check: func(t *testing.T, res *signing.Result) {
				if res.Signatures[0].Key != "b.pub" {
					t.Errorf("verified by %q, want b.pub", res.Signatures[0].Key)
				}
			},
		},
		{
			name: "SBOM not required",
			setup: func(t *testing.T, repo *remote.Repository, s ocispec.Descriptor) (ocispec.Descriptor, signing.Policy) {
				sign(t, repo, s, a)
				return s, signing.Policy{Keys: []signing.PublicKey{a.pub}}
			},
		},
		{
			name: "unsigned",
			setup: func(t *testing.T, repo *remote.Repository, s ocispec.Descriptor) (ocispec.Descriptor, signing.Policy) {
				return s, trustA
			},
			wantReason: signing.ReasonUnsigned,
		},
		{
			name: "signed by another key",
			setup: func(t *testing.T, repo *remote.Repository, s ocispec.Descriptor) (ocispec.Descriptor, signing.Policy) {
				full(t, repo, s, b)
				return s, trustA
			},
			wantReason: signing.ReasonUntrustedKey,
		},
		{
			name: "signed by a retired key",
			setup: func(t *testing.T, repo *remote.Repository, s ocispec.Descriptor) (ocispec.Descriptor, signing.Policy) {
				full(t, repo, s, a)
				old := a.pub
				old.RetiredAt = time.Now().Add(-time.Hour)
				return s, signing.Policy{Keys: []signing.PublicKey{old, b.pub}, RequireSBOM: true}
			},
			wantReason: signing.ReasonUntrustedKey,
		},
		{
			name: "signature whose subject is another digest",
			setup: func(t *testing.T, repo *remote.Repository, s ocispec.Descriptor) (ocispec.Descriptor, signing.Policy) {
				other := referrerstest.PushArtifact(t, repo, "other", "")
				attachBundle(t, repo, s, bundleFor(t, other, a, signing.PredicateSignature, nil), signing.PredicateSignature)
				attest(t, repo, s, a, signing.PredicateCycloneDX, sbom)
				return s, trustA
			},
			wantReason: signing.ReasonSubjectMismatch,
		},
		{
			name: "SBOM attestation offered as the only signature",
			setup: func(t *testing.T, repo *remote.Repository, s ocispec.Descriptor) (ocispec.Descriptor, signing.Policy) {
				attest(t, repo, s, a, signing.PredicateCycloneDX, sbom)
				return s, trustA
			},
			wantReason: signing.ReasonUnsigned,
		},
		{
			name: "unsigned, with an SBOM attestation by an untrusted key",
			setup: func(t *testing.T, repo *remote.Repository, s ocispec.Descriptor) (ocispec.Descriptor, signing.Policy) {
				attest(t, repo, s, b, signing.PredicateCycloneDX, sbom)
				return s, trustA
			},
			wantReason: signing.ReasonUnsigned,
		},
		{
			name: "SBOM attestation relabelled as a signature in the annotation",
			setup: func(t *testing.T, repo *remote.Repository, s ocispec.Descriptor) (ocispec.Descriptor, signing.Policy) {
				attachBundle(t, repo, s, bundleFor(t, s, a, signing.PredicateCycloneDX, sbom), signing.PredicateSignature)
				return s, trustA
			},
			wantReason: signing.ReasonUnsigned,
		},
		{
			name: "tampered bundle",
			setup: func(t *testing.T, repo *remote.Repository, s ocispec.Descriptor) (ocispec.Descriptor, signing.Policy) {
				attachBundle(t, repo, s, signingtest.Tamper(t, bundleFor(t, s, a, signing.PredicateSignature, nil)), signing.PredicateSignature)
				attest(t, repo, s, a, signing.PredicateCycloneDX, sbom)
				return s, trustA
			},
			wantReason: signing.ReasonBundleInvalid,
		},
		{
			name: "truncated bundle JSON",
			setup: func(t *testing.T, repo *remote.Repository, s ocispec.Descriptor) (ocispec.Descriptor, signing.Policy) {
				bb := bundleFor(t, s, a, signing.PredicateSignature, nil)
				attachBundle(t, repo, s, bb[:len(bb)/2], signing.PredicateSignature)
				attest(t, repo, s, a, signing.PredicateCycloneDX, sbom)
				return s, trustA
			},
			wantReason: signing.ReasonBundleInvalid,
		},
		{
			name: "garbage bundle",
			setup: func(t *testing.T, repo *remote.Repository, s ocispec.Descriptor) (ocispec.Descriptor, signing.Policy) {
				attachBundle(t, repo, s, []byte("\x00garbage{"), "")
				attest(t, repo, s, a, signing.PredicateCycloneDX, sbom)
				return s, trustA
			},
			wantReason: signing.ReasonBundleInvalid,
		},
		{
			name: "tag moved to another digest after signing",
			setup: func(t *testing.T, repo *remote.Repository, s ocispec.Descriptor) (ocispec.Descriptor, signing.Policy) {
				if err := repo.Tag(ctx, s, "v1"); err != nil {
					t.Fatal(err)
				}
				full(t, repo, s, a)
				referrerstest.PushArtifact(t, repo, "moved", "v1")
				moved, err := repo.Resolve(ctx, "v1")
				if err != nil {
					t.Fatal(err)
				}
				if moved.Digest == s.Digest {
					t.Fatal("tag did not move")
				}
				return moved, trustA
			},
			wantReason: signing.ReasonUnsigned,
		},
		{
			name: "SBOM missing",
			setup: func(t *testing.T, repo *remote.Repository, s ocispec.Descriptor) (ocispec.Descriptor, signing.Policy) {
				sign(t, repo, s, a)
				return s, trustA
			},
			wantReason: signing.ReasonSBOMMissing,
		},
		{
			name: "SBOM signed by another key",
			setup: func(t *testing.T, repo *remote.Repository, s ocispec.Descriptor) (ocispec.Descriptor, signing.Policy) {
				sign(t, repo, s, a)
				attest(t, repo, s, b, signing.PredicateCycloneDX, sbom)
				return s, trustA
			},
			wantReason: signing.ReasonUntrustedKey,
		},
		{
			name: "SBOM invalid",
			setup: func(t *testing.T, repo *remote.Repository, s ocispec.Descriptor) (ocispec.Descriptor, signing.Policy) {
				sign(t, repo, s, a)
				attest(t, repo, s, a, signing.PredicateCycloneDX, []byte(`{"bomFormat":"SPDX","specVersion":"2.3"}`))
				return s, trustA
			},
			wantReason: signing.ReasonSBOMInvalid,
		},
		{
			name: "provenance required and missing",
			setup: func(t *testing.T, repo *remote.Repository, s ocispec.Descriptor) (ocispec.Descriptor, signing.Policy) {
				sign(t, repo, s, a)
				attest(t, repo, s, a, signing.PredicateCycloneDX, sbom)
				p := trustA
				p.RequireProvenance = true
				return s, p
			},
			wantReason: signing.ReasonProvenanceMissing,
		},
		{
			name: "provenance from another builder",
			setup: func(t *testing.T, repo *remote.Repository, s ocispec.Descriptor) (ocispec.Descriptor, signing.Policy) {
				full(t, repo, s, a)
				p := trustA
				p.BuilderID = provenance.BuilderLocal
				return s, p
			},
			wantReason: signing.ReasonProvenanceMismatch,
		},
	}
	for _, r := range regtest.All(t) {
		t.Run(r.Kind, func(t *testing.T) {
			for i, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					repo := referrers.Limit(referrerstest.Repo(t, r, fmt.Sprintf("verify%d", i)))
					subject := referrerstest.PushArtifact(t, repo, tt.name, "")
					subject, policy := tt.setup(t, repo, subject)
					res, err := signing.Verify(ctx, repo, subject, policy)
					checkVerdict(t, res, err, tt.wantReason)
					if tt.check != nil && err == nil {
						tt.check(t, res)
					}
				})
			}
		})
	}
}

// TestVerifyBounds: more referrers than the bound, and a registry that
// cannot be reached.
func TestVerifyBounds(t *testing.T) {
	ctx := context.Background()
	a, _ := keys(t)
	policy := signing.Policy{Keys: []signing.PublicKey{a.pub}}
	for _, r := range regtest.All(t) {
		t.Run(r.Kind+"/too many referrers", func(t *testing.T) {
			repo := referrers.Limit(referrerstest.Repo(t, r, "bound"))
			s := referrerstest.PushArtifact(t, repo, "bound", "")
			for i := 0; i < 4; i++ {
				if _, err := signing.Sign(ctx, repo, s, a.signer); err != nil {
					t.Fatal(err)
				}
			}
			res, err := (&signing.Verifier{MaxReferrers: 3}).Verify(ctx, repo, s, policy)
			checkVerdict(t, res, err, signing.ReasonTooManyReferrers)
			res, err = (&signing.Verifier{MaxReferrers: 4}).Verify(ctx, repo, s, policy)
			checkVerdict(t, res, err, "")
		})
	}
	t.Run("registry unreachable", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close() // nothing listens there any more
		repo, err := remote.NewRepository(addr + "/gone")
		if err != nil {
			t.Fatal(err)
		}
		repo.PlainHTTP = true
		s := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: "sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae", Size: 3}
		res, err := signing.Verify(ctx, referrers.Limit(repo), s, policy)
		checkVerdict(t, res, err, signing.ReasonRegistryUnreachable)
	})
}

func checkVerdict(t *testing.T, res *signing.Result, err error, want signing.Reason) {
	t.Helper()
	if want == "" {
		if err != nil {
			t.Fatalf("Verify: %v", err)
		}
		if !res.Verified || len(res.Failures) != 0 {
			t.Fatalf("result not verified: %+v", res)
		}
		return
	}
	var ve *signing.Error
	if !errors.As(err, &ve) {
		t.Fatalf("Verify error = %v, want a *signing.Error with reason %s", err, want)
	}
	if ve.Reason() != want {
		t.Fatalf("reason = %s, want %s (%v)", ve.Reason(), want, err)
	}
	if res == nil || res.Verified || len(res.Failures) == 0 || res.Failures[0].Reason != want {
		t.Fatalf("result = %+v, want a refusal with %s first", res, want)
	}
	for _, f := range ve.Failures {
		if f.Message == "" {
			t.Errorf("failure %s has no message", f.Reason)
		}
	}
	t.Logf("refused as expected: %v", err)
}
