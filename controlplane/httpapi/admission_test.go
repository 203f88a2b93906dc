package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/aetherengine/aether/controlplane/admission"
	"github.com/aetherengine/aether/controlplane/apierr"
	"github.com/aetherengine/aether/controlplane/runtime"
	"github.com/aetherengine/aether/controlplane/service"
	"github.com/aetherengine/aether/pkg/api"
)

const (
	digestOK  = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
	digestBad = "sha256:2222222222222222222222222222222222222222222222222222222222222222"
)

// scriptedAdmitter answers by reference: "ok" verifies, "reject-CODE"
// refuses with CODE, "boom" fails inside.
type scriptedAdmitter struct{}

func (scriptedAdmitter) Admit(_ context.Context, req admission.Request) (admission.Result, error) {
	repo := strings.TrimPrefix(api.Repository(req.Ref), "r.example/")
	switch {
	case repo == "ok":
		req.Note("resolved " + req.Ref + " to " + digestOK)
		return admission.Result{Digest: digestOK, Summary: "signed by team (bundle format)", Artifact: &api.Artifact{
			Digest: digestOK, Size: 4096, MediaType: "application/vnd.oci.image.manifest.v1+json",
			Verification: &api.Verification{KeyID: "team", PolicyVersion: 1, SBOMFormat: "CycloneDX 1.5", SBOMComponents: 2},
		}}, nil
	case strings.HasPrefix(repo, "reject-"):
		return admission.Result{Digest: digestBad}, apierr.Rejected(strings.TrimPrefix(repo, "reject-"), "refused: do this instead")
	}
	return admission.Result{}, errors.New("the verifier fell over")
}

// recordingRuntime records rollouts and reports them ready.
type recordingRuntime struct {
	mu    sync.Mutex
	calls []runtime.Rollout
}

func (r *recordingRuntime) Name() string                { return "recording" }
func (r *recordingRuntime) Ready(context.Context) error { return nil }
func (r *recordingRuntime) rollouts() []runtime.Rollout {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]runtime.Rollout(nil), r.calls...)
}
func (r *recordingRuntime) Deploy(ctx context.Context, ro runtime.Rollout, report runtime.Reporter) error {
	r.mu.Lock()
	r.calls = append(r.calls, ro)
	r.mu.Unlock()
	if err := report(ctx, runtime.Progress{Status: api.StatusRollingOut, Message: "rolling out"}); err != nil {
		return err
	}
	return report(ctx, runtime.Progress{Status: api.StatusReady, Message: "ready"})
}

func (f *fixture) events(t *testing.T, id string) []api.Event {
	t.Helper()
	resp, body := f.do(t, "GET", "/v1/deployments/"+id+"/events", "admin", nil, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("events: %d %s", resp.StatusCode, body)
	}
	var l api.List[api.Event]
	if err := json.Unmarshal(body, &l); err != nil {
		t.Fatal(err)
	}
	return l.Items
}

func eventTrail(evs []api.Event) string {
	var parts []string
	for _, e := range evs {
		parts = append(parts, e.Type+":"+string(e.Status))
	}
	return strings.Join(parts, " ")
}

// TestDeployAccepted: a verified deployment answers 201 pinned to its
// digest, its artifact row is stored, every step is an event with a
// time, and it is handed to the runtime, which takes it to ready.
func TestDeployAccepted(t *testing.T) {
	rt := &recordingRuntime{}
	f := newFixtureWith(t, service.Options{Admitter: scriptedAdmitter{}, Runtime: rt})
	resp, body := f.do(t, "POST", "/v1/deployments", "deployer", []byte(`{"app":"web","artifact":"r.example/ok:v1"}`), nil)
	if resp.StatusCode != 201 {
		t.Fatalf("POST = %d %s", resp.StatusCode, body)
	}
	var d api.Deployment
	if err := json.Unmarshal(body, &d); err != nil {
		t.Fatal(err)
	}
	if d.Status != api.StatusVerified || d.Digest != digestOK || d.Pinned() != "r.example/ok@"+digestOK {
		t.Fatalf("deployment = %+v", d)
	}
	f.svc.Wait()
	if calls := rt.rollouts(); len(calls) != 1 || calls[0].Deployment.ID != d.ID || calls[0].Artifact.Digest != digestOK {
		t.Fatalf("runtime got %+v", calls)
	}
	evs := f.events(t, d.ID)
	if got, want := eventTrail(evs), "created:pending status:verifying note:verifying status:verified status:rolling_out status:ready"; got != want {
		t.Fatalf("events = %s\nwant     %s", got, want)
	}
	for i, e := range evs {
		if e.At.IsZero() || (i > 0 && e.At.Before(evs[i-1].At)) {
			t.Errorf("event %d has time %v after %v", i, e.At, evs[max(i-1, 0)].At)
		}
	}
	if !strings.Contains(evs[3].Message, "signed by team") {
		t.Errorf("verified event message = %q, want the summary", evs[3].Message)
	}
	resp, body = f.do(t, "GET", "/v1/artifacts/"+digestOK, "viewer", nil, nil)
	var a api.Artifact
	if resp.StatusCode != 200 || json.Unmarshal(body, &a) != nil || a.Verification == nil || a.Verification.KeyID != "team" || a.Verification.SBOMComponents != 2 {
		t.Fatalf("artifact = %d %s", resp.StatusCode, body)
	}
	if m := f.metric(t, "aether_artifacts_with_sbom_total"); m != "1" {
		t.Errorf("aether_artifacts_with_sbom_total = %s, want 1", m)
	}
}

