package publish

import (
	"context"
	"os/exec"
	"testing"

	"github.com/aetherengine/aether/internal/exampleapp"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/aetherengine/aether/internal/regtest"
	"github.com/aetherengine/aether/pkg/build"
	"github.com/aetherengine/aether/pkg/push"
	"github.com/aetherengine/aether/pkg/referrers"
	"github.com/aetherengine/aether/pkg/registry"
	"github.com/aetherengine/aether/pkg/signing"
)

func buildExample(t *testing.T) *build.Result {
	t.Helper()
	if _, err := exec.LookPath("npm"); err != nil {
		t.Skip("npm is not installed: publish tests build examples/hello for real")
	}
	dir := exampleapp.Copy(t, "hello")
	res, err := build.Build(context.Background(), build.Options{Dir: dir, CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func newSigner(t *testing.T) (*signing.KeySigner, signing.PublicKey) {
	t.Helper()
	priv, _, err := signing.GenerateKeyPair([]byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	k, err := signing.LoadPrivateKey(priv, []byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := signing.NewKeySigner(k)
	if err != nil {
		t.Fatal(err)
	}
	return s, signing.PublicKey{Name: "test", Key: s.PublicKey()}
}

func TestPublishSignsOnceAndSkipsAfter(t *testing.T) {
	b := buildExample(t)
	signer, pub := newSigner(t)
	for _, reg := range regtest.All(t) {
		t.Run(reg.Kind, func(t *testing.T) {
			ctx := context.Background()
			ref := reg.Ref("acme/hello:v1")
			opts := Options{Signer: signer, SBOM: true, Provenance: true}
			opts.ProvenanceOptions.Dir = t.TempDir()
			res, err := Publish(ctx, b.Layout, ref, opts)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Steps) != 3 {
				t.Fatalf("steps %+v", res.Steps)
			}
			for _, s := range res.Steps {
				if s.Status != StatusDone {
					t.Fatalf("first publish: %+v", res.Steps)
				}
			}
			repo, err := registry.NewRepository(ctx, ref, registry.Options{})
			if err != nil {
				t.Fatal(err)
			}
			subject := ocispec.Descriptor{MediaType: res.Push.MediaType, Digest: digest.Digest(res.Push.Digest), Size: res.Push.Size}
			v := signing.Verifier{}
			vr, err := v.Verify(ctx, repo, subject, signing.Policy{Keys: []signing.PublicKey{pub}, RequireSBOM: true, RequireProvenance: true})
			if err != nil {
				t.Fatalf("published artifact does not verify: %v", err)
			}
			if vr.SBOM.Components != b.SBOM.Components || vr.Provenance == nil {
				t.Fatalf("verified SBOM %d components (built %d), provenance %+v", vr.SBOM.Components, b.SBOM.Components, vr.Provenance)
			}

			// Again: nothing to do.
			reg.ResetRequests()
			res, err = Publish(ctx, b.Layout, ref, opts)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range res.Steps {
				if s.Status != StatusSkipped {
					t.Fatalf("second publish redid %s: %+v", s.Name, res.Steps)
				}
			}
			if n := reg.BlobUploads(); n != 0 {
				t.Fatalf("second publish started %d uploads", n)
			}
			refs, err := referrers.List(ctx, repo, subject, referrers.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if len(refs) != 3 {
				t.Fatalf("%d referrers after two publishes, want 3 (signature, SBOM, provenance)", len(refs))
			}
		})
	}
}

func TestPublishWithoutSigner(t *testing.T) {
	b := buildExample(t)
	reg := regtest.InProcess(t)
	if _, err := Publish(context.Background(), b.Layout, reg.Ref("x/y:z"), Options{SBOM: true}); err == nil {
		t.Fatal("an SBOM attestation without a key was accepted")
	}
	res, err := Publish(context.Background(), b.Layout, reg.Ref("x/y:z"), Options{Push: push.Options{}})
	if err != nil || len(res.Steps) != 0 {
		t.Fatalf("plain publish: %+v, %v", res, err)
	}
}
