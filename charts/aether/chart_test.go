// Package chart tests the aether Helm chart with the stock helm CLI:
// `helm lint --strict`, `helm template` against golden files, the values
// schema and the chart's own refusals, and what the rendered objects say
// (security context, probes, RBAC equal to pkg/kube's Role, a config file
// the real server accepts).
//
//	go test ./charts/aether/            # compare with testdata/*.yaml
//	go test ./charts/aether/ -update    # rewrite the golden files
package chart

import (
	"bytes"
	"context"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aetherengine/aether/internal/testtools"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// releaseName and namespace of every render.
const (
	releaseName = "aether"
	namespace   = "aether-system"
)

// helm runs the pinned helm CLI in the chart's directory with its cache,
// config and data homes in a temporary directory (nothing from the
// developer's ~/.config/helm leaks in; nothing is fetched).
func helm(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	bin := testtools.Require(t, testtools.Helm)
	home := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(),
		"HELM_CACHE_HOME="+filepath.Join(home, "cache"),
		"HELM_CONFIG_HOME="+filepath.Join(home, "config"),
		"HELM_DATA_HOME="+filepath.Join(home, "data"),
		"KUBECONFIG="+filepath.Join(home, "no-kubeconfig"),
	)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	return out.String(), errb.String(), err
}

// render is `helm template` of the chart with the values files.
func render(t *testing.T, valuesFiles ...string) string {
	t.Helper()
	args := []string{"template", releaseName, ".", "--namespace", namespace}
	for _, f := range valuesFiles {
		args = append(args, "--values", f)
	}
	out, stderr, err := helm(t, args...)
	if err != nil {
		t.Fatalf("helm %s: %v\n%s", strings.Join(args, " "), err, stderr)
	}
	return out
}

// renders are the value sets rendered and compared with golden files.
var renders = []struct {
	name   string
	values []string
	kinds  []string // every kind rendered, sorted, with repeats
}{
	{
		name: "default",
		kinds: []string{"ConfigMap", "Deployment", "PersistentVolumeClaim", "PodDisruptionBudget",
			"Role", "RoleBinding", "Secret", "Service", "ServiceAccount"},
	},
	{
		name:   "postgres-ha",
		values: []string{"ci/postgres-ha-values.yaml"},
		kinds: []string{"ConfigMap", "Deployment", "Ingress", "NetworkPolicy", "PodDisruptionBudget",
			"Role", "Role", "RoleBinding", "RoleBinding", "Service", "ServiceAccount", "ServiceMonitor"},
	},
	{
		name:   "cluster-wide",
		values: []string{"testdata/cluster-wide-values.yaml"},
		kinds: []string{"ClusterRole", "ClusterRoleBinding", "ConfigMap", "Deployment", "PodDisruptionBudget",
			"Secret", "Secret", "Secret", "Secret", "Service", "ServiceAccount"},
	},
}

func TestLint(t *testing.T) {
	for _, r := range renders {
		t.Run(r.name, func(t *testing.T) {
			args := []string{"lint", "--strict", ".", "--namespace", namespace}
			for _, f := range r.values {
				args = append(args, "--values", f)
			}
			out, stderr, err := helm(t, args...)
			if err != nil {
				t.Fatalf("helm lint --strict: %v\n%s%s", err, out, stderr)
			}
			if !strings.Contains(out, "1 chart(s) linted, 0 chart(s) failed") {
				t.Fatalf("helm lint says:\n%s", out)
			}
		})
	}
}

// generatedKey matches the bootstrap admin key the chart generates,
// base64-encoded in the Secret's data.
var generatedKey = regexp.MustCompile(`(?m)^(  admin-key: )(\S+)$`)

