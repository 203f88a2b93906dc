package admission_test

import (
	"context"
	"testing"

	"github.com/aetherengine/aether/controlplane/admission"
	"github.com/aetherengine/aether/controlplane/admission/admissiontest"
	"github.com/aetherengine/aether/internal/regtest"
	"github.com/aetherengine/aether/pkg/api"
	"github.com/aetherengine/aether/pkg/referrers/referrerstest"
)

// BenchmarkAdmission measures one admission of a signed artifact with an
// SBOM and provenance on the in-process registry (referrers API):
// uncached (cache off: resolve, manifest, referrers, bundles, verify),
// cached by digest (no registry request) and cached by tag (the one HEAD
// that resolves it). Compare the three in the same run:
//
//	go test -run '^$' -bench Admission ./controlplane/admission/
func BenchmarkAdmission(b *testing.B) {
	ctx := context.Background()
	k := admissiontest.NewKey(b)
	r := regtest.InProcess(b)
	repo := referrerstest.Repo(b, r, "bench")
	s := referrerstest.PushArtifact(b, repo, "bench", "v1")
	admissiontest.SignAll(b, repo, s, k)
	app := api.App{Name: "web", Trust: policy(1, k)}
	byDigest := r.Ref("bench") + "@" + s.Digest.String()
	for _, bc := range []struct {
		name string
		ttl  int64 // <0 disables the cache
		ref  string
	}{
		{"uncached", -1, byDigest},
		{"cached-digest", 0, byDigest},
		{"cached-tag", 0, r.Ref("bench:v1")},
	} {
		b.Run(bc.name, func(b *testing.B) {
			o := admission.Options{}
			if bc.ttl < 0 {
				o.CacheTTL = -1
			}
			a := newAdmitter(b, r.Host, o)
			if _, err := a.Admit(ctx, admission.Request{App: app, Ref: byDigest}); err != nil {
				b.Fatal(err)
			}
			r.ResetRequests()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				res, err := a.Admit(ctx, admission.Request{App: app, Ref: bc.ref})
				if err != nil || res.Artifact == nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(len(r.Requests()))/float64(b.N), "requests/op")
		})
	}
}
