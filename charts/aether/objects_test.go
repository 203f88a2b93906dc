package chart

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/yaml"

	"github.com/aetherengine/aether/controlplane/config"
	"github.com/aetherengine/aether/pkg/kube"
)

// object is one rendered manifest: its kind and name, the typed object
// when client-go knows the kind (nil for a ServiceMonitor), and its YAML.
type object struct {
	Kind, Name, Namespace string
	Typed                 runtime.Object
	YAML                  string
}

// strictDecoder refuses unknown and duplicate fields, so a typo in a
// template (securityContex:) fails here, not silently in a cluster.
var strictDecoder = serializer.NewCodecFactory(scheme.Scheme, serializer.EnableStrict).UniversalDeserializer()

// parseManifests splits helm's output into documents and parses each: as
// YAML always, as its typed Kubernetes object when it is a built-in kind.
func parseManifests(t *testing.T, out string) []object {
	t.Helper()
	var objs []object
	for _, doc := range strings.Split(out, "\n---\n") {
		doc = strings.TrimPrefix(doc, "---\n")
		if strings.TrimSpace(stripComments(doc)) == "" {
			continue
		}
		var meta struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
			Metadata   struct {
				Name      string `json:"name"`
				Namespace string `json:"namespace"`
			} `json:"metadata"`
		}
		if err := yaml.Unmarshal([]byte(doc), &meta); err != nil {
			t.Fatalf("a rendered manifest is not YAML: %v\n%s", err, doc)
		}
		if meta.APIVersion == "" || meta.Kind == "" || meta.Metadata.Name == "" {
			t.Fatalf("a rendered manifest lacks apiVersion, kind or metadata.name:\n%s", doc)
		}
		o := object{Kind: meta.Kind, Name: meta.Metadata.Name, Namespace: meta.Metadata.Namespace, YAML: doc}
		if meta.Kind != "ServiceMonitor" {
			typed, _, err := strictDecoder.Decode([]byte(doc), nil, nil)
			if err != nil {
				t.Fatalf("%s %s does not decode as a Kubernetes object: %v\n%s", meta.Kind, meta.Metadata.Name, err, doc)
			}
			o.Typed = typed
		}
		objs = append(objs, o)
	}
	return objs
}

func stripComments(doc string) string {
	var b strings.Builder
	for _, l := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "#") {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

var keyForm = regexp.MustCompile(`^aek_[a-z0-9]{52}$`)

// checkGeneratedKey checks a generated admin key (base64 in Secret data):
// the server's prefix and enough randomness (the server wants ≥ 32
// characters).
func checkGeneratedKey(t *testing.T, b64 string) {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatalf("admin-key is not base64: %v", err)
	}
	if !keyForm.Match(raw) {
		t.Fatalf("generated admin key %q is not aek_ + 52 lowercase letters and digits", raw)
	}
}

func find[T runtime.Object](t *testing.T, objs []object, kind string) []T {
	t.Helper()
	var out []T
	for _, o := range objs {
		if o.Kind == kind {
			out = append(out, o.Typed.(T))
		}
	}
	return out
}

func envOf(c corev1.Container, name string) *corev1.EnvVar {
	for i := range c.Env {
		if c.Env[i].Name == name {
			return &c.Env[i]
		}
	}
	return nil
}

