package admission_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/registry/remote"

	"github.com/aetherengine/aether/controlplane/admission"
	"github.com/aetherengine/aether/controlplane/admission/admissiontest"
	"github.com/aetherengine/aether/controlplane/apierr"
	"github.com/aetherengine/aether/internal/regtest"
	"github.com/aetherengine/aether/pkg/api"
	"github.com/aetherengine/aether/pkg/provenance"
	"github.com/aetherengine/aether/pkg/referrers/referrerstest"
)

var (
	keysOnce    sync.Once
	team, rogue admissiontest.Key
)

func testKeys(t testing.TB) (admissiontest.Key, admissiontest.Key) {
	keysOnce.Do(func() { team, rogue = admissiontest.NewKey(t), admissiontest.NewKey(t) })
	return team, rogue
}

// policy trusts keys (named k0, k1, …) and requires the SBOM.
func policy(version int64, keys ...admissiontest.Key) api.TrustPolicy {
	p := api.TrustPolicy{RequiredAttestations: []string{api.AttestationSBOM}, Version: version}
	for i, k := range keys {
		p.Keys = append(p.Keys, api.TrustedKey{Name: fmt.Sprintf("k%d", i), PEM: k.PEM})
	}
	return p
}

func newAdmitter(t testing.TB, allow string, o admission.Options) *admission.RegistryAdmitter {
	t.Helper()
	l, err := admission.ParseAllowList(allow)
	if err != nil {
		t.Fatal(err)
	}
	o.Allow = l
	a, err := admission.NewRegistryAdmitter(o)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// notes collects an admission's notes.
type notes []string

func (n *notes) add(m string) { *n = append(*n, m) }

// TestAdmit: the verdicts of admission against both referrers paths.
func TestAdmit(t *testing.T) {
	ctx := context.Background()
	k, other := testKeys(t)
	type setup func(t *testing.T, repo *remote.Repository, s ocispec.Descriptor) api.TrustPolicy
	tests := []struct {
		name  string
		setup setup
		// ref turns HOST/REPO and the subject into the reference deployed.
		tag  bool
		code string // "" means admitted
		// check inspects an admitted result.
		check func(t *testing.T, res admission.Result, n notes)
	}{
		{
			name: "signed with SBOM and provenance",
			setup: func(t *testing.T, repo *remote.Repository, s ocispec.Descriptor) api.TrustPolicy {
				admissiontest.SignAll(t, repo, s, k)
				p := policy(1, k)
				p.RequiredAttestations = append(p.RequiredAttestations, api.AttestationProvenance)
				p.BuilderID, p.SourceRepo = admissiontest.BuilderID, admissiontest.SourceRepo
				return p
			},
			check: func(t *testing.T, res admission.Result, n notes) {
				v := res.Artifact.Verification
				if v == nil || v.KeyID != "k0" || v.SBOMFormat != "CycloneDX 1.5" || v.SBOMComponents != 2 ||
					v.ProvenanceBuilder != admissiontest.BuilderID || v.ProvenanceSource != admissiontest.SourceRepo+"@"+admissiontest.SourceCommit ||
					v.PolicyVersion != 1 || v.VerifiedAt.IsZero() {
					t.Errorf("verification record = %+v", v)
				}
				if res.Artifact.Size <= 0 || res.Artifact.MediaType != ocispec.MediaTypeImageManifest || res.Cached {
					t.Errorf("artifact = %+v, cached %v", res.Artifact, res.Cached)
				}
				if !strings.Contains(res.Summary, "signed by k0") || !strings.Contains(res.Summary, "2 components") {
					t.Errorf("summary = %q", res.Summary)
				}
			},
		},
		{
			name: "by tag: resolved once and pinned",
			tag:  true,
			setup: func(t *testing.T, repo *remote.Repository, s ocispec.Descriptor) api.TrustPolicy {
				admissiontest.Sign(t, repo, s, k)
				admissiontest.AttestSBOM(t, repo, s, k, nil)
				return policy(1, k)
			},
			check: func(t *testing.T, res admission.Result, n notes) {
				if len(n) == 0 || !strings.Contains(n[0], "resolved") || !strings.Contains(n[0], res.Digest) {
					t.Errorf("notes = %q, want the resolution first", n)
				}
			},
		},
		{
			name: "rotation: the second trusted key signed",
			setup: func(t *testing.T, repo *remote.Repository, s ocispec.Descriptor) api.TrustPolicy {
				admissiontest.Sign(t, repo, s, other)
				admissiontest.AttestSBOM(t, repo, s, other, nil)
				return policy(1, k, other)
			},
			check: func(t *testing.T, res admission.Result, n notes) {
				if res.Artifact.Verification.KeyID != "k1" {
					t.Errorf("verified by %q, want k1", res.Artifact.Verification.KeyID)
				}
			},
		},
		{
			name: "SBOM not required",
			setup: func(t *testing.T, repo *remote.Repository, s ocispec.Descriptor) api.TrustPolicy {
				admissiontest.Sign(t, repo, s, k)
				p := policy(1, k)
				p.RequiredAttestations = []string{}
				return p
			},
			check: func(t *testing.T, res admission.Result, n notes) {
				if res.Artifact.Verification.SBOMFormat != "" {
					t.Errorf("SBOM format %q recorded without an SBOM", res.Artifact.Verification.SBOMFormat)
				}
			},
		},
		{
			name:  "unsigned",
			setup: func(t *testing.T, repo *remote.Repository, s ocispec.Descriptor) api.TrustPolicy { return policy(1, k) },
			code:  api.ReasonUnsigned,
		},
		{
			name: "signed by another key",
			setup: func(t *testing.T, repo *remote.Repository, s ocispec.Descriptor) api.TrustPolicy {
				admissiontest.Sign(t, repo, s, other)
				admissiontest.AttestSBOM(t, repo, s, other, nil)
				return policy(1, k)
			},
			code: api.ReasonUntrustedKey,
		},
		{
			name: "signed by a retired key",
			setup: func(t *testing.T, repo *remote.Repository, s ocispec.Descriptor) api.TrustPolicy {
				admissiontest.Sign(t, repo, s, k)
				admissiontest.AttestSBOM(t, repo, s, k, nil)
				p := policy(1, k, other)
				past := time.Now().Add(-time.Hour)
				p.Keys[0].RetiresAt = &past
				return p
			},
			code: api.ReasonUntrustedKey,
		},
		{
			name: "SBOM missing",
			setup: func(t *testing.T, repo *remote.Repository, s ocispec.Descriptor) api.TrustPolicy {
				admissiontest.Sign(t, repo, s, k)
				return policy(1, k)
			},
			code: api.ReasonSBOMMissing,
		},
		{
			name: "SBOM invalid",
			setup: func(t *testing.T, repo *remote.Repository, s ocispec.Descriptor) api.TrustPolicy {
				admissiontest.Sign(t, repo, s, k)
				admissiontest.AttestSBOM(t, repo, s, k, []byte(`{"bomFormat":"SPDX"}`))
				return policy(1, k)
			},
			code: api.ReasonSBOMInvalid,
		},
		{
			name: "provenance from another builder",
			setup: func(t *testing.T, repo *remote.Repository, s ocispec.Descriptor) api.TrustPolicy {
				admissiontest.Sign(t, repo, s, k)
				admissiontest.AttestSBOM(t, repo, s, k, nil)
				admissiontest.AttestProvenance(t, repo, s, k, provenance.BuilderLocal)
				p := policy(1, k)
				p.BuilderID = admissiontest.BuilderID
				return p
			},
			code: api.ReasonProvenanceMismatch,
		},
		{
			name: "provenance required and missing",
			setup: func(t *testing.T, repo *remote.Repository, s ocispec.Descriptor) api.TrustPolicy {
				admissiontest.Sign(t, repo, s, k)
				admissiontest.AttestSBOM(t, repo, s, k, nil)
				p := policy(1, k)
				p.RequiredAttestations = append(p.RequiredAttestations, api.AttestationProvenance)
				return p
			},
			code: api.ReasonProvenanceMissing,
		},
		{
			name:  "no trusted keys",
			setup: func(t *testing.T, repo *remote.Repository, s ocispec.Descriptor) api.TrustPolicy { return policy(1) },
			code:  api.ReasonNoTrustedKeys,
		},
	}
	for _, r := range regtest.All(t) {
		t.Run(r.Kind, func(t *testing.T) {
			a := newAdmitter(t, r.Host, admission.Options{})
			for i, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					name := fmt.Sprintf("admit%d", i)
					repo := referrerstest.Repo(t, r, name)
					subject := referrerstest.PushArtifact(t, repo, tt.name, "v1")
					p := tt.setup(t, repo, subject)
					ref := r.Ref(name) + "@" + subject.Digest.String()
					if tt.tag {
						ref = r.Ref(name) + ":v1"
					}
					var n notes
					res, err := a.Admit(ctx, admission.Request{App: api.App{Name: "web", Trust: p}, Ref: ref, Note: n.add})
					if tt.code != "" {
						var ae *apierr.Error
						if !errors.As(err, &ae) || ae.Kind != apierr.KindRejected || ae.Code != tt.code {
							t.Fatalf("Admit = %+v, %v; want a 422 %s", res, err, tt.code)
						}
						if tt.code != api.ReasonNoTrustedKeys && res.Digest != subject.Digest.String() {
							t.Errorf("a refused deployment is still pinned: digest %q, want %s", res.Digest, subject.Digest)
						}
						t.Logf("refused as expected: %s: %s", ae.Code, ae.Message)
						return
					}
					if err != nil {
						t.Fatalf("Admit: %v", err)
					}
					if res.Digest != subject.Digest.String() || res.Artifact == nil || res.Artifact.Digest != res.Digest {
						t.Fatalf("result = %+v", res)
					}
					if tt.check != nil {
						tt.check(t, res, n)
					}
				})
			}
		})
	}
}

