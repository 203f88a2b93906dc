//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/aetherengine/aether/controlplane/admission/admissiontest"
	"github.com/aetherengine/aether/e2e/internal/kwok"
	"github.com/aetherengine/aether/internal/regtest"
	"github.com/aetherengine/aether/internal/testtools"
	"github.com/aetherengine/aether/pkg/api"
	"github.com/aetherengine/aether/pkg/client"
	"github.com/aetherengine/aether/pkg/kube"
	"github.com/aetherengine/aether/pkg/referrers/referrerstest"
)

// chartDir is the chart under test.
const chartDir = "../charts/aether"

// helmCLI runs the pinned helm against one cluster, with its own cache,
// config and data homes.
type helmCLI struct {
	bin, kubeconfig, home string
}

func newHelm(t *testing.T, kubeconfig string) *helmCLI {
	t.Helper()
	return &helmCLI{bin: testtools.Require(t, testtools.Helm), kubeconfig: kubeconfig, home: t.TempDir()}
}

func (h *helmCLI) run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, h.bin, append(args, "--kubeconfig", h.kubeconfig)...)
	cmd.Env = append(os.Environ(),
		"HELM_CACHE_HOME="+filepath.Join(h.home, "cache"),
		"HELM_CONFIG_HOME="+filepath.Join(h.home, "config"),
		"HELM_DATA_HOME="+filepath.Join(h.home, "data"))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

func (h *helmCLI) must(t *testing.T, args ...string) string {
	t.Helper()
	start := time.Now()
	out, err := h.run(t, args...)
	if err != nil {
		t.Fatalf("helm %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	t.Logf("helm %s: %s", args[0], time.Since(start).Round(time.Millisecond))
	return out
}

// namespaces creates namespaces with fixed names (the cluster is this
// test's alone), waiting for their default ServiceAccount.
func namespaces(t *testing.T, c *kwok.Cluster, names ...string) {
	t.Helper()
	ctx := context.Background()
	for _, n := range names {
		if _, err := c.Clientset.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: n}}, metav1.CreateOptions{}); err != nil {
			t.Fatalf("namespace %s: %v", n, err)
		}
		deadline := time.Now().Add(time.Minute)
		for {
			if _, err := c.Clientset.CoreV1().ServiceAccounts(n).Get(ctx, "default", metav1.GetOptions{}); err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("namespace %s: no default ServiceAccount after a minute", n)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}

// secret creates an Opaque (or typed) Secret.
func secret(t *testing.T, cs kubernetes.Interface, ns, name string, typ corev1.SecretType, data map[string]string) {
	t.Helper()
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Type: typ, StringData: data}
	if _, err := cs.CoreV1().Secrets(ns).Create(context.Background(), s, metav1.CreateOptions{}); err != nil {
		t.Fatalf("secret %s/%s: %v", ns, name, err)
	}
}

// hostPathPV gives a PVC without a StorageClass something to bind to: the
// test cluster has no provisioner.
func hostPathPV(t *testing.T, cs kubernetes.Interface, name string) {
	t.Helper()
	pv := &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:                      corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")},
			AccessModes:                   []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimDelete,
			PersistentVolumeSource:        corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/tmp/" + name}},
		},
	}
	if _, err := cs.CoreV1().PersistentVolumes().Create(context.Background(), pv, metav1.CreateOptions{}); err != nil {
		t.Fatalf("PersistentVolume: %v", err)
	}
}

