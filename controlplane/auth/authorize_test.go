package auth

import (
	"testing"

	"github.com/aetherengine/aether/pkg/api"
)

func TestAllowed(t *testing.T) {
	admin := api.Principal{Role: api.RoleAdmin}
	deployer := api.Principal{Role: api.RoleDeployer, Apps: []string{"web"}}
	viewerAll := api.Principal{Role: api.RoleViewer, Apps: []string{api.AllApps}}
	unknown := api.Principal{Role: "root", Apps: []string{api.AllApps}}
	tests := []struct {
		name   string
		p      api.Principal
		action Action
		app    string
		want   bool
	}{
		{"admin administers", admin, Admin, "", true},
		{"admin deploys anything", admin, Deploy, "other", true},
		{"deployer deploys its app", deployer, Deploy, "web", true},
		{"deployer reads its app", deployer, Read, "web", true},
		{"deployer outside scope", deployer, Deploy, "other", false},
		{"deployer reads outside scope", deployer, Read, "other", false},
		{"deployer administers", deployer, Admin, "web", false},
		{"viewer reads any app", viewerAll, Read, "x", true},
		{"viewer deploys", viewerAll, Deploy, "x", false},
		{"unknown role", unknown, Read, "x", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Allowed(tt.p, tt.action, tt.app); got != tt.want {
				t.Fatalf("Allowed = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestScope(t *testing.T) {
	if Scope(api.Principal{Role: api.RoleAdmin, Apps: []string{"a"}}) != nil {
		t.Error("admin is scoped")
	}
	if Scope(api.Principal{Role: api.RoleViewer, Apps: []string{"*"}}) != nil {
		t.Error("wildcard viewer is scoped")
	}
	if s := Scope(api.Principal{Role: api.RoleViewer}); s == nil || len(s) != 0 {
		t.Errorf("unscoped viewer sees %v, want nothing", s)
	}
}

func TestKeysAreRandomAndHashed(t *testing.T) {
	a, err := NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewSecret()
	if a == b || len(a) < MinKeyLength || Hash(a) == Hash(b) || Hash(a) == a {
		t.Fatalf("keys %q %q", a, b)
	}
	if p := Prefix(a); len(p) != 12 || p != a[:12] {
		t.Fatalf("Prefix = %q", p)
	}
}