// TestAdmitRefusesBeforeAnyRequest: a registry that is not allowed, or an
// app without keys, costs no registry request; an unknown artifact or one
// that is not ours is refused with its own code.
func TestAdmitRefusesBeforeAnyRequest(t *testing.T) {
	ctx := context.Background()
	k, _ := testKeys(t)
	r := regtest.InProcess(t)
	a := newAdmitter(t, r.Host, admission.Options{})
	repo := referrerstest.Repo(t, r, "plain")
	notOurs := pushForeign(t, repo)
	tests := []struct {
		name, ref string
		policy    api.TrustPolicy
		code      string
		requests  bool
	}{
		{"registry not on the list", "ghcr.io/acme/app:v1", policy(1, k), api.ReasonRegistryNotAllowed, false},
		{"same host, other port", "127.0.0.1:1/app:v1", policy(1, k), api.ReasonRegistryNotAllowed, false},
		{"no keys", r.Ref("plain:v1"), policy(1), api.ReasonNoTrustedKeys, false},
		{"missing tag", r.Ref("plain:nope"), policy(1, k), api.ReasonArtifactNotFound, true},
		{"not an AetherEngine artifact", r.Ref("plain") + "@" + notOurs.Digest.String(), policy(1, k), api.ReasonArtifactInvalid, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r.ResetRequests()
			_, err := a.Admit(ctx, admission.Request{App: api.App{Name: "web", Trust: tt.policy}, Ref: tt.ref})
			var ae *apierr.Error
			if !errors.As(err, &ae) || ae.Code != tt.code {
				t.Fatalf("Admit(%s) = %v, want %s", tt.ref, err, tt.code)
			}
			if got := len(r.Requests()); (got > 0) != tt.requests {
				t.Fatalf("%d registry requests, want requests=%v", got, tt.requests)
			}
			t.Logf("%s: %s", ae.Code, ae.Message)
		})
	}
}

