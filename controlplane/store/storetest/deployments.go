package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/aetherengine/aether/controlplane/store"
	"github.com/aetherengine/aether/pkg/api"
)

func testDeployments(t *testing.T, s store.Store) {
	ctx := context.Background()
	_, err := s.CreateDeployment(ctx, newDeployment("dep_1", "ghost"))
	wantErr(t, err, store.ErrNotFound)
	must(s.CreateApp(ctx, newApp("web")))
	d := newDeployment("dep_1", "web")
	d.Digest = "sha256:" + fmt.Sprintf("%064x", 1)
	started := base.Add(-5 * time.Second)
	d.StartedAt = &started
	d.Env = map[string]string{"A": "1"}
	created := must(s.CreateDeployment(ctx, d))
	d.Status, d.UpdatedAt = api.StatusPending, base
	if !reflect.DeepEqual(created, d) {
		t.Fatalf("CreateDeployment = %+v\nwant %+v", created, d)
	}
	if got := must(s.GetDeployment(ctx, "dep_1")); !reflect.DeepEqual(got, d) {
		t.Fatalf("GetDeployment = %+v\nwant %+v", got, d)
	}
	_, err = s.CreateDeployment(ctx, newDeployment("dep_1", "web"))
	wantErr(t, err, store.ErrConflict)
	bad := newDeployment("dep_2", "web")
	bad.Status = api.StatusReady
	_, err = s.CreateDeployment(ctx, bad)
	wantErr(t, err, store.ErrIllegalTransition)
	_, err = s.GetDeployment(ctx, "dep_nope")
	wantErr(t, err, store.ErrNotFound)
	events := items3(s.ListEvents(ctx, "dep_1", store.Page{}))
	if len(events) != 1 || events[0].Type != api.EventCreated || events[0].Status != api.StatusPending {
		t.Fatalf("events after create = %+v", events)
	}
}

func testDeploymentsPagination(t *testing.T, s store.Store) {
	ctx := context.Background()
	must(s.CreateApp(ctx, newApp("a")))
	must(s.CreateApp(ctx, newApp("b")))
	var wantA, wantAll []string
	for i := 0; i < 9; i++ {
		app := "a"
		if i%3 == 0 {
			app = "b"
		}
		id := fmt.Sprintf("dep_%02d", i)
		must(s.CreateDeployment(ctx, newDeployment(id, app)))
		wantAll = append([]string{id}, wantAll...) // newest first
		if app == "a" {
			wantA = append([]string{id}, wantA...)
		}
	}
	list := func(f store.DeploymentFilter) []string {
		var ids []string
		cursor := ""
		for {
			items, next, err := s.ListDeployments(ctx, f, store.Page{Limit: 2, Cursor: cursor})
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range items {
				ids = append(ids, d.ID)
			}
			if next == "" {
				return ids
			}
			cursor = next
		}
	}
	if got := list(store.DeploymentFilter{}); !reflect.DeepEqual(got, wantAll) {
		t.Fatalf("all = %v, want %v", got, wantAll)
	}
	if got := list(store.DeploymentFilter{App: "a"}); !reflect.DeepEqual(got, wantA) {
		t.Fatalf("app a = %v, want %v", got, wantA)
	}
	if got := list(store.DeploymentFilter{Apps: []string{"a"}}); !reflect.DeepEqual(got, wantA) {
		t.Fatalf("scope [a] = %v, want %v", got, wantA)
	}
	if got := list(store.DeploymentFilter{App: "b", Apps: []string{"a"}}); len(got) != 0 {
		t.Fatalf("app b outside scope [a] = %v, want none", got)
	}
}

