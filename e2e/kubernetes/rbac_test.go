//go:build e2e

package kubernetes

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/aetherengine/aether/e2e/internal/kwok"
	"github.com/aetherengine/aether/pkg/kube"
)

// bindRole creates a ServiceAccount in its own namespace (as the Helm
// chart installs the control plane), role in appNS bound to it, and
// returns a REST config that impersonates the ServiceAccount.
func bindRole(t *testing.T, c *kwok.Cluster, role *rbacv1.Role, appNS string) *rest.Config {
	t.Helper()
	ctx := context.Background()
	cpNS := c.Namespace(t, "aether-system")
	if _, err := c.Clientset.CoreV1().ServiceAccounts(cpNS).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "aether-controlplane"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	role = role.DeepCopy()
	role.Namespace = appNS
	if _, err := c.Clientset.RbacV1().Roles(appNS).Create(ctx, role, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	rb := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: role.Name},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: role.Name},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: "aether-controlplane", Namespace: cpNS}},
	}
	if _, err := c.Clientset.RbacV1().RoleBindings(appNS).Create(ctx, rb, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	cfg := rest.CopyConfig(c.Config)
	cfg.Impersonate.UserName = "system:serviceaccount:" + cpNS + ":aether-controlplane"
	return cfg
}

// lifecycle is everything the control plane does with an app, each step
// run even when an earlier one failed; it returns what each step said.
func lifecycle(ctx context.Context, cl kube.Cluster, ns string) map[string]error {
	errs := map[string]error{}
	errs["ready"] = cl.Ready(ctx, ns)
	withKeys := spec(ns, "hello", "dep-1", digest1)
	withKeys.RegistrySecret = ""
	objs, _ := kube.Render(withKeys)
	errs["apply"] = cl.Apply(ctx, objs)
	wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	out, err := cl.WaitReady(wctx, ns, "hello", digest1, nil)
	cancel()
	if err == nil && !out.Ready() {
		err = fmt.Errorf("rollout: %s", out)
	}
	errs["wait"] = err
	_, errs["status"] = cl.Status(ctx, ns, "hello")
	if _, err := cl.Logs(ctx, ns, "hello", 10); apierrors.IsForbidden(err) {
		// kwok serves no logs: only a refusal by RBAC counts.
		errs["logs"] = err
	}
	noKeys := spec(ns, "hello", "dep-2", digest1)
	noKeys.TrustKeys, noKeys.RegistrySecret = nil, ""
	objs, _ = kube.Render(noKeys)
	errs["apply without keys"] = cl.Apply(ctx, objs)
	errs["delete"] = cl.Delete(ctx, ns, "hello")
	return errs
}