// TestRenderedObjects checks what the cluster will enforce, per value set.
func TestRenderedObjects(t *testing.T) {
	role, err := kube.Role("x")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name           string
		values         []string
		replicas       int32
		strategy       appsv1.DeploymentStrategyType
		dbFromSecret   string // AETHER_DATABASE's Secret, or "" for a literal sqlite URL
		roleNamespaces []string
		clusterRole    bool
	}{
		{"default", nil, 1, appsv1.RecreateDeploymentStrategyType, "", []string{namespace}, false},
		{"postgres-ha", []string{"ci/postgres-ha-values.yaml"}, 3, appsv1.RollingUpdateDeploymentStrategyType, "aether-postgres", []string{"team-a", "team-b"}, false},
		{"cluster-wide", []string{"testdata/cluster-wide-values.yaml"}, 1, appsv1.RecreateDeploymentStrategyType, "", nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			objs := parseManifests(t, render(t, tc.values...))
			deps := find[*appsv1.Deployment](t, objs, "Deployment")
			if len(deps) != 1 {
				t.Fatalf("%d Deployments", len(deps))
			}
			d := deps[0]
			if *d.Spec.Replicas != tc.replicas || d.Spec.Strategy.Type != tc.strategy {
				t.Errorf("replicas %d strategy %s, want %d %s", *d.Spec.Replicas, d.Spec.Strategy.Type, tc.replicas, tc.strategy)
			}
			pod := d.Spec.Template.Spec
			c := pod.Containers[0]
			psc, sc := pod.SecurityContext, c.SecurityContext
			if psc == nil || sc == nil || !*psc.RunAsNonRoot || *psc.RunAsUser != 65532 || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault ||
				!*sc.RunAsNonRoot || !*sc.ReadOnlyRootFilesystem || *sc.AllowPrivilegeEscalation ||
				len(sc.Capabilities.Drop) != 1 || sc.Capabilities.Drop[0] != "ALL" || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
				t.Errorf("security context not locked down: pod %+v container %+v", psc, sc)
			}
			if c.LivenessProbe == nil || c.LivenessProbe.HTTPGet.Path != "/healthz" || c.ReadinessProbe == nil || c.ReadinessProbe.HTTPGet.Path != "/readyz" {
				t.Errorf("probes: liveness %+v readiness %+v", c.LivenessProbe, c.ReadinessProbe)
			}
			if c.Resources.Requests.Cpu().IsZero() || c.Resources.Limits.Memory().IsZero() {
				t.Errorf("resources %+v", c.Resources)
			}
			db := envOf(c, "AETHER_DATABASE")
			switch {
			case db == nil:
				t.Error("no AETHER_DATABASE")
			case tc.dbFromSecret == "" && !strings.HasPrefix(db.Value, "sqlite:///"):
				t.Errorf("AETHER_DATABASE = %+v, want a sqlite URL", db)
			case tc.dbFromSecret != "" && (db.ValueFrom == nil || db.ValueFrom.SecretKeyRef.Name != tc.dbFromSecret):
				t.Errorf("AETHER_DATABASE = %+v, want it from Secret %s", db, tc.dbFromSecret)
			}
			if k := envOf(c, "AETHER_BOOTSTRAP_ADMIN_KEY"); k == nil || k.ValueFrom == nil || k.ValueFrom.SecretKeyRef == nil {
				t.Errorf("AETHER_BOOTSTRAP_ADMIN_KEY = %+v, want it from a Secret", k)
			}
			if sa := pod.ServiceAccountName; sa != releaseName {
				t.Errorf("serviceAccountName %q", sa)
			}

			// RBAC: exactly pkg/kube's Role, in each target namespace, bound
			// to the chart's ServiceAccount.
			var gotNS []string
			for _, r := range find[*rbacv1.Role](t, objs, "Role") {
				gotNS = append(gotNS, r.Namespace)
				if !equality.Semantic.DeepEqual(r.Rules, role.Rules) {
					t.Errorf("Role in %s has rules %+v; pkg/kube/role.yaml has %+v (update templates/_rules.tpl)", r.Namespace, r.Rules, role.Rules)
				}
			}
			if strings.Join(gotNS, ",") != strings.Join(tc.roleNamespaces, ",") {
				t.Errorf("Roles in %v, want %v", gotNS, tc.roleNamespaces)
			}
			for _, b := range find[*rbacv1.RoleBinding](t, objs, "RoleBinding") {
				if b.RoleRef.Kind != "Role" || len(b.Subjects) != 1 || b.Subjects[0].Kind != "ServiceAccount" || b.Subjects[0].Name != releaseName || b.Subjects[0].Namespace != namespace {
					t.Errorf("RoleBinding in %s: %+v %+v", b.Namespace, b.RoleRef, b.Subjects)
				}
			}
			crs := find[*rbacv1.ClusterRole](t, objs, "ClusterRole")
			if tc.clusterRole != (len(crs) == 1) {
				t.Errorf("%d ClusterRoles, want cluster-wide=%v", len(crs), tc.clusterRole)
			}
			for _, cr := range crs {
				if !equality.Semantic.DeepEqual(cr.Rules, role.Rules) {
					t.Errorf("ClusterRole rules %+v differ from pkg/kube/role.yaml", cr.Rules)
				}
			}

			// The config file loads in the server's own config parser (which
			// refuses unknown keys), with the database the Deployment gives.
			cms := find[*corev1.ConfigMap](t, objs, "ConfigMap")
			if len(cms) != 1 {
				t.Fatalf("%d ConfigMaps", len(cms))
			}
			path := filepath.Join(t.TempDir(), "config.yaml")
			if err := os.WriteFile(path, []byte(cms[0].Data["config.yaml"]), 0o644); err != nil {
				t.Fatal(err)
			}
			env := map[string]string{"AETHER_DATABASE": "postgres://aether@db/aether", "AETHER_BOOTSTRAP_ADMIN_KEY": strings.Repeat("k", 40)}
			if db != nil && db.Value != "" {
				env["AETHER_DATABASE"] = db.Value
			}
			cfg, err := config.Resolve(path, func(k string) string { return env[k] }, nil)
			if err != nil {
				t.Fatalf("the server refuses the chart's config file: %v\n%s", err, cms[0].Data["config.yaml"])
			}
			if cfg.Addr != ":8080" {
				t.Errorf("addr %q, want :8080 (containerPort)", cfg.Addr)
			}
		})
	}
}