// serviceMonitorCRD is a schemaless ServiceMonitor CRD, standing in for
// the Prometheus Operator's, so the HA values (ServiceMonitor on) install
// as they are.
const serviceMonitorCRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: servicemonitors.monitoring.coreos.com
spec:
  group: monitoring.coreos.com
  names: {kind: ServiceMonitor, listKind: ServiceMonitorList, plural: servicemonitors, singular: servicemonitor}
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
`

// impersonating writes a kubeconfig that acts as the ServiceAccount
// ns/name (the cluster admin's credentials with Impersonate-User and the
// groups a ServiceAccount token carries): the control plane run with it
// has exactly the rights the chart's RBAC gives the pod.
func impersonating(t *testing.T, c *kwok.Cluster, ns, name string) (string, *rest.Config) {
	t.Helper()
	kc, err := clientcmd.LoadFromFile(c.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	user := "system:serviceaccount:" + ns + ":" + name
	groups := []string{"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"}
	ctx := kc.Contexts[kc.CurrentContext]
	auth := kc.AuthInfos[ctx.AuthInfo].DeepCopy()
	auth.Impersonate, auth.ImpersonateGroups = user, groups
	kc.AuthInfos["as-"+name] = auth
	sactx := ctx.DeepCopy()
	sactx.AuthInfo = "as-" + name
	kc.Contexts["as-"+name] = sactx
	kc.CurrentContext = "as-" + name
	path := filepath.Join(t.TempDir(), "sa.kubeconfig")
	if err := clientcmd.WriteToFile(*kc, path); err != nil {
		t.Fatal(err)
	}
	cfg := rest.CopyConfig(c.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: user, Groups: groups}
	return path, cfg
}

// adminKeyOf reads the bootstrap admin key the chart generated.
func adminKeyOf(t *testing.T, cs kubernetes.Interface, ns, release string) string {
	t.Helper()
	s, err := cs.CoreV1().Secrets(ns).Get(context.Background(), release+"-admin", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("admin key Secret: %v", err)
	}
	return string(s.Data["admin-key"])
}

// TestHelmChartOnCluster installs the chart on a real API server (kwok
// nodes mark the pods ready; nothing runs in them): a server-side dry run,
// then `helm install --wait` of the SQLite default (one replica on a PVC)
// and of the PostgreSQL HA values (three replicas, PDB, NetworkPolicy,
// Ingress, ServiceMonitor). The admin key survives an upgrade. Then the
// real control-plane binary, run here with a kubeconfig that impersonates
// the chart's ServiceAccount, deploys a signed app through the Kubernetes
// runtime (and pkg/kube's applier does the same directly): the chart's
// RBAC is enough. A namespace and verbs outside the Role are refused.
func TestHelmChartOnCluster(t *testing.T) {
	c := kwok.Start(t)
	ctx := context.Background()
	h := newHelm(t, c.Kubeconfig)
	const system, teamA, teamB, ha = "aether-system", "team-a", "team-b", "aether-ha"
	namespaces(t, c, system, teamA, teamB, ha)
	reg := regtest.InProcess(t)

	sqlite := []string{
		"--namespace", system,
		"--set", "runtime.namespaces={" + teamA + "}",
		"--set", "registries={" + reg.Host + "}",
		"--set", "image.tag=e2e",
	}
	t.Run("dry-run=server", func(t *testing.T) {
		out := h.must(t, append([]string{"install", "aether", chartDir, "--dry-run=server"}, sqlite...)...)
		for _, want := range []string{"kind: Deployment", "kind: Role", "kind: PersistentVolumeClaim", "aether login --server"} {
			if !strings.Contains(out, want) {
				t.Errorf("the server-side dry run does not show %q:\n%s", want, out)
			}
		}
	})

	t.Run("install SQLite", func(t *testing.T) {
		hostPathPV(t, c.Clientset, "aether-e2e-data")
		h.must(t, append([]string{"install", "aether", chartDir, "--wait", "--timeout", "3m"}, sqlite...)...)
		d, err := c.Clientset.AppsV1().Deployments(system).Get(ctx, "aether", metav1.GetOptions{})
		if err != nil || d.Status.ReadyReplicas != 1 {
			t.Fatalf("Deployment: %+v, %v", d.Status, err)
		}
		key := adminKeyOf(t, c.Clientset, system, "aether")
		if !strings.HasPrefix(key, "aek_") || len(key) != 56 {
			t.Fatalf("generated admin key %q", key)
		}
		h.must(t, append([]string{"upgrade", "aether", chartDir, "--wait", "--timeout", "3m", "--set", "config.logLevel=debug"}, sqlite...)...)
		if again := adminKeyOf(t, c.Clientset, system, "aether"); again != key {
			t.Fatal("helm upgrade replaced the bootstrap admin key: lookup did not keep it")
		}
	})

	t.Run("install PostgreSQL HA", func(t *testing.T) {
		crd := filepath.Join(t.TempDir(), "servicemonitor-crd.yaml")
		if err := os.WriteFile(crd, []byte(serviceMonitorCRD), 0o644); err != nil {
			t.Fatal(err)
		}
		if out, err := c.Kubectl(ctx, "apply", "-f", crd); err != nil {
			t.Fatalf("CRD: %v\n%s", err, out)
		}
		if out, err := c.Kubectl(ctx, "wait", "--for=condition=Established", "crd/servicemonitors.monitoring.coreos.com", "--timeout=60s"); err != nil {
			t.Fatalf("CRD: %v\n%s", err, out)
		}
		secret(t, c.Clientset, ha, "aether-postgres", corev1.SecretTypeOpaque, map[string]string{"dsn": "postgres://aether:x@postgres.db.svc:5432/aether"})
		secret(t, c.Clientset, ha, "aether-admin", corev1.SecretTypeOpaque, map[string]string{"admin-key": "aek_" + strings.Repeat("a", 52)})
		secret(t, c.Clientset, ha, "aether-registry", corev1.SecretTypeDockerConfigJson, map[string]string{".dockerconfigjson": `{"auths":{}}`})
		args := []string{"aether-ha", chartDir, "--namespace", ha, "--values", chartDir + "/ci/postgres-ha-values.yaml",
			"--set", "image.digest=", "--set", "image.tag=e2e"}
		h.must(t, append([]string{"install", "--dry-run=server"}, args...)...)
		h.must(t, append([]string{"install", "--wait", "--timeout", "3m"}, args...)...)
		d, err := c.Clientset.AppsV1().Deployments(ha).Get(ctx, "aether-ha", metav1.GetOptions{})
		if err != nil || d.Status.ReadyReplicas != 3 || d.Spec.Strategy.Type != appsv1.RollingUpdateDeploymentStrategyType {
			t.Fatalf("HA Deployment: %+v, %v", d.Status, err)
		}
		if _, err := c.Clientset.PolicyV1().PodDisruptionBudgets(ha).Get(ctx, "aether-ha", metav1.GetOptions{}); err != nil {
			t.Errorf("PodDisruptionBudget: %v", err)
		}
		if out, err := c.Kubectl(ctx, "get", "servicemonitor", "-n", ha, "aether-ha"); err != nil {
			t.Errorf("ServiceMonitor: %v\n%s", err, out)
		}
	})

	// The control plane with exactly the chart's ServiceAccount's rights.
	kubeconfig, saCfg := impersonating(t, c, system, "aether")
	sa, err := kubernetes.NewForConfig(saCfg)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("outside the Role is denied", func(t *testing.T) {
		dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "intruder"}}
		tests := []struct {
			name string
			call func() error
		}{
			{"create a Deployment in another namespace", func() error {
				_, err := sa.AppsV1().Deployments(teamB).Create(ctx, dep, metav1.CreateOptions{})
				return err
			}},
			{"list Deployments in another namespace", func() error {
				_, err := sa.AppsV1().Deployments(teamB).List(ctx, metav1.ListOptions{})
				return err
			}},
			{"read Secrets in its own namespace", func() error {
				_, err := sa.CoreV1().Secrets(teamA).List(ctx, metav1.ListOptions{})
				return err
			}},
			{"delete pods in its own namespace", func() error {
				return sa.CoreV1().Pods(teamA).DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{})
			}},
			{"update a Deployment (not apply) in its own namespace", func() error {
				_, err := sa.AppsV1().Deployments(teamA).Update(ctx, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "x", Namespace: teamA}}, metav1.UpdateOptions{})
				return err
			}},
			{"read Roles in its own namespace", func() error {
				_, err := sa.RbacV1().Roles(teamA).List(ctx, metav1.ListOptions{})
				return err
			}},
		}
		for _, tc := range tests {
			if err := tc.call(); !apierrors.IsForbidden(err) {
				t.Errorf("%s: %v, want Forbidden", tc.name, err)
			}
		}
		if _, err := sa.AppsV1().Deployments(teamA).List(ctx, metav1.ListOptions{}); err != nil {
			t.Errorf("listing Deployments in %s, which the Role allows: %v", teamA, err)
		}
	})

	// pkg/kube's applier and rollout watcher, as that ServiceAccount: the
	// whole app lifecycle the Kubernetes runtime performs.
	t.Run("the runtime's applier works with the chart's RBAC", func(t *testing.T) {
		cl, err := kube.NewClientForConfig(saCfg, kube.Options{})
		if err != nil {
			t.Fatal(err)
		}
		spec := kube.AppSpec{
			Name: "direct", Namespace: teamA, DeploymentID: "dep_helm_e2e",
			Artifact:   reg.Ref("e2e/direct") + "@sha256:" + strings.Repeat("ab", 32),
			FetchImage: "ghcr.io/aetherengine/aether-fetch:e2e",
			Runtime:    kube.Runtime{NodeVersion: "20.20.2", Platform: "linux/amd64", Command: []string{"node", "server.js"}, Port: 8080},
			TrustKeys:  []kube.TrustKey{{Name: "team", PEM: admissiontest.NewKey(t).PEM}},
		}
		objs, err := kube.Render(spec)
		if err != nil {
			t.Fatal(err)
		}
		wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		defer cancel()
		if err := cl.Apply(wctx, objs); err != nil {
			t.Fatalf("apply in %s as the chart's ServiceAccount: %v", teamA, err)
		}
		out, err := cl.WaitReady(wctx, teamA, spec.Name, objs.Digest, nil)
		if err != nil || !out.Ready() {
			t.Fatalf("rollout in %s: %s, %v", teamA, out, err)
		}
		if _, err := cl.Status(wctx, teamA, spec.Name); err != nil {
			t.Errorf("status: %v", err)
		}
		if err := cl.Delete(wctx, teamA, spec.Name); err != nil {
			t.Errorf("delete: %v", err)
		}
		spec.Namespace = teamB
		objs, err = kube.Render(spec)
		if err != nil {
			t.Fatal(err)
		}
		if err := cl.Apply(wctx, objs); err == nil || !strings.Contains(err.Error(), "forbidden") {
			t.Fatalf("apply in %s, where the chart made no Role: %v; want forbidden", teamB, err)
		} else {
			t.Logf("refused in %s: %v", teamB, err)
		}
	})

	t.Run("control plane deploys with the chart's RBAC", func(t *testing.T) {
		// KUBECONFIG rather than --kubeconfig: the runtime reads it the way
		// kubectl does when no file is named (kube.LoadConfig).
		t.Setenv("KUBECONFIG", kubeconfig)
		cp := startControlPlane(t, "--runtime", "kubernetes", "--default-namespace", teamA, "--registries", reg.Host)
		k := admissiontest.NewKey(t)
		repo := referrerstest.Repo(t, reg, "e2e/hello")
		desc := referrerstest.PushArtifact(t, repo, "helm", "v1")
		admissiontest.SignAll(t, repo, desc, k)
		ref := reg.Ref("e2e/hello") + "@" + desc.Digest.String()

		deploy := func(app, ns string) api.Deployment {
			t.Helper()
			if _, err := cp.client.CreateApp(ctx, api.AppCreate{Name: app, Namespace: ns}); err != nil {
				t.Fatal(err)
			}
			if _, err := cp.client.SetTrustPolicy(ctx, app, api.TrustPolicyUpdate{Keys: []api.TrustedKey{{Name: "e2e", PEM: k.PEM}}}); err != nil {
				t.Fatal(err)
			}
			d, err := cp.client.CreateDeployment(ctx, api.DeploymentCreate{App: app, Artifact: ref})
			if err != nil {
				t.Fatalf("deploy %s: %v", app, err)
			}
			wctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
			defer cancel()
			d, err = cp.client.WatchDeployment(wctx, d.ID, client.WatchOptions{}, func(e api.Event) {
				t.Logf("%s: %s %s %s", app, e.Status, e.Reason, e.Message)
			})
			if err != nil {
				t.Fatalf("watch %s: %v\ncontrol plane log:\n%s", app, err, cp.logs)
			}
			return d
		}

		d := deploy("hello", teamA)
		if d.Status != api.StatusReady {
			t.Fatalf("deployment in %s: %s %s %s; want ready", teamA, d.Status, d.Reason, d.Message)
		}
		k8sDep, err := c.Clientset.AppsV1().Deployments(teamA).Get(ctx, "hello", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if ic := k8sDep.Spec.Template.Spec.InitContainers; len(ic) == 0 || !strings.Contains(strings.Join(append(ic[0].Command, ic[0].Args...), " "), desc.Digest.String()) {
			t.Errorf("the init container does not fetch the artifact by digest %s: %+v", desc.Digest, ic)
		}

		// team-b has no Role: the runtime is refused and says why.
		d = deploy("hello-b", teamB)
		if d.Status != api.StatusFailed || !strings.Contains(strings.ToLower(d.Message), "forbidden") {
			t.Fatalf("deployment in %s (no Role there): %s %s %q; want failed, forbidden", teamB, d.Status, d.Reason, d.Message)
		}
		if _, err := c.Clientset.AppsV1().Deployments(teamB).Get(ctx, "hello-b", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("a Deployment appeared in %s: %v", teamB, err)
		}
		t.Logf("refused in %s: %s", teamB, d.Message)
	})
}
