package server

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aetherengine/aether/pkg/api"
	"github.com/aetherengine/aether/pkg/client"
)

// loadConcurrency is how many requests the generator keeps in flight.
const loadConcurrency = 16

// healthzRPS is the baseline measured in the same run: /healthz does no
// store work, so list and get are reported as a share of it.
var healthzRPS atomic.Value

// BenchmarkLoad drives list and get on both stores over real HTTP on
// 127.0.0.1 with loadConcurrency requests in flight, and reports req/s,
// p50 and p99 latency, and req/s as a ratio of /healthz on the same server.
//
//	go test -run '^$' -bench Load -benchtime 3000x ./controlplane/server/
func BenchmarkLoad(b *testing.B) {
	for _, name := range []string{"sqlite", "postgres"} {
		b.Run(name, func(b *testing.B) {
			srv := serve(b, stores[name](b))
			seed(b, srv.URL)
			hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: loadConcurrency, MaxConnsPerHost: loadConcurrency}}
			b.Cleanup(hc.CloseIdleConnections)
			for _, op := range []struct{ name, path string }{
				{"healthz", "/healthz"},
				{"list", "/v1/apps?limit=50"},
				{"get", "/v1/apps/app-0042"},
			} {
				b.Run(op.name, func(b *testing.B) { load(b, hc, srv.URL+op.path, op.name == "healthz") })
			}
		})
	}
}

// seed creates 200 apps with one deployment each.
func seed(b *testing.B, url string) {
	c, err := client.New(url, adminKey)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for i := 0; i < 200; i++ {
		name := fmt.Sprintf("app-%04d", i)
		if _, err := c.CreateApp(ctx, api.AppCreate{Name: name, Env: map[string]string{"NODE_ENV": "production"}}); err != nil {
			b.Fatal(err)
		}
		// No registry is allowed here, so admission refuses the deployment
		// (422); it is recorded all the same, which is what the lists need.
		if _, err := c.CreateDeployment(ctx, api.DeploymentCreate{App: name, Artifact: "registry.example/" + name + ":v1"}); client.ErrorCode(err) != api.ReasonNoTrustedKeys {
			b.Fatalf("seed deployment: %v", err)
		}
	}
}

func load(b *testing.B, hc *http.Client, url string, baseline bool) {
	var (
		next      atomic.Int64
		mu        sync.Mutex
		latencies = make([]time.Duration, 0, b.N)
		failed    atomic.Int64
		wg        sync.WaitGroup
	)
	b.ResetTimer()
	start := time.Now()
	for w := 0; w < loadConcurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			local := make([]time.Duration, 0, b.N/loadConcurrency+1)
			for next.Add(1) <= int64(b.N) {
				req, _ := http.NewRequest("GET", url, nil)
				req.Header.Set("Authorization", "Bearer "+adminKey)
				t0 := time.Now()
				resp, err := hc.Do(req)
				if err != nil {
					failed.Add(1)
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					failed.Add(1)
				}
				local = append(local, time.Since(t0))
			}
			mu.Lock()
			latencies = append(latencies, local...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if n := failed.Load(); n > 0 {
		b.Fatalf("%d of %d requests failed", n, b.N)
	}
	sort.Slice(latencies, func(i, j int) bool { return latencies[i] < latencies[j] })
	pct := func(p float64) float64 {
		if len(latencies) == 0 {
			return 0
		}
		return float64(latencies[int(p*float64(len(latencies)-1))].Microseconds()) / 1000
	}
	rps := float64(b.N) / elapsed.Seconds()
	b.ReportMetric(rps, "req/s")
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(0, "ns/op")
	if baseline {
		healthzRPS.Store(rps)
	} else if base, ok := healthzRPS.Load().(float64); ok && base > 0 {
		b.ReportMetric(rps/base, "x-healthz")
	}
}
