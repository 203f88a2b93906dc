package httpapi

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aetherengine/aether/controlplane/store"
)

func names(t *testing.T, body []byte) []string {
	t.Helper()
	var page struct {
		Items []struct {
			Name string `json:"name"`
			App  string `json:"app"`
		} `json:"items"`
		NextCursor *string `json:"next_cursor"`
	}
	if err := json.Unmarshal(body, &page); err != nil || page.NextCursor == nil {
		t.Fatalf("not a page: %s (%v)", body, err)
	}
	var out []string
	for _, it := range page.Items {
		out = append(out, it.Name+it.App)
	}
	return out
}

// TestBadInput: every malformed request gets a 4xx in the one error shape.
func TestBadInput(t *testing.T) {
	f := newFixture(t)
	big := []byte(`{"name":"` + strings.Repeat("a", 5000) + `"}`)
	tests := []struct {
		name         string
		method, path string
		body         []byte
		header       map[string]string
		want         int
		code         string
	}{
		{"malformed JSON", "POST", "/v1/apps", []byte(`{"name":`), nil, 400, "invalid_json"},
		{"not JSON", "POST", "/v1/apps", []byte(`hello`), nil, 400, "invalid_json"},
		{"empty body", "POST", "/v1/apps", []byte(``), nil, 400, "invalid_json"},
		{"array instead of object", "POST", "/v1/apps", []byte(`[]`), nil, 400, "invalid_json"},
		{"two values", "POST", "/v1/apps", []byte(`{"name":"a"}{"name":"b"}`), nil, 400, "invalid_json"},
		{"unknown field", "POST", "/v1/apps", []byte(`{"name":"x","colour":"red"}`), nil, 400, "unknown_field"},
		{"unknown nested field", "PUT", "/v1/apps/web/trust", []byte(`{"keys":[{"pem":"x","owner":"me"}]}`), nil, 400, "unknown_field"},
		{"wrong type", "POST", "/v1/apps", []byte(`{"name":5}`), nil, 400, "invalid_argument"},
		{"invalid app name", "POST", "/v1/apps", []byte(`{"name":"Bad_Name"}`), nil, 400, "invalid_argument"},
		{"invalid env name", "POST", "/v1/apps", []byte(`{"name":"ok","env":{"1X":"y"}}`), nil, 400, "invalid_argument"},
		{"not a public key", "PUT", "/v1/apps/web/trust", []byte(`{"keys":[{"pem":"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"}]}`), nil, 400, "invalid_argument"},
		{"unknown role", "POST", "/v1/keys", []byte(`{"name":"k","role":"root"}`), nil, 400, "invalid_argument"},
		{"unscoped deployer key", "POST", "/v1/keys", []byte(`{"name":"k","role":"deployer"}`), nil, 400, "invalid_argument"},
		{"oversized body", "POST", "/v1/apps", big, nil, 413, "body_too_large"},
		{"wrong content type", "POST", "/v1/apps", []byte(`{"name":"x"}`), map[string]string{"Content-Type": "text/plain"}, 415, "unsupported_media_type"},
		{"bad cursor", "GET", "/v1/apps?cursor=garbage!", nil, nil, 400, "invalid_cursor"},
		{"cursor of another list", "GET", "/v1/apps?cursor=" + store.EncodeCursor("deployments", 3), nil, nil, 400, "invalid_cursor"},
		{"limit zero", "GET", "/v1/apps?limit=0", nil, nil, 400, "invalid_argument"},
		{"limit not a number", "GET", "/v1/deployments?limit=ten", nil, nil, 400, "invalid_argument"},
		{"limit too large", "GET", "/v1/audit?limit=100000", nil, nil, 400, "invalid_argument"},
		{"unknown route", "GET", "/v1/nothing", nil, nil, 404, "not_found"},
		{"wrong method", "PUT", "/v1/apps", []byte(`{}`), nil, 405, "method_not_allowed"},
		{"missing app", "GET", "/v1/apps/ghost", nil, nil, 404, "not_found"},
		{"deployment of a missing app", "POST", "/v1/deployments", []byte(`{"app":"ghost","artifact":"r/x:1"}`), nil, 404, "not_found"},
		{"deployment without artifact", "POST", "/v1/deployments", []byte(`{"app":"web"}`), nil, 400, "invalid_argument"},
		{"duplicate app", "POST", "/v1/apps", []byte(`{"name":"web"}`), nil, 409, "conflict"},
		{"revoking the last admin", "DELETE", "/v1/keys/key_admin", nil, nil, 409, "conflict"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := f.do(t, tt.method, tt.path, "admin", tt.body, tt.header)
			if resp.StatusCode != tt.want {
				t.Fatalf("status = %d, want %d; body %s", resp.StatusCode, tt.want, body)
			}
			if e := errorShape(t, resp, body); e.Code != tt.code {
				t.Fatalf("code = %q, want %q (%s)", e.Code, tt.code, e.Message)
			}
		})
	}
}

// TestOversizedStreamedBody: a body without Content-Length is cut at the
// limit too.
func TestOversizedStreamedBody(t *testing.T) {
	f := newFixture(t)
	body := io.MultiReader(strings.NewReader(`{"name":"`), strings.NewReader(strings.Repeat("a", 10000)), strings.NewReader(`"}`))
	req, _ := http.NewRequest("POST", f.srv.URL+"/v1/apps", io.NopCloser(body))
	req.Header.Set("Authorization", "Bearer "+f.keys["admin"])
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if req.ContentLength != 0 || resp.StatusCode != 413 {
		t.Fatalf("status = %d (content length %d), want 413; %s", resp.StatusCode, req.ContentLength, b)
	}
	if e := errorShape(t, resp, b); e.Code != "body_too_large" {
		t.Fatalf("code = %q", e.Code)
	}
}

func TestRequestIDs(t *testing.T) {
	f := newFixture(t)
	resp, _ := f.do(t, "GET", "/healthz", "", nil, map[string]string{"X-Request-Id": "client-abc.1"})
	if got := resp.Header.Get("X-Request-Id"); got != "client-abc.1" {
		t.Fatalf("client request id not kept: %q", got)
	}
	resp, _ = f.do(t, "GET", "/healthz", "", nil, map[string]string{"X-Request-Id": "bad id\twith spaces"})
	if got := resp.Header.Get("X-Request-Id"); got == "" || strings.ContainsAny(got, " \t") {
		t.Fatalf("bad client request id not replaced: %q", got)
	}
	a, _ := f.do(t, "GET", "/healthz", "", nil, nil)
	b, _ := f.do(t, "GET", "/healthz", "", nil, nil)
	if a.Header.Get("X-Request-Id") == b.Header.Get("X-Request-Id") {
		t.Fatal("two requests share a request id")
	}
}

func FuzzDecodeBody(f *testing.F) {
	for _, s := range []string{`{"name":"web"}`, `{"name":`, `[]`, `{"name":"a","env":{"A":"b"}}`, `{"name":"a"} x`, `{"namespace":null}`, "\x00", `{"env":{"A":1}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var v struct {
			Name string            `json:"name"`
			Env  map[string]string `json:"env"`
		}
		err := decodeBody(http.MaxBytesReader(nil, io.NopCloser(bytes.NewReader(b)), 1024), &v)
		if err == nil {
			// Accepted input must be exactly one JSON value.
			if !json.Valid(bytes.TrimSpace(b)) {
				t.Fatalf("accepted invalid JSON %q", b)
			}
			return
		}
		if e := errorKindOK(err); !e {
			t.Fatalf("decode error %v is not a typed 4xx error", err)
		}
	})
}
