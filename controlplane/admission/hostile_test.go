package admission_test

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"time"

	"github.com/aetherengine/aether/controlplane/admission"
	"github.com/aetherengine/aether/controlplane/admission/admissiontest"
	"github.com/aetherengine/aether/controlplane/apierr"
	"github.com/aetherengine/aether/pkg/api"
)

// TestHostileRegistry: a registry that attacks (10,000 referrers; a 1 GiB
// manifest, announced or hidden behind a small HEAD, which makes a digest
// mismatch; a body that drips forever; a redirect to the metadata address)
// is refused with the right reason, reading and allocating a bounded
// amount, in bounded time (the admission's time-out; durations are logged,
// not asserted).
func TestHostileRegistry(t *testing.T) {
	k, _ := testKeys(t)
	h := admissiontest.NewHostile(t)
	a := newAdmitter(t, h.Host, admission.Options{Timeout: 2 * time.Second})
	app := api.App{Name: "web", Trust: policy(1, k)}
	tests := []struct {
		repo string
		code string
	}{
		{admissiontest.HostileMany, api.ReasonTooManyReferrers},
		{admissiontest.HostileHuge, api.ReasonArtifactInvalid},
		{admissiontest.HostileLiar, api.ReasonDigestMismatch},
		{admissiontest.HostileDrip, api.ReasonRegistryUnreachable},
		{admissiontest.HostileRedirect, api.ReasonRegistryNotAllowed},
	}
	const maxAlloc = 64 << 20
	for _, tt := range tests {
		t.Run(tt.repo, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			sent := h.BytesSent.Load()
			start := time.Now()
			_, err := a.Admit(context.Background(), admission.Request{App: app, Ref: h.Ref(tt.repo)})
			took := time.Since(start)
			runtime.ReadMemStats(&after)
			var ae *apierr.Error
			if !errors.As(err, &ae) || ae.Kind != apierr.KindRejected || ae.Code != tt.code {
				t.Fatalf("Admit = %v, want a 422 %s", err, tt.code)
			}
			alloc := after.TotalAlloc - before.TotalAlloc
			read := h.BytesSent.Load() - sent
			if alloc > maxAlloc {
				t.Errorf("the admission allocated %d MiB; the bound is %d MiB", alloc>>20, maxAlloc>>20)
			}
			if read > maxAlloc {
				t.Errorf("the registry got %d MiB out to us; reads must stop at the bounds", read>>20)
			}
			t.Logf("%s in %s: %d KiB sent by the registry, %d KiB allocated: %s", ae.Code, took.Round(time.Millisecond), read>>10, alloc>>10, ae.Message)
		})
	}
}
