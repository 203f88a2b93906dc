package kube

import (
	_ "embed"
	"fmt"

	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/yaml"
)

// RoleYAML is the namespaced Role the Client needs, no more: the source
// of docs/kubernetes.md's listing and of the Helm chart's Role. Its
// metadata has no namespace; the chart (or Role) sets it.
//
//go:embed role.yaml
var RoleYAML string

// RoleName is the Role's metadata.name.
const RoleName = "aether-controlplane"

// Role is RoleYAML as a typed Role in namespace, for tests and installers
// that create it with client-go.
func Role(namespace string) (*rbacv1.Role, error) {
	var r rbacv1.Role
	if err := yaml.UnmarshalStrict([]byte(RoleYAML), &r); err != nil {
		return nil, fmt.Errorf("role.yaml: %w", err)
	}
	r.Namespace = namespace
	return &r, nil
}
