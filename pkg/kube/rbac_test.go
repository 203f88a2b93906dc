package kube

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRoleParses(t *testing.T) {
	r, err := Role("apps")
	if err != nil {
		t.Fatal(err)
	}
	if r.Name != RoleName || r.Namespace != "apps" || r.Kind != "Role" {
		t.Errorf("Role = %s %s/%s", r.Kind, r.Namespace, r.Name)
	}
	for _, rule := range r.Rules {
		for _, v := range rule.Verbs {
			if v == "*" || v == "escalate" || v == "bind" || v == "impersonate" {
				t.Errorf("rule %v grants %q", rule.Resources, v)
			}
		}
		for _, res := range rule.Resources {
			if res == "*" || res == "secrets" || strings.HasPrefix(res, "roles") {
				t.Errorf("the Role must not reach %q", res)
			}
		}
	}
}

// TestDocsListTheRole keeps docs/kubernetes.md's listing identical to the
// Role the code embeds and the e2e test binds.
func TestDocsListTheRole(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "kubernetes.md"))
	if err != nil {
		t.Fatalf("docs/kubernetes.md: %v", err)
	}
	if !strings.Contains(string(doc), "```yaml\n"+RoleYAML+"```") {
		t.Errorf("docs/kubernetes.md does not list pkg/kube/role.yaml verbatim in a ```yaml block; copy it there")
	}
}
