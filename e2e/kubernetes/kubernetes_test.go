//go:build e2e

// Package kubernetes runs pkg/kube against a real Kubernetes API server,
// controller-manager and scheduler (kwok fake nodes): apply, watch a
// rollout to ready, roll to a second digest and back, see forced failures
// reported with their reasons, and prove the documented Role is enough.
package kubernetes

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/aetherengine/aether/e2e/internal/kwok"
	"github.com/aetherengine/aether/pkg/kube"
)

const (
	digest1 = "sha256:4c5a6e7a1b7f1e3a4d39a0c54a8b0b1ed7f6f42d6f2c1f9a2f3b4c5d6e7f8091"
	digest2 = "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	repo    = "registry.apps.svc:5000/acme/hello"
	keyPEM  = "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEexample0000000000000000000000000\n-----END PUBLIC KEY-----\n"
)

func spec(ns, name, id, digest string) kube.AppSpec {
	return kube.AppSpec{
		Name: name, Namespace: ns, DeploymentID: id,
		Artifact:   repo + "@" + digest,
		FetchImage: "ghcr.io/aetherengine/aether-fetch:e2e",
		Runtime: kube.Runtime{NodeVersion: "20.20.2", Platform: "linux/amd64",
			Command: []string{"node", "server.js"}, Port: 3000, AppVersion: "1.0.0"},
		RegistrySecret: "registry-creds",
		TrustKeys:      []kube.TrustKey{{Name: "team", PEM: keyPEM}},
		Probe:          kube.Probe{Path: "/healthz"},
	}
}