// testRole runs the applier as a ServiceAccount bound to nothing but the
// Role of docs/kubernetes.md (pkg/kube/role.yaml) in the app namespace:
// the whole lifecycle works, and what is outside the Role is denied.
func testRole(t *testing.T, c *kwok.Cluster) {
	ctx := context.Background()
	appNS := c.Namespace(t, "apps")
	otherNS := c.Namespace(t, "other")
	createRegistrySecret(t, c, appNS)
	role, err := kube.Role("")
	if err != nil {
		t.Fatal(err)
	}
	cfg := bindRole(t, c, role, appNS)
	cl, err := kube.NewClientForConfig(cfg, kube.Options{Classify: kube.ClassifyOptions{Grace: 5 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	// A new RoleBinding takes effect within a moment.
	waitFor(t, 10*time.Second, func() error { return cl.Ready(ctx, appNS) })

	out, log, _ := deploy(t, cl, render(t, spec(appNS, "hello", "dep-1", digest1)), 2*time.Minute)
	if !out.Ready() {
		t.Fatalf("rollout as the ServiceAccount: %s", out)
	}
	if !log.has("Deployment hello") {
		t.Errorf("no Deployment events seen as the ServiceAccount")
	}
	if out, _, _ := deploy(t, cl, render(t, spec(appNS, "hello", "dep-2", digest2)), 2*time.Minute); !out.Ready() {
		t.Fatalf("second rollout as the ServiceAccount: %s", out)
	}
	for step, err := range lifecycle(ctx, cl, appNS) {
		if err != nil {
			t.Errorf("%s as the ServiceAccount: %v", step, err)
		}
	}

	// Outside the Role: another namespace, cluster-scoped objects, Secrets,
	// RBAC itself, writing pods, update instead of apply.
	err = cl.Apply(ctx, render(t, spec(otherNS, "hello", "dep-1", digest1)))
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "docs/kubernetes.md") {
		t.Errorf("apply into an unbound namespace: %v; want forbidden with the RBAC hint", err)
	}
	if _, err := cl.WaitReady(ctx, otherNS, "hello", digest1, nil); !apierrors.IsForbidden(err) {
		t.Errorf("watch in an unbound namespace: %v; want forbidden", err)
	}
	imp, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	denied := map[string]error{}
	denied["delete namespace"] = imp.CoreV1().Namespaces().Delete(ctx, otherNS, metav1.DeleteOptions{})
	_, denied["create in another namespace"] = imp.CoreV1().ConfigMaps(otherNS).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "x"}}, metav1.CreateOptions{})
	_, denied["get secret"] = imp.CoreV1().Secrets(appNS).Get(ctx, "registry-creds", metav1.GetOptions{})
	_, denied["create role"] = imp.RbacV1().Roles(appNS).Create(ctx, role, metav1.CreateOptions{})
	_, denied["list nodes"] = imp.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	denied["delete pods"] = imp.CoreV1().Pods(appNS).DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{})
	_, denied["patch pod"] = imp.CoreV1().Pods(appNS).Patch(ctx, "x", types.MergePatchType, []byte(`{}`), metav1.PatchOptions{})
	_, denied["update deployment"] = imp.AppsV1().Deployments(appNS).Update(ctx, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "x"}}, metav1.UpdateOptions{})
	for what, err := range denied {
		if !apierrors.IsForbidden(err) {
			t.Errorf("%s as the ServiceAccount: %v; want forbidden", what, err)
		}
	}
}

// testRoleIsMinimal takes each verb out of the Role in turn and shows that
// some step of the lifecycle is then refused: every verb is used. Two
// exceptions, by design (docs/kubernetes.md): the events rule (without it
// rollouts are judged the same, with less detail), and list on
// replicasets: client-go's informers stream their initial list over a
// watch (WatchListClient) where the API server supports it, as this one
// does, and fall back to a LIST on API servers that do not.
func testRoleIsMinimal(t *testing.T, c *kwok.Cluster) {
	full, err := kube.Role("")
	if err != nil {
		t.Fatal(err)
	}
	for i, rule := range full.Rules {
		if slices.Contains(rule.Resources, "events") {
			t.Logf("events %v: optional detail, not required", rule.Verbs)
			continue
		}
		for _, verb := range rule.Verbs {
			if slices.Contains(rule.Resources, "replicasets") && verb == "list" {
				t.Logf("list on replicasets: needed only by API servers without watch-list")
				continue
			}
			name := strings.ReplaceAll(strings.Join(rule.Resources, "+"), "/", "-") + "-" + verb
			t.Run("without-"+name, func(t *testing.T) {
				t.Parallel()
				role := full.DeepCopy()
				r := &role.Rules[i]
				r.Verbs = slices.DeleteFunc(slices.Clone(r.Verbs), func(v string) bool { return v == verb })
				if len(r.Verbs) == 0 {
					role.Rules = slices.Delete(role.Rules, i, i+1)
				}
				ns := c.Namespace(t, "minimal")
				cl, err := kube.NewClientForConfig(bindRole(t, c, role, ns), kube.Options{Classify: kube.ClassifyOptions{Grace: 5 * time.Second}})
				if err != nil {
					t.Fatal(err)
				}
				time.Sleep(time.Second) // let the RoleBinding take effect
				var refused []string
				for step, err := range lifecycle(context.Background(), cl, ns) {
					if apierrors.IsForbidden(err) {
						refused = append(refused, step)
					}
				}
				if len(refused) == 0 {
					t.Errorf("the lifecycle succeeded without %s on %v: the Role grants more than the applier uses", verb, rule.Resources)
				} else {
					slices.Sort(refused)
					t.Logf("without %s on %v, refused: %s", verb, rule.Resources, strings.Join(refused, ", "))
				}
			})
		}
	}
}