// maskGenerated replaces the random admin key (a fresh one per render:
// `helm template` has no cluster for lookup) with a placeholder, after
// checking its form.
func maskGenerated(t *testing.T, out string) string {
	t.Helper()
	docs := strings.Split(out, "\n---\n")
	for i, d := range docs {
		if !strings.Contains(d, "kind: Secret") || !strings.Contains(d, "name: "+releaseName+"-admin\n") {
			continue
		}
		m := generatedKey.FindStringSubmatch(d)
		if m == nil {
			t.Fatalf("the admin Secret has no admin-key:\n%s", d)
		}
		checkGeneratedKey(t, m[2])
		docs[i] = generatedKey.ReplaceAllString(d, `${1}"<generated: aek_ + 52 random characters>"`)
	}
	return strings.Join(docs, "\n---\n")
}

func TestTemplateGolden(t *testing.T) {
	for _, r := range renders {
		t.Run(r.name, func(t *testing.T) {
			rendered := render(t, r.values...)
			out := maskGenerated(t, rendered)
			golden := filepath.Join("testdata", r.name+".yaml")
			if *update {
				if err := os.WriteFile(golden, []byte(out), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./charts/aether/ -update to write it)", err)
			}
			if out != string(want) {
				t.Errorf("helm template differs from %s (run with -update if the change is intended):\n%s", golden, diff(string(want), out))
			}
			objs := parseManifests(t, rendered)
			var kinds []string
			for _, o := range objs {
				kinds = append(kinds, o.Kind)
			}
			sort.Strings(kinds)
			if !slices.Equal(kinds, r.kinds) {
				t.Errorf("kinds rendered %v, want %v", kinds, r.kinds)
			}
		})
	}
}

// diff shows the first lines where want and got part.
func diff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			lo, hi := max(0, i-3), min(max(len(w), len(g)), i+4)
			var b strings.Builder
			for j := lo; j < hi; j++ {
				if j < len(w) {
					b.WriteString("- " + w[j] + "\n")
				}
				if j < len(g) {
					b.WriteString("+ " + g[j] + "\n")
				}
			}
			return b.String()
		}
	}
	return "(equal)"
}

// TestBadValues checks that wrong values stop `helm template` (and so
// `helm install`) with a message that names the value and says what is
// wanted.
func TestBadValues(t *testing.T) {
	tests := []struct {
		name   string
		values string
		want   []string
	}{
		{"replicaCount not a number", "replicaCount: three\n",
			[]string{"values don't meet the specifications of the schema", "replicaCount", "got string, want integer"}},
		{"three replicas on SQLite", "replicaCount: 3\n",
			[]string{"replicaCount is 3 but database.type is sqlite", "use PostgreSQL for several replicas"}},
		{"unknown database", "database:\n  type: mysql\n",
			[]string{"database/type", "sqlite", "postgres"}},
		{"postgres without a DSN", "database:\n  type: postgres\n",
			[]string{"database.type is postgres but no DSN is given", "database.postgres.existingSecret"}},
		{"misspelt key", "replicas: 2\n",
			[]string{"additional properties 'replicas' not allowed"}},
		{"log level", "config:\n  logLevel: verbose\n",
			[]string{"config/logLevel", "debug"}},
		{"namespace not a DNS label", "runtime:\n  namespaces: [Team_A]\n",
			[]string{"runtime/namespaces/0"}},
		{"digest not sha256", "image:\n  digest: latest\n",
			[]string{"image/digest"}},
		{"both PDB bounds", "podDisruptionBudget:\n  minAvailable: 1\n  maxUnavailable: 1\n",
			[]string{"set minAvailable or maxUnavailable, not both"}},
		{"runtime unknown", "runtime:\n  type: nomad\n",
			[]string{"runtime/type", "kubernetes"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := filepath.Join(t.TempDir(), "values.yaml")
			if err := os.WriteFile(f, []byte(tc.values), 0o644); err != nil {
				t.Fatal(err)
			}
			out, stderr, err := helm(t, "template", releaseName, ".", "--namespace", namespace, "--values", f)
			if err == nil {
				t.Fatalf("helm template accepted %q:\n%s", tc.values, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("the error does not say %q:\n%s", w, stderr)
				}
			}
		})
	}
}
