package httpapi

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aetherengine/aether/pkg/api"
)

// TestAuditLog: every mutating call is recorded with who, what and the
// outcome — successes, refusals and unauthenticated attempts alike.
func TestAuditLog(t *testing.T) {
	f := newFixture(t)
	calls := []struct {
		key, method, path, body string
	}{
		{"admin", "POST", "/v1/apps", `{"name":"audited"}`},
		{"viewer", "POST", "/v1/apps", `{"name":"nope"}`},
		{"", "DELETE", "/v1/apps/web", ""},
		{"admin", "PATCH", "/v1/apps/audited", `{"namespace":"team-a"}`},
		{"admin", "GET", "/v1/apps", ""}, // reads are not audited
	}
	for _, c := range calls {
		var b []byte
		if c.body != "" {
			b = []byte(c.body)
		}
		f.do(t, c.method, c.path, c.key, b, nil)
	}
	resp, body := f.do(t, "GET", "/v1/audit", "admin", nil, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("GET /v1/audit = %d %s", resp.StatusCode, body)
	}
	var page api.List[api.AuditEntry]
	if err := json.Unmarshal(body, &page); err != nil {
		t.Fatal(err)
	}
	want := []struct {
		actor, action, target, outcome string
		status                         int
	}{
		{"key_admin", "PATCH /v1/apps/:name", "/v1/apps/audited", "ok", 200},
		{"anonymous", "DELETE /v1/apps/:name", "/v1/apps/web", "unauthenticated", 401},
		{"key_viewer", "POST /v1/apps", "/v1/apps", "forbidden", 403},
		{"key_admin", "POST /v1/apps", "/v1/apps", "ok", 201},
	}
	if len(page.Items) != len(want) {
		t.Fatalf("audit has %d entries, want %d: %+v", len(page.Items), len(want), page.Items)
	}
	for i, w := range want {
		e := page.Items[i]
		if e.Actor != w.actor || e.Action != w.action || e.Target != w.target || e.Outcome != w.outcome || e.Status != w.status || e.RequestID == "" || e.At.IsZero() {
			t.Errorf("entry %d = %+v, want %+v", i, e, w)
		}
	}
}

// TestMetrics: request metrics are labelled by route template, and the
// domain metrics exist before anything fills them.
func TestMetrics(t *testing.T) {
	f := newFixture(t)
	f.do(t, "GET", "/v1/apps/web", "admin", nil, nil)
	f.do(t, "GET", "/v1/apps/other", "admin", nil, nil)
	_, body := f.do(t, "GET", "/metrics", "", nil, nil)
	text := string(body)
	for _, want := range []string{
		`aether_http_requests_total{code="200",method="GET",route="/v1/apps/:name"} 2`,
		`aether_http_request_duration_seconds_bucket{method="GET",route="/v1/apps/:name",le="+Inf"} 2`,
		`aether_verification_failures_total{reason="unsigned"} 0`,
		`aether_deploy_duration_seconds_count 0`,
		`aether_artifact_size_bytes_count 0`,
		`aether_sbom_coverage_ratio 0`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(text, `route="/v1/apps/web"`) {
		t.Error("a raw path leaked into a route label")
	}
}

func TestReadyz(t *testing.T) {
	f := newFixture(t)
	resp, body := f.do(t, "GET", "/readyz", "", nil, nil)
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"store":"ok"`) {
		t.Fatalf("/readyz = %d %s", resp.StatusCode, body)
	}
	f.store.Close()
	resp, body = f.do(t, "GET", "/readyz", "", nil, nil)
	if resp.StatusCode != 503 || !strings.Contains(string(body), `"store":"unavailable"`) {
		t.Fatalf("/readyz with a closed store = %d %s", resp.StatusCode, body)
	}
}
