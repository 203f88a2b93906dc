//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aetherengine/aether/controlplane/admission/admissiontest"
	"github.com/aetherengine/aether/pkg/api"
	"github.com/aetherengine/aether/pkg/client"
)

// healthBound is the generous bound within which /healthz must answer
// while the server is under attack.
const healthBound = 5 * time.Second

// maxServerRSS bounds the control plane's peak resident memory through the
// attack: the 1 GiB manifests must never be held.
const maxServerRSS = 512 << 20

// TestHostileRegistry attacks the real control plane through a registry it
// is allowed to read: 10,000 referrers, a 1 GiB manifest (announced, and
// hidden behind a small HEAD), bodies that drip one byte at a time, a
// redirect to the cloud metadata address. Every attack, several at once,
// is refused with its reason within the registry time-out; meanwhile
// /healthz keeps answering (latencies measured and logged; asserted only
// against a generous bound), the server's peak memory stays bounded, and
// a well-formed request afterwards is served.
func TestHostileRegistry(t *testing.T) {
	h := admissiontest.NewHostile(t)
	cp := startControlPlane(t, "--registries", h.Host, "--registry-timeout", "3s")
	k := admissiontest.NewKey(t)
	cp.app(t, "victim", api.TrustPolicyUpdate{Keys: []api.TrustedKey{{Name: "team", PEM: k.PEM}}})

	attacks := []struct {
		repo, code string
	}{
		{admissiontest.HostileMany, api.ReasonTooManyReferrers},
		{admissiontest.HostileHuge, api.ReasonArtifactInvalid},
		{admissiontest.HostileLiar, api.ReasonDigestMismatch},
		{admissiontest.HostileRedirect, api.ReasonRegistryNotAllowed},
		{admissiontest.HostileDrip, api.ReasonRegistryUnreachable},
		{admissiontest.HostileDrip, api.ReasonRegistryUnreachable},
		{admissiontest.HostileDrip, api.ReasonRegistryUnreachable},
		{admissiontest.HostileMany, api.ReasonTooManyReferrers},
	}

	// /healthz is polled throughout.
	stop := make(chan struct{})
	var (
		mu        sync.Mutex
		latencies []time.Duration
		healthErr error
	)
	hc := &http.Client{Timeout: 30 * time.Second}
	var pollers sync.WaitGroup
	pollers.Add(1)
	go func() {
		defer pollers.Done()
		for {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
			start := time.Now()
			resp, err := hc.Get(cp.url + "/healthz")
			d := time.Since(start)
			mu.Lock()
			if err != nil {
				healthErr = err
			} else {
				resp.Body.Close()
				latencies = append(latencies, d)
			}
			mu.Unlock()
		}
	}()

	var wg sync.WaitGroup
	start := time.Now()
	for i, a := range attacks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t0 := time.Now()
			_, err := cp.client.CreateDeployment(context.Background(), api.DeploymentCreate{App: "victim", Artifact: h.Ref(a.repo)})
			ae, ok := err.(*client.Error)
			if !ok || ae.StatusCode != http.StatusUnprocessableEntity || ae.Code != a.code {
				t.Errorf("attack %d (%s): %v; want a 422 %s", i, a.repo, err, a.code)
				return
			}
			t.Logf("attack %d (%s) refused in %s: %s: %.160s", i, a.repo, time.Since(t0).Round(time.Millisecond), ae.Code, ae.Message)
		}()
	}
	wg.Wait()
	attack := time.Since(start)
	close(stop)
	pollers.Wait()

	if healthErr != nil {
		t.Fatalf("/healthz failed during the attack: %v", healthErr)
	}
	if len(latencies) == 0 {
		t.Fatal("/healthz was never measured")
	}
	sort.Slice(latencies, func(i, j int) bool { return latencies[i] < latencies[j] })
	p50, worst := latencies[len(latencies)/2], latencies[len(latencies)-1]
	t.Logf("attack took %s; /healthz answered %d times: p50 %s, max %s (bound %s); the registry sent %d MiB in all",
		attack.Round(time.Millisecond), len(latencies), p50, worst, healthBound, h.BytesSent.Load()>>20)
	if worst > healthBound {
		t.Errorf("/healthz took %s during the attack; the bound is %s", worst, healthBound)
	}
	if rss, err := peakRSS(cp.cmd.Process.Pid); err != nil {
		t.Logf("peak memory not measured: %v", err)
	} else {
		t.Logf("control plane peak resident memory: %d MiB (bound %d MiB)", rss>>20, maxServerRSS>>20)
		if rss > maxServerRSS {
			t.Errorf("control plane peak memory %d MiB exceeds %d MiB", rss>>20, maxServerRSS>>20)
		}
	}
	metrics := get(t, cp.url+"/metrics")
	for _, want := range []string{
		`aether_verification_failures_total{reason="too_many_referrers"} 2`,
		`aether_verification_failures_total{reason="registry_unreachable"} 3`,
		`aether_verification_failures_total{reason="registry_not_allowed"} 1`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	// The server still serves.
	if _, err := cp.client.CreateApp(context.Background(), api.AppCreate{Name: "after"}); err != nil {
		t.Fatalf("after the attack: %v", err)
	}
}

// peakRSS reads a process's peak resident set size (Linux VmHWM).
func peakRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no VmHWM in /proc/%d/status", pid)
}