// pushForeign pushes a plain OCI image manifest that is not an Aether
// artifact.
func pushForeign(t *testing.T, repo *remote.Repository) ocispec.Descriptor {
	t.Helper()
	d, err := oras.PackManifest(context.Background(), repo, oras.PackManifestVersion1_1, "application/vnd.example.thing", oras.PackManifestOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestCachedRedeployMakesNoRegistryRequest: redeploying a verified digest
// is answered from the cache with zero requests (the recording proxy in
// front of the registry sees none); by tag it costs the one HEAD that
// resolves the tag; a new policy version or a key's retirement ends the
// cached answer.
func TestCachedRedeployMakesNoRegistryRequest(t *testing.T) {
	ctx := context.Background()
	k, other := testKeys(t)
	for _, r := range regtest.All(t) {
		t.Run(r.Kind, func(t *testing.T) {
			now := time.Now()
			clock := func() time.Time { return now }
			a := newAdmitter(t, r.Host, admission.Options{Now: clock})
			repo := referrerstest.Repo(t, r, "cached")
			s := referrerstest.PushArtifact(t, repo, "cached", "v1")
			admissiontest.Sign(t, repo, s, k)
			admissiontest.AttestSBOM(t, repo, s, k, nil)
			retires := now.Add(10 * time.Minute) // before the cache TTL (1h)
			p := policy(3, k, other)
			p.Keys[0].RetiresAt = &retires
			app := api.App{Name: "web", Trust: p}
			byDigest := r.Ref("cached") + "@" + s.Digest.String()
			admit := func(ref string, app api.App) (admission.Result, notes, []regtest.Request, error) {
				r.ResetRequests()
				var n notes
				res, err := a.Admit(ctx, admission.Request{App: app, Ref: ref, Note: n.add})
				return res, n, r.Requests(), err
			}

			first, _, reqs, err := admit(byDigest, app)
			if err != nil || first.Cached || len(reqs) == 0 {
				t.Fatalf("first admission: cached %v, %d requests, %v", first.Cached, len(reqs), err)
			}
			t.Logf("uncached admission: %d registry requests", len(reqs))

			again, n, reqs, err := admit(byDigest, app)
			if err != nil || !again.Cached || again.Digest != s.Digest.String() || again.Artifact.Verification.KeyID != "k0" {
				t.Fatalf("redeploy = %+v, %v; want the cached verification", again, err)
			}
			if len(reqs) != 0 {
				t.Fatalf("redeploy of a verified digest made %d registry requests, want 0: %v", len(reqs), reqs)
			}
			if len(n) != 1 || !strings.Contains(n[0], "cache") {
				t.Errorf("notes = %q, want one that names the cache", n)
			}

			byTag, _, reqs, err := admit(r.Ref("cached")+":v1", app)
			if err != nil || !byTag.Cached {
				t.Fatalf("redeploy by tag = %+v, %v", byTag, err)
			}
			for _, q := range reqs {
				if q.Method != http.MethodHead || !strings.Contains(q.Path, "/manifests/v1") {
					t.Errorf("redeploy by tag made %s %s; only the HEAD that resolves the tag is expected", q.Method, q.Path)
				}
			}

			newer := app
			newer.Trust.Version = 4
			if res, _, reqs, err := admit(byDigest, newer); err != nil || res.Cached || len(reqs) == 0 {
				t.Fatalf("new policy version: cached %v, %d requests, %v; want a fresh verification", res.Cached, len(reqs), err)
			}

			now = retires.Add(time.Second) // k0 is retired now
			_, _, reqs, err = admit(byDigest, app)
			var ae *apierr.Error
			if !errors.As(err, &ae) || ae.Code != api.ReasonUntrustedKey || len(reqs) == 0 {
				t.Fatalf("after the signing key retired: %v with %d requests; want untrusted_key from a fresh verification", err, len(reqs))
			}
		})
	}
}
