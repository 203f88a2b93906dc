package client

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aetherengine/aether/pkg/api"
)

// The client against the real control plane is tested in
// controlplane/server (pkg/ does not import controlplane); these tests cover
// how it reads answers that are not the happy path.

func TestErrorDecoding(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
		code   string
		msg    string
	}{
		{"api error shape", 403, `{"error":{"code":"forbidden","message":"no","request_id":"r1"}}`, "forbidden", "no"},
		{"proxy html", 502, `<html>bad gateway</html>`, "http_502", "Bad Gateway: <html>bad gateway</html>"},
		{"empty body", 500, ``, "http_500", "Internal Server Error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if got := r.Header.Get("Authorization"); got != "Bearer k1" {
					t.Errorf("Authorization = %q", got)
				}
				w.WriteHeader(tt.status)
				w.Write([]byte(tt.body))
			}))
			defer srv.Close()
			c, err := New(srv.URL+"/", "k1")
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.GetApp(context.Background(), "web")
			var e *Error
			if !errors.As(err, &e) || e.Code != tt.code || e.Message != tt.msg || e.StatusCode != tt.status {
				t.Fatalf("error = %#v", err)
			}
		})
	}
}

func TestPathSegmentsAreEscaped(t *testing.T) {
	var got string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.URL.EscapedPath()
		w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	c, _ := New(srv.URL, "")
	if _, err := c.GetDeployment(context.Background(), "../keys"); err != nil {
		t.Fatal(err)
	}
	if got != "/v1/deployments/..%2Fkeys" {
		t.Fatalf("path = %q", got)
	}
}

func TestOversizedAnswerRefused(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"name":"`))
		chunk := strings.Repeat("a", 1<<20)
		for i := 0; i < 17; i++ {
			w.Write([]byte(chunk))
		}
	}))
	defer srv.Close()
	c, _ := New(srv.URL, "")
	if _, err := c.GetApp(context.Background(), "x"); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("error = %v", err)
	}
}

func TestAllFollowsCursors(t *testing.T) {
	pages := map[string]api.List[int]{"": {Items: []int{1, 2}, NextCursor: "c1"}, "c1": {Items: []int{3}, NextCursor: ""}}
	got, err := All(context.Background(), 0, func(_ context.Context, o ListOptions) (api.List[int], error) { return pages[o.Cursor], nil })
	if err != nil || len(got) != 3 || got[2] != 3 {
		t.Fatalf("All = %v, %v", got, err)
	}
	got, _ = All(context.Background(), 2, func(_ context.Context, o ListOptions) (api.List[int], error) { return pages[o.Cursor], nil })
	if len(got) != 2 {
		t.Fatalf("All(max 2) = %v", got)
	}
}

func TestNewRejectsBadURLs(t *testing.T) {
	for _, u := range []string{"", "127.0.0.1:8080", "ftp://x", "http://"} {
		if _, err := New(u, ""); err == nil {
			t.Errorf("New(%q) accepted", u)
		}
	}
}

// TestWatchDeployment: events are reported once each, in order, across
// polls and a passing 503, until a terminal transition.
func TestWatchDeployment(t *testing.T) {
	polls := 0
	pages := []string{
		`{"items":[{"id":1,"type":"created","status":"pending","at":"2024-01-01T00:00:00Z"}],"next_cursor":""}`,
		`503`,
		`{"items":[{"id":1,"type":"created","status":"pending","at":"2024-01-01T00:00:00Z"},{"id":2,"type":"status","status":"verifying","at":"2024-01-01T00:00:01Z"}],"next_cursor":""}`,
		`{"items":[{"id":1,"type":"created","status":"pending","at":"2024-01-01T00:00:00Z"},{"id":2,"type":"status","status":"verifying","at":"2024-01-01T00:00:01Z"},{"id":3,"type":"status","status":"failed","reason":"unsigned","at":"2024-01-01T00:00:02Z"}],"next_cursor":""}`,
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/events") {
			p := pages[min(polls, len(pages)-1)]
			polls++
			if p == "503" {
				w.WriteHeader(503)
				return
			}
			w.Write([]byte(p))
			return
		}
		w.Write([]byte(`{"id":"dep_1","status":"failed","reason":"unsigned"}`))
	}))
	defer srv.Close()
	c, _ := New(srv.URL, "k")
	var seen []int64
	d, err := c.WatchDeployment(context.Background(), "dep_1", WatchOptions{Interval: time.Millisecond}, func(e api.Event) { seen = append(seen, e.ID) })
	if err != nil || d.Status != api.StatusFailed || d.Reason != "unsigned" {
		t.Fatalf("WatchDeployment = %+v, %v", d, err)
	}
	if len(seen) != 3 || seen[0] != 1 || seen[1] != 2 || seen[2] != 3 {
		t.Fatalf("events reported %v, want [1 2 3]", seen)
	}
	if !Finished(api.Event{Type: api.EventNote, Reason: api.ReasonNoRuntime}) || Finished(api.Event{Type: api.EventTransition, Status: api.StatusVerified}) {
		t.Fatal("Finished wrong")
	}
}
