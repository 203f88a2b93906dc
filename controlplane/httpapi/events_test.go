package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/aetherengine/aether/controlplane/runtime"
	"github.com/aetherengine/aether/controlplane/service"
	"github.com/aetherengine/aether/pkg/api"
)

// gatedRuntime reports rolling_out, then ready once release is closed.
type gatedRuntime struct{ release chan struct{} }

func (gatedRuntime) Name() string                { return "gated" }
func (gatedRuntime) Ready(context.Context) error { return nil }
func (g gatedRuntime) Deploy(ctx context.Context, _ runtime.Rollout, report runtime.Reporter) error {
	if err := report(ctx, runtime.Progress{Status: api.StatusRollingOut, Message: "rolling out"}); err != nil {
		return err
	}
	<-g.release
	return report(ctx, runtime.Progress{Status: api.StatusReady, Message: "ready"})
}

// TestFollowEvents: a long-poll (after + wait) is held open until the next
// event arrives, and returns only the events after the given id.
func TestFollowEvents(t *testing.T) {
	rt := gatedRuntime{release: make(chan struct{})}
	f := newFixtureWith(t, service.Options{Admitter: scriptedAdmitter{}, Runtime: rt})
	resp, body := f.do(t, "POST", "/v1/deployments", "admin", []byte(`{"app":"web","artifact":"r.example/ok@`+digestOK+`"}`), nil)
	var d api.Deployment
	if resp.StatusCode != 201 || json.Unmarshal(body, &d) != nil {
		t.Fatalf("POST = %d %s", resp.StatusCode, body)
	}
	var last int64
	deadline := time.Now().Add(10 * time.Second)
	for {
		evs := f.events(t, d.ID)
		if e := evs[len(evs)-1]; e.Status == api.StatusRollingOut {
			last = e.ID
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("never reached rolling_out")
		}
		time.Sleep(10 * time.Millisecond)
	}

	type answer struct {
		items []api.Event
		err   error
	}
	got := make(chan answer, 1)
	go func() {
		resp, body := f.do(t, "GET", fmt.Sprintf("/v1/deployments/%s/events?after=%d&wait=20s", d.ID, last), "admin", nil, nil)
		var l api.List[api.Event]
		err := json.Unmarshal(body, &l)
		if resp.StatusCode != 200 {
			err = fmt.Errorf("status %d: %s", resp.StatusCode, body)
		}
		got <- answer{l.Items, err}
	}()
	select {
	case a := <-got:
		t.Fatalf("the long-poll answered before any new event: %+v %v", a.items, a.err)
	case <-time.After(300 * time.Millisecond):
	}
	close(rt.release)
	a := <-got
	if a.err != nil {
		t.Fatal(a.err)
	}
	if len(a.items) == 0 || a.items[0].ID <= last || a.items[len(a.items)-1].Status != api.StatusReady {
		t.Fatalf("long-poll returned %+v after event %d", a.items, last)
	}

	// Nothing new: an empty list once wait has passed.
	resp, body = f.do(t, "GET", fmt.Sprintf("/v1/deployments/%s/events?after=%d&wait=50ms", d.ID, a.items[len(a.items)-1].ID), "admin", nil, nil)
	var l api.List[api.Event]
	if resp.StatusCode != 200 || json.Unmarshal(body, &l) != nil || len(l.Items) != 0 {
		t.Fatalf("idle long-poll = %d %s", resp.StatusCode, body)
	}
	for _, q := range []string{"after=-1", "after=x", "wait=31s", "wait=soon", "after=1&cursor=abc"} {
		resp, body := f.do(t, "GET", "/v1/deployments/"+d.ID+"/events?"+q, "admin", nil, nil)
		if e := errorShape(t, resp, body); resp.StatusCode != 400 || e.Code != "invalid_argument" {
			t.Errorf("?%s = %d %+v, want 400 invalid_argument", q, resp.StatusCode, e)
		}
	}
}