func render(t *testing.T, s kube.AppSpec) *kube.Objects {
	t.Helper()
	objs, err := kube.Render(s)
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

// withStage asks kwok (e2e/k8s/stages.yaml) to fail the app's pods.
func withStage(objs *kube.Objects, stage string, extra map[string]string) *kube.Objects {
	a := objs.Deployment.Spec.Template.Annotations
	a[kwok.StageAnnotation] = stage
	for k, v := range extra {
		a[k] = v
	}
	return objs
}

// eventLog collects a rollout's events and logs them as they come.
type eventLog struct {
	t  *testing.T
	mu sync.Mutex
	ev []kube.Event
}

func (l *eventLog) add(e kube.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ev = append(l.ev, e)
	l.t.Logf("event %s %s %s: %s", e.Time.Format("15:04:05.000"), e.Type, e.Reason, e.Message)
}

func (l *eventLog) has(substr string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range l.ev {
		if strings.Contains(e.Message, substr) {
			return true
		}
	}
	return false
}

func newClient(t *testing.T, c *kwok.Cluster, grace time.Duration) *kube.Client {
	t.Helper()
	cl, err := kube.NewClientForConfig(c.Config, kube.Options{
		Logger:   slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Classify: kube.ClassifyOptions{Grace: grace},
	})
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// deploy applies objs and waits for the outcome, logging how long it took.
func deploy(t *testing.T, cl kube.Cluster, objs *kube.Objects, timeout time.Duration) (kube.Outcome, *eventLog, time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	start := time.Now()
	if err := cl.Apply(ctx, objs); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	log := &eventLog{t: t}
	out, err := cl.WaitReady(ctx, objs.Namespace, objs.Name, objs.Digest, log.add)
	if err != nil {
		t.Fatalf("WaitReady: %v", err)
	}
	took := time.Since(start)
	t.Logf("apply → %s in %s", out, took.Round(time.Millisecond))
	return out, log, took
}

func createRegistrySecret(t *testing.T, c *kwok.Cluster, ns string) {
	t.Helper()
	_, err := c.Clientset.CoreV1().Secrets(ns).Create(context.Background(), &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "registry-creds"},
		Type:       corev1.SecretTypeDockerConfigJson,
		Data:       map[string][]byte{corev1.DockerConfigJsonKey: []byte(`{"auths":{}}`)},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
}

func TestKubernetesRuntime(t *testing.T) {
	c := kwok.Start(t)
	t.Run("rollout", func(t *testing.T) { testRollout(t, c) })
	t.Run("failures", func(t *testing.T) { testFailures(t, c) })
	t.Run("role", func(t *testing.T) { testRole(t, c) })
	t.Run("role-is-minimal", func(t *testing.T) { testRoleIsMinimal(t, c) })
}

// testRollout: apply → Deployment pinned to the digest → ready → a second
// digest rolls → the first again (rollback) → a hand edit is taken back →
// delete.
func testRollout(t *testing.T, c *kwok.Cluster) {
	ns := c.Namespace(t, "rollout")
	createRegistrySecret(t, c, ns)
	cl := newClient(t, c, 5*time.Second)
	ctx := context.Background()
	// The API server's Pod Security admission refuses pods that are not
	// locked down to the restricted standard.
	if _, err := c.Kubectl(ctx, "label", "namespace", ns, "pod-security.kubernetes.io/enforce=restricted"); err != nil {
		t.Fatal(err)
	}

	objs := render(t, spec(ns, "hello", "dep-1", digest1))
	out, log, took := deploy(t, cl, objs, 2*time.Minute)
	if !out.Ready() {
		t.Fatalf("first rollout: %s", out)
	}
	t.Logf("TIMING apply→ready (new app): %s", took.Round(time.Millisecond))
	if !log.has("init container fetch: terminated (exit code 0, Completed)") || !log.has("running, ready") {
		t.Errorf("the events do not show the fetch completing and the app becoming ready")
	}

	d, err := c.Clientset.AppsV1().Deployments(ns).Get(ctx, "hello", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	fetch := d.Spec.Template.Spec.InitContainers[0]
	if fetch.Args[0] != repo+"@"+digest1 {
		t.Errorf("init container pulls %q, want %s@%s", fetch.Args[0], repo, digest1)
	}
	if d.Annotations[kube.AnnotationDigest] != digest1 || d.Spec.Template.Annotations[kube.AnnotationDeploymentID] != "dep-1" {
		t.Errorf("annotations = %v / %v", d.Annotations, d.Spec.Template.Annotations)
	}
	managers := map[string]bool{}
	for _, m := range d.ManagedFields {
		managers[m.Manager+"/"+string(m.Operation)] = true
	}
	if !managers[kube.FieldManager+"/Apply"] {
		t.Errorf("no server-side apply by %s in managedFields: %v", kube.FieldManager, managers)
	}
	if _, err := c.Clientset.CoreV1().ConfigMaps(ns).Get(ctx, kube.TrustKeysConfigMapName("hello"), metav1.GetOptions{}); err != nil {
		t.Errorf("trust keys ConfigMap: %v", err)
	}
	if _, err := c.Clientset.CoreV1().Services(ns).Get(ctx, "hello", metav1.GetOptions{}); err != nil {
		t.Errorf("Service: %v", err)
	}

	// A second version: new pods, the old ReplicaSet scaled to zero.
	objs2 := render(t, spec(ns, "hello", "dep-2", digest2))
	out, _, took = deploy(t, cl, objs2, 2*time.Minute)
	if !out.Ready() {
		t.Fatalf("second rollout: %s", out)
	}
	t.Logf("TIMING apply→ready (new digest): %s", took.Round(time.Millisecond))
	assertRunning(t, c, ns, "hello", digest2)

	// Rollback = deploy the previous ready digest again.
	objs3 := render(t, spec(ns, "hello", "dep-3", digest1))
	out, _, took = deploy(t, cl, objs3, 2*time.Minute)
	if !out.Ready() {
		t.Fatalf("rollback: %s", out)
	}
	t.Logf("TIMING apply→ready (rollback): %s", took.Round(time.Millisecond))
	assertRunning(t, c, ns, "hello", digest1)
	st, err := cl.Status(ctx, ns, "hello")
	if err != nil || !st.Exists || st.Digest != digest1 || st.DeploymentID != "dep-3" || !st.Outcome.Ready() {
		t.Errorf("Status = %+v, %v", st, err)
	}

	// Someone scales by hand; the next apply takes the field back.
	if _, err := c.Kubectl(ctx, "-n", ns, "scale", "deployment/hello", "--replicas=3"); err != nil {
		t.Fatal(err)
	}
	if err := cl.Apply(ctx, objs3); err != nil {
		t.Fatal(err)
	}
	d, err = c.Clientset.AppsV1().Deployments(ns).Get(ctx, "hello", metav1.GetOptions{})
	if err != nil || *d.Spec.Replicas != 1 {
		t.Errorf("after re-apply replicas = %d (%v), want 1: Force must take the field back", *d.Spec.Replicas, err)
	}

	// Keys removed: the stale ConfigMap goes.
	noKeys := spec(ns, "hello", "dep-4", digest1)
	noKeys.TrustKeys = nil
	if out, _, _ := deploy(t, cl, render(t, noKeys), 2*time.Minute); !out.Ready() {
		t.Fatalf("rollout without keys: %s", out)
	}
	if _, err := c.Clientset.CoreV1().ConfigMaps(ns).Get(ctx, kube.TrustKeysConfigMapName("hello"), metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("stale trust keys ConfigMap still there: %v", err)
	}

	if err := cl.Delete(ctx, ns, "hello"); err != nil {
		t.Fatal(err)
	}
	if err := cl.Delete(ctx, ns, "hello"); err != nil {
		t.Errorf("deleting a deleted app: %v", err)
	}
	st, err = cl.Status(ctx, ns, "hello")
	if err != nil || st.Exists || st.Outcome.Reason != kube.ReasonNotFound {
		t.Errorf("Status after delete = %+v, %v", st, err)
	}
}

// assertRunning waits for the app's pods to be only those of digest (the
// old ones are deleted right after the rollout completes).
func assertRunning(t *testing.T, c *kwok.Cluster, ns, app, digest string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		pods, err := c.Clientset.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: kube.LabelInstance + "=" + app})
		if err != nil {
			t.Fatal(err)
		}
		var other []string
		for _, p := range pods.Items {
			if p.Annotations[kube.AnnotationDigest] != digest {
				other = append(other, p.Name)
			}
		}
		if len(other) == 0 && len(pods.Items) > 0 {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("pods of another digest still there: %v", other)
		case <-time.After(200 * time.Millisecond):
		}
	}
	rss, err := c.Clientset.AppsV1().ReplicaSets(ns).List(ctx, metav1.ListOptions{LabelSelector: kube.LabelInstance + "=" + app})
	if err != nil {
		t.Fatal(err)
	}
	for _, rs := range rss.Items {
		runs := rs.Spec.Template.Annotations[kube.AnnotationDigest] == digest
		if !runs && *rs.Spec.Replicas != 0 {
			t.Errorf("ReplicaSet %s of %s still wants %d replicas", rs.Name, rs.Spec.Template.Annotations[kube.AnnotationDigest], *rs.Spec.Replicas)
		}
	}
}

