//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/registry/remote"

	"github.com/aetherengine/aether/controlplane/admission/admissiontest"
	"github.com/aetherengine/aether/internal/regtest"
	"github.com/aetherengine/aether/pkg/api"
	"github.com/aetherengine/aether/pkg/client"
	"github.com/aetherengine/aether/pkg/provenance"
	"github.com/aetherengine/aether/pkg/referrers/referrerstest"
	"github.com/aetherengine/aether/pkg/signing"
)

// maxReferrers is the bound the control plane is started with, so that
// "more referrers than the bound" needs only a few.
const maxReferrers = 8

// TestAdmission runs the real control plane against both registries (the
// referrers API and the tag-schema fallback): a signed artifact with its
// SBOM and provenance is accepted and its verification record stored; the
// whole rejection table of the signing work is refused with HTTP 422 and
// the right reason code, recorded as failed, nothing admitted; a tag moved
// after acceptance leaves the deployment on the first digest.
func TestAdmission(t *testing.T) {
	ctx := context.Background()
	regs := regtest.All(t)
	cp := startControlPlane(t, "--registries", regs[0].Host+","+regs[1].Host, "--max-referrers", fmt.Sprint(maxReferrers))
	k, other := admissiontest.NewKey(t), admissiontest.NewKey(t)
	trust := func(keys ...admissiontest.Key) api.TrustPolicyUpdate {
		u := api.TrustPolicyUpdate{}
		for i, key := range keys {
			u.Keys = append(u.Keys, api.TrustedKey{Name: fmt.Sprintf("key%d", i), PEM: key.PEM})
		}
		return u
	}
	withAttestations := func(u api.TrustPolicyUpdate, a ...string) api.TrustPolicyUpdate {
		u.RequiredAttestations = &a
		return u
	}

	type setup func(t *testing.T, repo *remote.Repository, s ocispec.Descriptor) (ref string, policy api.TrustPolicyUpdate)
	byDigest := func(repo *remote.Repository, s ocispec.Descriptor) string {
		return repo.Reference.Registry + "/" + repo.Reference.Repository + "@" + s.Digest.String()
	}
	tests := []struct {
		name  string
		setup setup
		code  string
	}{
		{"unsigned", func(t *testing.T, repo *remote.Repository, s ocispec.Descriptor) (string, api.TrustPolicyUpdate) {
			return byDigest(repo, s), trust(k)
		}, api.ReasonUnsigned},
		{"signed by another key", func(t *testing.T, repo *remote.Repository, s ocispec.Descriptor) (string, api.TrustPolicyUpdate) {
			admissiontest.SignAll(t, repo, s, other)
			return byDigest(repo, s), trust(k)
		}, api.ReasonUntrustedKey},
		{"signed by a retired key", func(t *testing.T, repo *remote.Repository, s ocispec.Descriptor) (string, api.TrustPolicyUpdate) {
			admissiontest.SignAll(t, repo, s, k)
			u := trust(k, other)
			past := time.Now().Add(-time.Minute)
			u.Keys[0].RetiresAt = &past
			return byDigest(repo, s), u
		}, api.ReasonUntrustedKey},
		{"signature whose subject is another digest", func(t *testing.T, repo *remote.Repository, s ocispec.Descriptor) (string, api.TrustPolicyUpdate) {
			otherArtifact := referrerstest.PushArtifact(t, repo, "someone else", "")
			admissiontest.AttachBundle(t, repo, s, admissiontest.BundleFor(t, otherArtifact, k, signing.PredicateSignature, nil), signing.PredicateSignature)
			admissiontest.AttestSBOM(t, repo, s, k, nil)
			return byDigest(repo, s), trust(k)
		}, api.ReasonSubjectMismatch},
		{"SBOM attestation offered as the only signature", func(t *testing.T, repo *remote.Repository, s ocispec.Descriptor) (string, api.TrustPolicyUpdate) {
			admissiontest.AttachBundle(t, repo, s, admissiontest.BundleFor(t, s, k, signing.PredicateCycloneDX, admissiontest.SBOM), signing.PredicateSignature)
			return byDigest(repo, s), trust(k)
		}, api.ReasonUnsigned},
		{"tampered bundle", func(t *testing.T, repo *remote.Repository, s ocispec.Descriptor) (string, api.TrustPolicyUpdate) {
			admissiontest.AttachBundle(t, repo, s, admissiontest.Tamper(t, admissiontest.BundleFor(t, s, k, signing.PredicateSignature, nil)), signing.PredicateSignature)
			admissiontest.AttestSBOM(t, repo, s, k, nil)
			return byDigest(repo, s), trust(k)
		}, api.ReasonBundleInvalid},
		{"truncated bundle JSON", func(t *testing.T, repo *remote.Repository, s ocispec.Descriptor) (string, api.TrustPolicyUpdate) {
			b := admissiontest.BundleFor(t, s, k, signing.PredicateSignature, nil)
			admissiontest.AttachBundle(t, repo, s, b[:len(b)/2], signing.PredicateSignature)
			admissiontest.AttestSBOM(t, repo, s, k, nil)
			return byDigest(repo, s), trust(k)
		}, api.ReasonBundleInvalid},
		{"garbage bundle", func(t *testing.T, repo *remote.Repository, s ocispec.Descriptor) (string, api.TrustPolicyUpdate) {
			admissiontest.AttachBundle(t, repo, s, []byte("\x00garbage{"), "")
			admissiontest.AttestSBOM(t, repo, s, k, nil)
			return byDigest(repo, s), trust(k)
		}, api.ReasonBundleInvalid},
		{"tag moved to another digest after signing", func(t *testing.T, repo *remote.Repository, s ocispec.Descriptor) (string, api.TrustPolicyUpdate) {
			admissiontest.SignAll(t, repo, s, k)
			referrerstest.PushArtifact(t, repo, "moved", "v1") // the tag now names an unsigned artifact
			return repo.Reference.Registry + "/" + repo.Reference.Repository + ":v1", trust(k)
		}, api.ReasonUnsigned},
		{"more referrers than the bound", func(t *testing.T, repo *remote.Repository, s ocispec.Descriptor) (string, api.TrustPolicyUpdate) {
			for i := 0; i <= maxReferrers; i++ {
				admissiontest.Sign(t, repo, s, k)
			}
			return byDigest(repo, s), trust(k)
		}, api.ReasonTooManyReferrers},
		{"SBOM missing", func(t *testing.T, repo *remote.Repository, s ocispec.Descriptor) (string, api.TrustPolicyUpdate) {
			admissiontest.Sign(t, repo, s, k)
			return byDigest(repo, s), trust(k)
		}, api.ReasonSBOMMissing},
		{"SBOM invalid", func(t *testing.T, repo *remote.Repository, s ocispec.Descriptor) (string, api.TrustPolicyUpdate) {
			admissiontest.Sign(t, repo, s, k)
			admissiontest.AttestSBOM(t, repo, s, k, []byte(`{"bomFormat":"CycloneDX","specVersion":"1.2","components":"none"}`))
			return byDigest(repo, s), trust(k)
		}, api.ReasonSBOMInvalid},
		{"provenance required and missing", func(t *testing.T, repo *remote.Repository, s ocispec.Descriptor) (string, api.TrustPolicyUpdate) {
			admissiontest.Sign(t, repo, s, k)
			admissiontest.AttestSBOM(t, repo, s, k, nil)
			return byDigest(repo, s), withAttestations(trust(k), api.AttestationSBOM, api.AttestationProvenance)
		}, api.ReasonProvenanceMissing},
		{"provenance from another builder", func(t *testing.T, repo *remote.Repository, s ocispec.Descriptor) (string, api.TrustPolicyUpdate) {
			admissiontest.Sign(t, repo, s, k)
			admissiontest.AttestSBOM(t, repo, s, k, nil)
			admissiontest.AttestProvenance(t, repo, s, k, provenance.BuilderLocal)
			u := trust(k)
			u.BuilderID = admissiontest.BuilderID
			return byDigest(repo, s), u
		}, api.ReasonProvenanceMismatch},
		{"provenance from another source", func(t *testing.T, repo *remote.Repository, s ocispec.Descriptor) (string, api.TrustPolicyUpdate) {
			admissiontest.SignAll(t, repo, s, k)
			u := trust(k)
			u.SourceRepo = "https://github.com/acme/other"
			return byDigest(repo, s), u
		}, api.ReasonProvenanceMismatch},
		{"no trusted key yet", func(t *testing.T, repo *remote.Repository, s ocispec.Descriptor) (string, api.TrustPolicyUpdate) {
			admissiontest.SignAll(t, repo, s, k)
			return byDigest(repo, s), trust()
		}, api.ReasonNoTrustedKeys},
		{"artifact not in the registry", func(t *testing.T, repo *remote.Repository, s ocispec.Descriptor) (string, api.TrustPolicyUpdate) {
			return repo.Reference.Registry + "/" + repo.Reference.Repository + ":never-pushed", trust(k)
		}, api.ReasonArtifactNotFound},
		{"registry not on the allow-list", func(t *testing.T, repo *remote.Repository, s ocispec.Descriptor) (string, api.TrustPolicyUpdate) {
			return "127.0.0.1:1/" + repo.Reference.Repository + "@" + s.Digest.String(), trust(k)
		}, api.ReasonRegistryNotAllowed},
	}

	for ri, r := range regs {
		t.Run(r.Kind, func(t *testing.T) {
			t.Run("signed with SBOM and provenance is accepted", func(t *testing.T) {
				app := fmt.Sprintf("ok-%d", ri)
				repo := referrerstest.Repo(t, r, app)
				s := referrerstest.PushArtifact(t, repo, app, "v1")
				admissiontest.SignAll(t, repo, s, k)
				u := withAttestations(trust(other, k), api.AttestationSBOM, api.AttestationProvenance)
				u.BuilderID, u.SourceRepo = admissiontest.BuilderID, admissiontest.SourceRepo
				cp.app(t, app, u)
				d, err := cp.client.CreateDeployment(ctx, api.DeploymentCreate{App: app, Artifact: r.Ref(app + ":v1")})
				if err != nil || d.Status != api.StatusVerified || d.Digest != s.Digest.String() || d.Pinned() != r.Ref(app)+"@"+s.Digest.String() {
					t.Fatalf("deployment = %+v, %v", d, err)
				}
				a, err := cp.client.GetArtifact(ctx, s.Digest.String())
				v := a.Verification
				if err != nil || v == nil || v.KeyID != "key1" || v.SBOMFormat != "CycloneDX 1.5" || v.SBOMComponents != 2 ||
					v.ProvenanceBuilder != admissiontest.BuilderID || !strings.HasPrefix(v.ProvenanceSource, admissiontest.SourceRepo) ||
					v.PolicyVersion != 1 || v.VerifiedAt.IsZero() || a.Size <= 0 {
					t.Fatalf("artifact record = %+v (verification %+v), %v", a, v, err)
				}

				// The tag moves after acceptance: the deployment still shows,
				// and would run, the first digest.
				moved := referrerstest.PushArtifact(t, repo, app+" v2", "v1")
				got, err := cp.client.GetDeployment(ctx, d.ID)
				if err != nil || got.Digest != s.Digest.String() || moved.Digest == s.Digest {
					t.Fatalf("after the tag moved: deployment digest %s, %v; want %s", got.Digest, err, s.Digest)
				}
				// Deploying the tag again resolves it anew: the unsigned
				// artifact it names now is refused.
				cp.refused(t, app, r.Ref(app+":v1"), api.ReasonUnsigned)
			})
			for i, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					app := fmt.Sprintf("case-%d-%d", ri, i)
					repo := referrerstest.Repo(t, r, app)
					s := referrerstest.PushArtifact(t, repo, app, "v1")
					ref, policy := tt.setup(t, repo, s)
					cp.app(t, app, policy)
					cp.refused(t, app, ref, tt.code)
				})
			}
		})
	}

	// Nothing refused was admitted: the only artifact records are the
	// accepted ones, one per registry.
	arts, err := cp.client.ListArtifacts(ctx, client.ListOptions{Limit: 500})
	if err != nil || len(arts.Items) != len(regs) {
		t.Fatalf("artifact records = %d, %v; want %d (the accepted ones)", len(arts.Items), err, len(regs))
	}
	metrics := get(t, cp.url+"/metrics")
	for _, want := range []string{`aether_verification_failures_total{reason="bundle_invalid"} 6`, `aether_artifacts_verified_total 2`, `aether_sbom_coverage_ratio 1`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}
