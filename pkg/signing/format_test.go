package signing_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content"

	"github.com/aetherengine/aether/internal/regtest"
	"github.com/aetherengine/aether/pkg/referrers"
	"github.com/aetherengine/aether/pkg/referrers/referrerstest"
	"github.com/aetherengine/aether/pkg/signing"
)

// The fixtures in testdata/cosign-v3.1.3 were written by the stock cosign
// v3.1.3 (see docs/signing.md): they pin the format without running
// cosign.
const (
	fixtureApp    = digest.Digest("sha256:2c72e0b7cbbbab4b41504df354d1d0b1b351ed9fce8ee3d68b543500503cde0d")
	fixtureLegacy = digest.Digest("sha256:1b634e7212ace99111f2b576ef665bb78b2706c4f75154d36574b1c7e8c18703")
)

func fixturePub(t *testing.T) signing.PublicKey {
	t.Helper()
	k, err := signing.ParsePublicKeys("cosign.pub", readTestdata(t, "cosign-v3.1.3/cosign.pub"))
	if err != nil {
		t.Fatal(err)
	}
	return k[0]
}

func TestCosignBundleFixtures(t *testing.T) {
	pub := fixturePub(t)
	a, _ := keys(t)
	tests := []struct {
		file          string
		predicateType string
	}{
		{"sign.bundle.json", signing.PredicateSignature},
		{"cyclonedx.bundle.json", signing.PredicateCycloneDX},
		{"slsaprovenance1.bundle.json", signing.PredicateSLSAProvenance1},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			b, err := signing.ParseBundle(readTestdata(t, "cosign-v3.1.3/"+tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if b.Statement.PredicateType != tt.predicateType || !b.Statement.Covers(fixtureApp) {
				t.Errorf("statement = %+v, want %s about %s", b.Statement, tt.predicateType, fixtureApp)
			}
			if b.KeyHint != pub.ID() {
				t.Errorf("key hint %q, want %q (our fingerprint of cosign.pub)", b.KeyHint, pub.ID())
			}
			if err := b.VerifyKey(pub); err != nil {
				t.Errorf("VerifyKey(cosign.pub): %v", err)
			}
			if err := b.VerifyKey(a.pub); err == nil {
				t.Error("VerifyKey accepted another key")
			}
		})
	}
}

