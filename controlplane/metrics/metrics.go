// Package metrics holds the control plane's Prometheus metrics, registered
// on an injected registerer: HTTP requests by route template (never the raw
// path, which would explode cardinality) and the domain metrics admission
// and the runtimes fill.
package metrics

import (
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/aetherengine/aether/pkg/api"
)

// Metrics are the control plane's collectors.
type Metrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec

	// DeployDuration: CLI start (or acceptance) to ready, in seconds.
	DeployDuration prometheus.Histogram
	// VerificationFailures counts refused artifacts by reason code.
	VerificationFailures *prometheus.CounterVec
	// ArtifactSize is the size of accepted artifacts, in bytes.
	ArtifactSize prometheus.Histogram
	// CrashLooping is the number of deployments currently crash-looping.
	CrashLooping prometheus.Gauge
	// AuditFailures counts audit entries that could not be written.
	AuditFailures prometheus.Counter
	// AdmissionDuration is the time admission took, by outcome: cached,
	// verified, rejected or error.
	AdmissionDuration *prometheus.HistogramVec

	sbomMu       sync.Mutex
	verified     float64
	withSBOM     float64
	sbomCoverage prometheus.Gauge
	verifiedCtr  prometheus.Counter
	withSBOMCtr  prometheus.Counter
}

// New creates the metrics and registers them on reg.
func New(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "aether_http_requests_total",
			Help: "HTTP requests by method, route template and status code.",
		}, []string{"method", "route", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "aether_http_request_duration_seconds",
			Help:    "HTTP request latency by method and route template.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"method", "route"}),
		DeployDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "aether_deploy_duration_seconds",
			Help:    "Time from CLI start (or acceptance when the CLI does not say) to the deployment being ready.",
			Buckets: []float64{1, 2, 5, 10, 15, 20, 30, 45, 60, 120, 300, 600},
		}),
		VerificationFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "aether_verification_failures_total",
			Help: "Artifacts refused by admission, by reason code.",
		}, []string{"reason"}),
		ArtifactSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "aether_artifact_size_bytes",
			Help:    "Size of admitted artifacts (all layers), in bytes.",
			Buckets: prometheus.ExponentialBuckets(1<<20, 2, 11), // 1 MiB … 1 GiB
		}),
		CrashLooping: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "aether_deployments_crashlooping",
			Help: "Deployments whose pods are currently crash-looping.",
		}),
		AuditFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "aether_audit_write_failures_total",
			Help: "Mutating calls whose audit entry could not be written.",
		}),
		AdmissionDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "aether_admission_duration_seconds",
			Help:    "Time to admit a deployment (resolve, read referrers, verify), by outcome: cached, verified, rejected, error.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"outcome"}),
		sbomCoverage: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "aether_sbom_coverage_ratio",
			Help: "Share of verified artifacts (since start) that carried a valid SBOM.",
		}),
		verifiedCtr: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "aether_artifacts_verified_total",
			Help: "Artifacts verified by admission.",
		}),
		withSBOMCtr: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "aether_artifacts_with_sbom_total",
			Help: "Verified artifacts that carried a valid SBOM.",
		}),
	}
	reg.MustRegister(m.requests, m.latency, m.DeployDuration, m.VerificationFailures, m.ArtifactSize,
		m.CrashLooping, m.AuditFailures, m.AdmissionDuration, m.sbomCoverage, m.verifiedCtr, m.withSBOMCtr)
	// Known reasons exist from the start at zero, so alerts and dashboards
	// see the series before the first failure.
	for _, r := range api.Reasons {
		m.VerificationFailures.WithLabelValues(r)
	}
	for _, o := range []string{"cached", "verified", "rejected", "error"} {
		m.AdmissionDuration.WithLabelValues(o)
	}
	return m
}

// ObserveRequest records one HTTP request; route is the template ("" for
// requests that matched no route).
func (m *Metrics) ObserveRequest(method, route string, code int, d time.Duration) {
	if route == "" {
		route = "unmatched"
	}
	m.requests.WithLabelValues(method, route, strconv.Itoa(code)).Inc()
	m.latency.WithLabelValues(method, route).Observe(d.Seconds())
}

// ObserveVerified records a verified artifact and whether it had an SBOM,
// keeping the coverage ratio current.
func (m *Metrics) ObserveVerified(size int64, hasSBOM bool) {
	m.ArtifactSize.Observe(float64(size))
	m.verifiedCtr.Inc()
	m.sbomMu.Lock()
	defer m.sbomMu.Unlock()
	m.verified++
	if hasSBOM {
		m.withSBOM++
		m.withSBOMCtr.Inc()
	}
	m.sbomCoverage.Set(m.withSBOM / m.verified)
}
