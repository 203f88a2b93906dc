package signing_test

import (
	"context"
	"testing"

	"github.com/aetherengine/aether/internal/regtest"
	"github.com/aetherengine/aether/pkg/referrers"
	"github.com/aetherengine/aether/pkg/referrers/referrerstest"
	"github.com/aetherengine/aether/pkg/signing"
)

// BenchmarkVerify measures a full verification (signature, SBOM schema
// validation, provenance) of an artifact with three referrers against its
// baseline, listing the referrers alone, in the same run: compare the
// ns/op of the sub-benchmarks as a ratio.
func BenchmarkVerify(b *testing.B) {
	ctx := context.Background()
	a, _ := keys(b)
	for _, r := range regtest.All(b) {
		repo := referrers.Limit(referrerstest.Repo(b, r, "bench"))
		s := referrerstest.PushArtifact(b, repo, "bench", "")
		for _, st := range []struct {
			pt   string
			pred []byte
		}{{signing.PredicateSignature, nil}, {signing.PredicateCycloneDX, readTestdata(b, "sbom.cdx.json")}, {signing.PredicateSLSAProvenance1, provenancePredicate(b)}} {
			if _, err := signing.Attest(ctx, repo, s, a.signer, st.pt, st.pred); err != nil {
				b.Fatal(err)
			}
		}
		policy := signing.Policy{Keys: []signing.PublicKey{a.pub}, RequireSBOM: true, RequireProvenance: true}
		b.Run(r.Kind+"/baseline-list", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if _, err := referrers.List(ctx, repo, s, referrers.Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(r.Kind+"/verify", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if _, err := signing.Verify(ctx, repo, s, policy); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