// testFailures forces each failure kind with a kwok stage (or the real
// scheduler) and checks the reason the watcher reports.
func testFailures(t *testing.T, c *kwok.Cluster) {
	tests := []struct {
		name    string
		mutate  func(*kube.AppSpec)
		stage   string
		extra   map[string]string
		timeout time.Duration
		reason  string
		exit    int32
		message string
	}{
		{name: "fetch-failed", stage: kwok.StageFetchFailed,
			extra:  map[string]string{kwok.ExitCodeAnnotation: "4", kwok.MessageAnnotation: "aether-fetch: manifest digest mismatch"},
			reason: kube.ReasonFetchFailed, exit: 4, message: "code 4 (verification): aether-fetch: manifest digest mismatch"},
		{name: "crash-loop", stage: kwok.StageCrashLoop,
			extra:  map[string]string{kwok.ExitCodeAnnotation: "1", kwok.MessageAnnotation: "Error: Cannot find module 'express'"},
			reason: kube.ReasonCrashLoop, exit: 1, message: "Cannot find module"},
		{name: "image-pull", stage: kwok.StageImagePull, reason: kube.ReasonImagePull, message: "node:20.20-bookworm-slim"},
		{name: "progress-deadline", stage: kwok.StageNeverReady,
			mutate: func(s *kube.AppSpec) { s.ProgressDeadlineSeconds = 5 },
			reason: kube.ReasonProgressDeadline, message: "no progress for 5s"},
		{name: "unschedulable", mutate: func(s *kube.AppSpec) { s.Runtime.Platform = "linux/arm64" },
			reason: kube.ReasonUnschedulable, message: "node(s) didn't match"},
		{name: "timeout", stage: kwok.StageNeverReady, timeout: 4 * time.Second,
			reason: kube.ReasonTimeout, message: "not ready after"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ns := c.Namespace(t, tt.name)
			cl := newClient(t, c, time.Second)
			s := spec(ns, "app", "dep-1", digest1)
			s.RegistrySecret = ""
			if tt.mutate != nil {
				tt.mutate(&s)
			}
			objs := render(t, s)
			if tt.stage != "" {
				withStage(objs, tt.stage, tt.extra)
			}
			timeout := tt.timeout
			if timeout == 0 {
				timeout = 2 * time.Minute
			}
			out, _, took := deploy(t, cl, objs, timeout)
			if out.Phase != kube.PhaseFailed || out.Reason != tt.reason {
				t.Fatalf("outcome %s; want failed with reason %s", out, tt.reason)
			}
			if !strings.Contains(out.Message, tt.message) {
				t.Errorf("message %q lacks %q", out.Message, tt.message)
			}
			if tt.exit != 0 && (out.ExitCode == nil || *out.ExitCode != tt.exit) {
				t.Errorf("exit code %v, want %d", out.ExitCode, tt.exit)
			}
			t.Logf("TIMING apply→%s: %s", tt.reason, took.Round(time.Millisecond))
		})
	}
	t.Run("superseded", func(t *testing.T) {
		t.Parallel()
		ns := c.Namespace(t, "superseded")
		cl := newClient(t, c, time.Second)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		first := withStage(render(t, spec(ns, "app", "dep-1", digest1)), kwok.StageNeverReady, nil)
		if err := cl.Apply(ctx, first); err != nil {
			t.Fatal(err)
		}
		done := make(chan kube.Outcome, 1)
		go func() {
			out, err := cl.WaitReady(ctx, ns, "app", digest1, nil)
			if err != nil {
				t.Errorf("WaitReady: %v", err)
			}
			done <- out
		}()
		time.Sleep(time.Second)
		if err := cl.Apply(ctx, render(t, spec(ns, "app", "dep-2", digest2))); err != nil {
			t.Fatal(err)
		}
		if out := <-done; out.Reason != kube.ReasonSuperseded {
			t.Errorf("first rollout: %s; want superseded", out)
		}
	})
}

func waitFor(t *testing.T, d time.Duration, f func() error) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %v", d, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