func testTransitions(t *testing.T, s store.Store) {
	ctx := context.Background()
	must(s.CreateApp(ctx, newApp("web")))
	must(s.CreateDeployment(ctx, newDeployment("dep_1", "web")))
	digest := "sha256:" + fmt.Sprintf("%064x", 7)
	steps := []struct {
		from, to api.DeploymentStatus
		digest   string
		ok       bool
	}{
		{"", api.StatusReady, "", false},                     // skips the machine
		{api.StatusVerifying, api.StatusVerified, "", false}, // stale From
		{"", api.StatusPending, "", false},                   // to itself
		{api.StatusPending, api.StatusVerifying, digest, true},
		{"", api.StatusPending, "", false}, // backwards
		{"", api.StatusVerified, "", true},
		{"", api.StatusRollingOut, "", true},
		{"", api.StatusReady, "", true},
		{"", api.StatusFailed, "", false}, // terminal
	}
	at := base
	wantEvents := []api.DeploymentStatus{api.StatusPending}
	for i, st := range steps {
		at = at.Add(time.Second)
		d, ev, err := s.TransitionDeployment(ctx, store.Transition{ID: "dep_1", From: st.from, To: st.to, Digest: st.digest, Reason: "r", Message: fmt.Sprintf("step %d", i), At: at})
		if !st.ok {
			wantErr(t, err, store.ErrIllegalTransition)
			continue
		}
		if err != nil {
			t.Fatalf("step %d (%s→%s): %v", i, st.from, st.to, err)
		}
		wantEvents = append(wantEvents, st.to)
		if d.Status != st.to || !d.UpdatedAt.Equal(at) || ev.Status != st.to || ev.Type != api.EventTransition || ev.DeploymentID != "dep_1" {
			t.Fatalf("step %d: deployment %+v, event %+v", i, d, ev)
		}
		if d.Digest != digest {
			t.Fatalf("step %d: digest = %q, want the pinned %q", i, d.Digest, digest)
		}
		if (d.FinishedAt != nil) != st.to.Terminal() {
			t.Fatalf("step %d: finished_at = %v for status %s", i, d.FinishedAt, st.to)
		}
	}
	events := items3(s.ListEvents(ctx, "dep_1", store.Page{}))
	var got []api.DeploymentStatus
	for _, e := range events {
		got = append(got, e.Status)
	}
	if !reflect.DeepEqual(got, wantEvents) {
		t.Fatalf("event statuses = %v, want %v", got, wantEvents)
	}
	_, _, err := s.TransitionDeployment(ctx, store.Transition{ID: "dep_nope", To: api.StatusVerifying, At: at})
	wantErr(t, err, store.ErrNotFound)

	// Every state but the terminal ones may fail.
	for i, from := range api.Statuses[:4] {
		id := fmt.Sprintf("dep_f%d", i)
		must(s.CreateDeployment(ctx, newDeployment(id, "web")))
		for _, st := range api.Statuses[1 : i+1] { // walk the machine up to from
			mustT(s.TransitionDeployment(ctx, store.Transition{ID: id, To: st, At: at}))
		}
		d, _, err := s.TransitionDeployment(ctx, store.Transition{ID: id, To: api.StatusFailed, Reason: "unsigned", At: at})
		if err != nil || d.Status != api.StatusFailed || d.Reason != "unsigned" {
			t.Fatalf("%s → failed: %+v, %v", from, d, err)
		}
	}
}

func testConcurrentTransitions(t *testing.T, s store.Store) {
	ctx := context.Background()
	must(s.CreateApp(ctx, newApp("web")))
	must(s.CreateDeployment(ctx, newDeployment("dep_1", "web")))
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			_, _, errs[i] = s.TransitionDeployment(ctx, store.Transition{ID: "dep_1", From: api.StatusPending, To: api.StatusVerifying, At: base})
		}(i)
	}
	wg.Wait()
	wins := 0
	for _, err := range errs {
		switch {
		case err == nil:
			wins++
		case !errors.Is(err, store.ErrIllegalTransition):
			t.Fatalf("a losing transition failed with %v, want ErrIllegalTransition", err)
		}
	}
	if wins != 1 {
		t.Fatalf("%d of %d racing transitions won, want exactly 1", wins, n)
	}
	events := items3(s.ListEvents(ctx, "dep_1", store.Page{}))
	if len(events) != 2 {
		t.Fatalf("%d events after one won transition, want 2", len(events))
	}
}

func testEvents(t *testing.T, s store.Store) {
	ctx := context.Background()
	must(s.CreateApp(ctx, newApp("web")))
	must(s.CreateDeployment(ctx, newDeployment("dep_1", "web")))
	for i := 0; i < 5; i++ {
		e := must(s.AppendEvent(ctx, api.Event{DeploymentID: "dep_1", Type: api.EventNote, Message: fmt.Sprint(i), At: base.Add(time.Duration(i) * time.Second)}))
		if e.ID <= 0 || e.Message != fmt.Sprint(i) {
			t.Fatalf("AppendEvent = %+v", e)
		}
	}
	var msgs []string
	cursor := ""
	for {
		items, next, err := s.ListEvents(ctx, "dep_1", store.Page{Limit: 4, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range items {
			msgs = append(msgs, e.Message)
		}
		if next == "" {
			break
		}
		cursor = next
	}
	want := []string{"deployment of registry.example/web:v1 created", "0", "1", "2", "3", "4"}
	if !reflect.DeepEqual(msgs, want) {
		t.Fatalf("events = %q, want %q", msgs, want)
	}
	_, err := s.AppendEvent(ctx, api.Event{DeploymentID: "dep_nope", Type: api.EventNote, At: base})
	wantErr(t, err, store.ErrNotFound)
}

func testDeleteAppCascades(t *testing.T, s store.Store) {
	ctx := context.Background()
	must(s.CreateApp(ctx, newApp("web")))
	must(s.CreateApp(ctx, newApp("keep")))
	must(s.CreateDeployment(ctx, newDeployment("dep_1", "web")))
	must(s.CreateDeployment(ctx, newDeployment("dep_2", "keep")))
	if err := s.DeleteApp(ctx, "web"); err != nil {
		t.Fatal(err)
	}
	_, err := s.GetDeployment(ctx, "dep_1")
	wantErr(t, err, store.ErrNotFound)
	if evs := items3(s.ListEvents(ctx, "dep_1", store.Page{})); len(evs) != 0 {
		t.Fatalf("events of a deleted app's deployment survive: %+v", evs)
	}
	must(s.GetDeployment(ctx, "dep_2"))
}

func newDeployment(id, app string) api.Deployment {
	return api.Deployment{ID: id, App: app, ArtifactRef: "registry.example/" + app + ":v1", Env: map[string]string{}, CreatedBy: "key_deployer", CreatedAt: base}
}
