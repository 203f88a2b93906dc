package httpapi

import (
	"net/http"
	"testing"
)

// TestAuthTable: who may do what, end to end through the HTTP layer.
func TestAuthTable(t *testing.T) {
	f := newFixture(t)
	appBody := []byte(`{"name":"new-app"}`)
	depWeb := []byte(`{"app":"web","artifact":"registry.example/web@sha256:` + hex64 + `"}`)
	depOther := []byte(`{"app":"other","artifact":"registry.example/other:v1"}`)
	tests := []struct {
		name         string
		method, path string
		key          string
		body         []byte
		want         int
		code         string
	}{
		{"no key", "GET", "/v1/apps", "", nil, 401, "unauthenticated"},
		{"no key on a write", "POST", "/v1/apps", "", appBody, 401, "unauthenticated"},
		{"revoked key", "GET", "/v1/apps", "revoked", nil, 401, "unauthenticated"},
		{"viewer creating an app", "POST", "/v1/apps", "viewer", appBody, 403, "forbidden"},
		{"viewer creating a deployment", "POST", "/v1/deployments", "viewer", depWeb, 403, "forbidden"},
		{"deployer creating an app", "POST", "/v1/apps", "deployer", appBody, 403, "forbidden"},
		{"deployer on an app outside its scope", "POST", "/v1/deployments", "deployer", depOther, 403, "forbidden"},
		{"deployer reading outside its scope", "GET", "/v1/apps/other", "deployer", nil, 403, "forbidden"},
		{"deployer listing keys", "GET", "/v1/keys", "deployer", nil, 403, "forbidden"},
		{"viewer reading the audit log", "GET", "/v1/audit", "viewer", nil, 403, "forbidden"},
		{"deployer deploying its app", "POST", "/v1/deployments", "deployer", depWeb, 201, ""},
		{"deployer reading its app", "GET", "/v1/apps/web", "deployer", nil, 200, ""},
		{"viewer reading any app", "GET", "/v1/apps/other", "viewer", nil, 200, ""},
		{"admin creating an app", "POST", "/v1/apps", "admin", appBody, 201, ""},
		{"admin deploying anywhere", "POST", "/v1/deployments", "admin", depOther, 201, ""},
		{"admin listing keys", "GET", "/v1/keys", "admin", nil, 200, ""},
		{"admin reading the audit log", "GET", "/v1/audit", "admin", nil, 200, ""},
		{"public health", "GET", "/healthz", "", nil, 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := f.do(t, tt.method, tt.path, tt.key, tt.body, nil)
			if resp.StatusCode != tt.want {
				t.Fatalf("status = %d, want %d; body %s", resp.StatusCode, tt.want, body)
			}
			if tt.code != "" {
				if e := errorShape(t, resp, body); e.Code != tt.code {
					t.Fatalf("code = %q, want %q", e.Code, tt.code)
				}
			}
			if tt.want == 401 && resp.Header.Get("WWW-Authenticate") == "" {
				t.Fatal("401 without WWW-Authenticate")
			}
		})
	}
}

const hex64 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// TestScopedListsAreFiltered: a scoped key's lists show only its apps.
func TestScopedListsAreFiltered(t *testing.T) {
	f := newFixture(t)
	for _, app := range []string{"web", "other"} {
		resp, body := f.do(t, "POST", "/v1/deployments", "admin", []byte(`{"app":"`+app+`","artifact":"r.example/`+app+`:1"}`), nil)
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("deploy %s: %d %s", app, resp.StatusCode, body)
		}
	}
	tests := []struct {
		key, path string
		want      []string
	}{
		{"deployer", "/v1/apps", []string{"web"}},
		{"viewer", "/v1/apps", []string{"web", "other"}},
		{"deployer", "/v1/deployments", []string{"web"}},
		{"admin", "/v1/deployments", []string{"other", "web"}},
	}
	for _, tt := range tests {
		resp, body := f.do(t, "GET", tt.path, tt.key, nil, nil)
		if resp.StatusCode != 200 {
			t.Fatalf("%s %s: %d %s", tt.key, tt.path, resp.StatusCode, body)
		}
		got := names(t, body)
		if len(got) != len(tt.want) {
			t.Fatalf("%s %s = %v, want %v", tt.key, tt.path, got, tt.want)
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Fatalf("%s %s = %v, want %v", tt.key, tt.path, got, tt.want)
			}
		}
	}
}