// TestOurBundleMatchesCosign: the referrer manifest and the bundle we
// write have the shape cosign wrote (same annotations, media types,
// statement type and an empty predicate for a signature).
func TestOurBundleMatchesCosign(t *testing.T) {
	ctx := context.Background()
	a, _ := keys(t)
	r := regtest.InProcess(t)
	repo := referrerstest.Repo(t, r, "shape")
	subject := referrerstest.PushArtifact(t, repo, "shape", "")
	desc, err := signing.Sign(ctx, repo, subject, a.signer)
	if err != nil {
		t.Fatal(err)
	}
	ours, _, err := referrers.FetchManifest(ctx, repo, desc, 0)
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := referrers.ParseManifest(readTestdata(t, "cosign-v3.1.3/sign.manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if ours.ArtifactType != theirs.ArtifactType || ours.Config.MediaType != theirs.Config.MediaType ||
		len(ours.Layers) != 1 || ours.Layers[0].MediaType != theirs.Layers[0].MediaType {
		t.Errorf("our manifest %+v differs in shape from cosign's %+v", ours, theirs)
	}
	for k := range theirs.Annotations {
		if ours.Annotations[k] == "" {
			t.Errorf("our manifest lacks annotation %s", k)
		}
	}
	for _, k := range []string{signing.AnnotationBundleContent, signing.AnnotationBundlePredicateType} {
		if ours.Annotations[k] != theirs.Annotations[k] {
			t.Errorf("annotation %s = %q, cosign wrote %q", k, ours.Annotations[k], theirs.Annotations[k])
		}
	}
	data, err := referrers.FetchBlob(ctx, repo, ours.Layers[0], 0)
	if err != nil {
		t.Fatal(err)
	}
	b, err := signing.ParseBundle(data)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := signing.ParseBundle(readTestdata(t, "cosign-v3.1.3/sign.bundle.json"))
	if b.Statement.Type != want.Statement.Type || string(b.Statement.Predicate) != string(want.Statement.Predicate) || b.KeyHint != a.pub.ID() {
		t.Errorf("our statement %+v (hint %s) differs from cosign's %+v", b.Statement, b.KeyHint, want.Statement)
	}
}

// TestLegacyFixtures replays cosign's legacy `.sig` and `.att` manifests
// on both registries and verifies them.
func TestLegacyFixtures(t *testing.T) {
	ctx := context.Background()
	pub := fixturePub(t)
	sigManifest, err := referrers.ParseManifest(readTestdata(t, "cosign-v3.1.3/legacy.sig.manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	payload := readTestdata(t, "cosign-v3.1.3/legacy.payload.json")
	dsse := readTestdata(t, "cosign-v3.1.3/legacy.att.dsse.json")
	tagBase := "sha256-" + fixtureLegacy.Encoded()
	subject := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: fixtureLegacy, Size: 592}

	tests := []struct {
		name       string
		payload    []byte
		sig        string
		wantReason signing.Reason
	}{
		{"as cosign wrote it", payload, sigManifest.Layers[0].Annotations[signing.AnnotationLegacySignature], ""},
		{"tampered payload (no key hint: reads as another key)", bytes.Replace(payload, []byte(fixtureLegacy.Encoded()[:8]), []byte("00000000"), 1),
			sigManifest.Layers[0].Annotations[signing.AnnotationLegacySignature], signing.ReasonUntrustedKey},
	}
	for _, r := range regtest.All(t) {
		for i, tt := range tests {
			t.Run(r.Kind+"/"+tt.name, func(t *testing.T) {
				repo := referrers.Limit(referrerstest.Repo(t, r, "legacy"+string(rune('a'+i))))
				pushLegacy(t, repo, tagBase+signing.LegacySignatureSuffix, signing.LegacySimpleSigningMediaType, tt.payload,
					map[string]string{signing.AnnotationLegacySignature: tt.sig})
				pushLegacy(t, repo, tagBase+signing.LegacyAttestationSuffix, signing.LegacyDSSEMediaType, dsse,
					map[string]string{signing.AnnotationLegacySignature: "", "predicateType": signing.PredicateCycloneDX})
				res, err := signing.Verify(ctx, repo, subject, signing.Policy{Keys: []signing.PublicKey{pub}, RequireSBOM: true})
				checkVerdict(t, res, err, tt.wantReason)
				if tt.wantReason == "" {
					if res.Signatures[0].Format != "legacy" || res.SBOM == nil || res.SBOM.Components != 2 {
						t.Errorf("result = %+v", res)
					}
				}
			})
		}
	}
}

func pushLegacy(t *testing.T, repo interface {
	content.Storage
	Tag(context.Context, ocispec.Descriptor, string) error
}, tag, mediaType string, layer []byte, annotations map[string]string) {
	t.Helper()
	ctx := context.Background()
	cfg := []byte(`{"architecture":"","os":"","rootfs":{"type":"layers","diff_ids":[]},"config":{}}`)
	cfgDesc := content.NewDescriptorFromBytes(ocispec.MediaTypeImageConfig, cfg)
	layerDesc := content.NewDescriptorFromBytes(mediaType, layer)
	layerDesc.Annotations = annotations
	for _, b := range []struct {
		d ocispec.Descriptor
		b []byte
	}{{cfgDesc, cfg}, {layerDesc, layer}} {
		if err := repo.Push(ctx, b.d, bytes.NewReader(b.b)); err != nil {
			t.Fatal(err)
		}
	}
	m := []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":` + mustJSON(t, cfgDesc) + `,"layers":[` + mustJSON(t, layerDesc) + `]}`)
	md := content.NewDescriptorFromBytes(ocispec.MediaTypeImageManifest, m)
	if err := repo.Push(ctx, md, bytes.NewReader(m)); err != nil {
		t.Fatal(err)
	}
	if err := repo.Tag(ctx, md, tag); err != nil {
		t.Fatal(err)
	}
}