// TestDeployRejected: every admission reason code is a 422 in the one
// error shape, naming the deployment, which is recorded as failed with
// its events and its digest; nothing reaches the runtime; the failure is
// counted by reason.
func TestDeployRejected(t *testing.T) {
	rt := &recordingRuntime{}
	f := newFixtureWith(t, service.Options{Admitter: scriptedAdmitter{}, Runtime: rt})
	for _, code := range api.Reasons {
		t.Run(code, func(t *testing.T) {
			resp, body := f.do(t, "POST", "/v1/deployments", "admin", []byte(`{"app":"web","artifact":"r.example/reject-`+code+`:v1"}`), nil)
			if resp.StatusCode != 422 {
				t.Fatalf("POST = %d %s, want 422", resp.StatusCode, body)
			}
			e := errorShape(t, resp, body)
			var raw struct {
				Error api.ErrorBody `json:"error"`
			}
			_ = json.Unmarshal(body, &raw)
			if e.Code != code || !strings.Contains(e.Message, "do this instead") || raw.Error.DeploymentID == "" {
				t.Fatalf("error = %s", body)
			}
			resp, body = f.do(t, "GET", "/v1/deployments/"+raw.Error.DeploymentID, "viewer", nil, nil)
			var d api.Deployment
			if resp.StatusCode != 200 || json.Unmarshal(body, &d) != nil || d.Status != api.StatusFailed || d.Reason != code || d.Digest != digestBad {
				t.Fatalf("recorded deployment = %d %s", resp.StatusCode, body)
			}
			if got, want := eventTrail(f.events(t, d.ID)), "created:pending status:verifying status:failed"; got != want {
				t.Fatalf("events = %s, want %s", got, want)
			}
			if m := f.metric(t, fmt.Sprintf(`aether_verification_failures_total{reason=%q}`, code)); m != "1" {
				t.Errorf("failures{reason=%s} = %s, want 1", code, m)
			}
		})
	}
	f.svc.Wait()
	if calls := rt.rollouts(); len(calls) != 0 {
		t.Fatalf("refused deployments reached the runtime: %+v", calls)
	}
	resp, body := f.do(t, "GET", "/v1/artifacts/"+digestBad, "admin", nil, nil)
	if resp.StatusCode != 404 {
		t.Fatalf("a refused artifact has a record: %d %s", resp.StatusCode, body)
	}

	// An internal failure is a 500 that still ends the deployment.
	resp, body = f.do(t, "POST", "/v1/deployments", "admin", []byte(`{"app":"web","artifact":"r.example/boom:v1"}`), nil)
	e := errorShape(t, resp, body)
	if resp.StatusCode != 500 || e.Code != api.CodeInternal || strings.Contains(e.Message, "fell over") {
		t.Fatalf("internal failure = %d %s", resp.StatusCode, body)
	}
}

// TestDeployWithoutRuntime: on a server without a runtime the history of a
// verified deployment ends with a no_runtime note (clients stop waiting).
func TestDeployWithoutRuntime(t *testing.T) {
	f := newFixtureWith(t, service.Options{Admitter: scriptedAdmitter{}})
	resp, body := f.do(t, "POST", "/v1/deployments", "admin", []byte(`{"app":"web","artifact":"r.example/ok@`+digestOK+`"}`), nil)
	var d api.Deployment
	if resp.StatusCode != 201 || json.Unmarshal(body, &d) != nil {
		t.Fatalf("POST = %d %s", resp.StatusCode, body)
	}
	evs := f.events(t, d.ID)
	last := evs[len(evs)-1]
	if last.Type != api.EventNote || last.Reason != api.ReasonNoRuntime || last.Status != api.StatusVerified {
		t.Fatalf("last event = %+v", last)
	}
}

// TestDeployBadReference: a reference that is not one is a 400 before
// anything is recorded.
func TestDeployBadReference(t *testing.T) {
	f := newFixtureWith(t, service.Options{Admitter: scriptedAdmitter{}})
	for _, ref := range []string{"no-registry", "r.example/app", "r.example/App:v1", "r.example/app@sha256:short"} {
		resp, body := f.do(t, "POST", "/v1/deployments", "admin", []byte(`{"app":"web","artifact":"`+ref+`"}`), nil)
		if e := errorShape(t, resp, body); resp.StatusCode != 400 || e.Code != api.CodeInvalidArgument {
			t.Errorf("%s: %d %s, want 400 invalid_argument", ref, resp.StatusCode, body)
		}
	}
	resp, body := f.do(t, "GET", "/v1/deployments", "admin", nil, nil)
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"items":[]`) {
		t.Fatalf("bad references were recorded: %s", body)
	}
}

// metric returns the value of one series on /metrics.
func (f *fixture) metric(t *testing.T, series string) string {
	t.Helper()
	_, body := f.do(t, "GET", "/metrics", "", nil, nil)
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			return v
		}
	}
	return "absent"
}
