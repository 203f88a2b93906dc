package kube

import (
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

var t0 = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

// deployment is the rendered Deployment of baseSpec with digest, as the
// API server would have it once the controller saw generation 2.
func deployment(t *testing.T, digest string, mutate func(*appsv1.Deployment)) *appsv1.Deployment {
	t.Helper()
	s := baseSpec()
	s.Artifact = "127.0.0.1:5000/acme/hello@" + digest
	objs, err := Render(s)
	if err != nil {
		t.Fatal(err)
	}
	d := objs.Deployment
	d.Generation = 2
	d.Status = appsv1.DeploymentStatus{ObservedGeneration: 2, Replicas: 1}
	if mutate != nil {
		mutate(d)
	}
	return d
}

func progressing(status corev1.ConditionStatus, reason, msg string) func(*appsv1.Deployment) {
	return func(d *appsv1.Deployment) {
		d.Status.Conditions = append(d.Status.Conditions, appsv1.DeploymentCondition{Type: appsv1.DeploymentProgressing, Status: status, Reason: reason, Message: msg})
	}
}

// pod is a pod of d's current template (or of another digest) with the
// given status.
func pod(name, digest string, status corev1.PodStatus) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: map[string]string{AnnotationDigest: digest, AnnotationDeploymentID: "dep_01"}},
		Status:     status,
	}
}

func waiting(name, reason, msg string) corev1.ContainerStatus {
	return corev1.ContainerStatus{Name: name, Image: "img", State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: msg}}}
}

func terminated(name string, code int32, reason, msg string) corev1.ContainerStatus {
	return corev1.ContainerStatus{Name: name, State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: code, Reason: reason, Message: msg}}}
}

func crashLooping(name string, restarts int32, lastExit int32, msg string) corev1.ContainerStatus {
	cs := waiting(name, "CrashLoopBackOff", "back-off 40s restarting failed container")
	cs.RestartCount = restarts
	cs.LastTerminationState = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: lastExit, Reason: "Error", Message: msg}}
	return cs
}

func unschedulable(since time.Time) corev1.PodCondition {
	return corev1.PodCondition{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: corev1.PodReasonUnschedulable,
		Message: "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector.", LastTransitionTime: metav1.NewTime(since)}
}

func TestClassify(t *testing.T) {
	opts := ClassifyOptions{Grace: 30 * time.Second}
	ready := func(d *appsv1.Deployment) {
		d.Status.UpdatedReplicas, d.Status.ReadyReplicas, d.Status.AvailableReplicas = 1, 1, 1
		progressing(corev1.ConditionTrue, "NewReplicaSetAvailable", "ReplicaSet \"hello-1\" has successfully progressed.")(d)
	}
	tests := []struct {
		name       string
		deployment *appsv1.Deployment
		pods       []*corev1.Pod
		phase      Phase
		reason     string
		exit       *int32
		contains   []string
	}{
		{
			name:       "ready",
			deployment: deployment(t, testDigest, ready),
			phase:      PhaseReady,
			contains:   []string{"1 of 1 replicas"},
		},
		{
			name:       "not found",
			deployment: nil,
			phase:      PhaseFailed, reason: ReasonNotFound,
		},
		{
			name:       "controller has not seen the new generation",
			deployment: deployment(t, testDigest, func(d *appsv1.Deployment) { ready(d); d.Generation = 3 }),
			phase:      PhaseRollingOut,
			contains:   []string{"controller to see the new spec"},
		},
		{
			name: "old replica still running",
			deployment: deployment(t, testDigest, func(d *appsv1.Deployment) {
				ready(d)
				d.Status.Replicas = 2
			}),
			phase:    PhaseRollingOut,
			contains: []string{"1 old replicas pending termination"},
		},
		{
			name: "new replica not available yet",
			deployment: deployment(t, testDigest, func(d *appsv1.Deployment) {
				d.Status.UpdatedReplicas = 1
			}),
			pods:     []*corev1.Pod{pod("hello-1-aaaaa", testDigest, corev1.PodStatus{Phase: corev1.PodPending, InitContainerStatuses: []corev1.ContainerStatus{waiting(FetchContainer, "PodInitializing", "")}})},
			phase:    PhaseRollingOut,
			contains: []string{"0 of 1 updated replicas available"},
		},
		{
			name:       "superseded by another digest",
			deployment: deployment(t, testDigest2, ready),
			phase:      PhaseFailed, reason: ReasonSuperseded,
			contains: []string{"now runs " + testDigest2},
		},
		{
			name:       "fetch failed (terminated)",
			deployment: deployment(t, testDigest, nil),
			pods: []*corev1.Pod{pod("hello-1-aaaaa", testDigest, corev1.PodStatus{Phase: corev1.PodPending,
				InitContainerStatuses: []corev1.ContainerStatus{terminated(FetchContainer, 4, "Error", "aether-fetch: manifest digest mismatch: got sha256:ab, want sha256:cd")}})},
			phase: PhaseFailed, reason: ReasonFetchFailed, exit: new(int32(4)),
			contains: []string{"aether-fetch exited with code 4 (verification)", "digest mismatch", "hello-1-aaaaa"},
		},
		{
			name:       "fetch failed, now in back-off: the exit code still wins over crash_loop",
			deployment: deployment(t, testDigest, nil),
			pods: []*corev1.Pod{pod("hello-1-aaaaa", testDigest, corev1.PodStatus{Phase: corev1.PodPending,
				InitContainerStatuses: []corev1.ContainerStatus{crashLooping(FetchContainer, 3, 3, "unauthorized: registry refused the credentials")}})},
			phase: PhaseFailed, reason: ReasonFetchFailed, exit: new(int32(3)),
			contains: []string{"code 3 (registry)", "unauthorized"},
		},
		{
			name:       "init container crash-looping without an exit record",
			deployment: deployment(t, testDigest, nil),
			pods: []*corev1.Pod{pod("hello-1-aaaaa", testDigest, corev1.PodStatus{Phase: corev1.PodPending,
				InitContainerStatuses: []corev1.ContainerStatus{waiting(FetchContainer, "CrashLoopBackOff", "back-off")}})},
			phase: PhaseFailed, reason: ReasonCrashLoop,
			contains: []string{"init container fetch is crash-looping"},
		},
		{
			name:       "fetch succeeded",
			deployment: deployment(t, testDigest, nil),
			pods: []*corev1.Pod{pod("hello-1-aaaaa", testDigest, corev1.PodStatus{Phase: corev1.PodRunning,
				InitContainerStatuses: []corev1.ContainerStatus{terminated(FetchContainer, 0, "Completed", "")},
				ContainerStatuses:     []corev1.ContainerStatus{{Name: AppContainer, State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}}})},
			phase: PhaseRollingOut,
		},
		{
			name:       "app crash loop",
			deployment: deployment(t, testDigest, nil),
			pods: []*corev1.Pod{pod("hello-1-aaaaa", testDigest, corev1.PodStatus{Phase: corev1.PodRunning,
				InitContainerStatuses: []corev1.ContainerStatus{terminated(FetchContainer, 0, "Completed", "")},
				ContainerStatuses:     []corev1.ContainerStatus{crashLooping(AppContainer, 5, 1, "Error: Cannot find module '/workspace/app/server.js'")}})},
			phase: PhaseFailed, reason: ReasonCrashLoop, exit: new(int32(1)),
			contains: []string{"container app is crash-looping after 5 restarts", "Cannot find module"},
		},
		{
			name:       "app exited once, not yet in back-off",
			deployment: deployment(t, testDigest, nil),
			pods: []*corev1.Pod{pod("hello-1-aaaaa", testDigest, corev1.PodStatus{Phase: corev1.PodRunning,
				ContainerStatuses: []corev1.ContainerStatus{terminated(AppContainer, 1, "Error", "")}})},
			phase: PhaseRollingOut,
		},
		{
			name:       "node image pull",
			deployment: deployment(t, testDigest, nil),
			pods: []*corev1.Pod{pod("hello-1-aaaaa", testDigest, corev1.PodStatus{Phase: corev1.PodPending,
				ContainerStatuses: []corev1.ContainerStatus{waiting(AppContainer, "ImagePullBackOff", "Back-off pulling image \"node:20.20-bookworm-slim\"")}})},
			phase: PhaseFailed, reason: ReasonImagePull,
			contains: []string{"cannot pull image", "ImagePullBackOff"},
		},
		{
			name:       "fetch image pull",
			deployment: deployment(t, testDigest, nil),
			pods: []*corev1.Pod{pod("hello-1-aaaaa", testDigest, corev1.PodStatus{Phase: corev1.PodPending,
				InitContainerStatuses: []corev1.ContainerStatus{waiting(FetchContainer, "ErrImagePull", "manifest unknown")}})},
			phase: PhaseFailed, reason: ReasonImagePull,
			contains: []string{"init container fetch", "ErrImagePull"},
		},
		{
			name:       "invalid image name",
			deployment: deployment(t, testDigest, nil),
			pods: []*corev1.Pod{pod("hello-1-aaaaa", testDigest, corev1.PodStatus{Phase: corev1.PodPending,
				ContainerStatuses: []corev1.ContainerStatus{waiting(AppContainer, "InvalidImageName", "")}})},
			phase: PhaseFailed, reason: ReasonImagePull,
		},
		{
			name:       "missing registry secret",
			deployment: deployment(t, testDigest, nil),
			pods: []*corev1.Pod{pod("hello-1-aaaaa", testDigest, corev1.PodStatus{Phase: corev1.PodPending,
				InitContainerStatuses: []corev1.ContainerStatus{waiting(FetchContainer, "CreateContainerConfigError", "secret \"registry-creds\" not found")}})},
			phase: PhaseFailed, reason: ReasonContainerConfig,
			contains: []string{"registry-creds"},
		},
		{
			name:       "unschedulable past the grace period",
			deployment: deployment(t, testDigest, nil),
			pods: []*corev1.Pod{pod("hello-1-aaaaa", testDigest, corev1.PodStatus{Phase: corev1.PodPending,
				Conditions: []corev1.PodCondition{unschedulable(t0.Add(-45 * time.Second))}})},
			phase: PhaseFailed, reason: ReasonUnschedulable,
			contains: []string{"unschedulable for 45s", "node affinity/selector"},
		},
		{
			name:       "unschedulable within the grace period",
			deployment: deployment(t, testDigest, nil),
			pods: []*corev1.Pod{pod("hello-1-aaaaa", testDigest, corev1.PodStatus{Phase: corev1.PodPending,
				Conditions: []corev1.PodCondition{unschedulable(t0.Add(-10 * time.Second))}})},
			phase: PhaseRollingOut,
		},
		{
			name:       "progress deadline",
			deployment: deployment(t, testDigest, progressing(corev1.ConditionFalse, "ProgressDeadlineExceeded", "ReplicaSet \"hello-1\" has timed out progressing.")),
			phase:      PhaseFailed, reason: ReasonProgressDeadline,
			contains: []string{"no progress for 120s", "timed out progressing"},
		},
		{
			name: "progress deadline of a generation the controller has not seen yet is stale",
			deployment: deployment(t, testDigest, func(d *appsv1.Deployment) {
				progressing(corev1.ConditionFalse, "ProgressDeadlineExceeded", "old")(d)
				d.Generation = 3
			}),
			phase: PhaseRollingOut,
		},
		{
			name:       "crash loop explains the progress deadline",
			deployment: deployment(t, testDigest, progressing(corev1.ConditionFalse, "ProgressDeadlineExceeded", "timed out")),
			pods: []*corev1.Pod{pod("hello-1-aaaaa", testDigest, corev1.PodStatus{Phase: corev1.PodRunning,
				ContainerStatuses: []corev1.ContainerStatus{crashLooping(AppContainer, 2, 137, "OOMKilled")}})},
			phase: PhaseFailed, reason: ReasonCrashLoop, exit: new(int32(137)),
		},
		{
			name: "replica failure (admission refused the pods)",
			deployment: deployment(t, testDigest, func(d *appsv1.Deployment) {
				d.Status.Conditions = append(d.Status.Conditions, appsv1.DeploymentCondition{Type: appsv1.DeploymentReplicaFailure, Status: corev1.ConditionTrue,
					Reason: "FailedCreate", Message: "pods \"hello-1-x\" is forbidden: exceeded quota: compute", LastTransitionTime: metav1.NewTime(t0.Add(-time.Minute))})
			}),
			phase: PhaseFailed, reason: ReasonReplicaFailure,
			contains: []string{"exceeded quota"},
		},
		{
			name: "replica failure within the grace period (a new namespace's ServiceAccount)",
			deployment: deployment(t, testDigest, func(d *appsv1.Deployment) {
				d.Status.Conditions = append(d.Status.Conditions, appsv1.DeploymentCondition{Type: appsv1.DeploymentReplicaFailure, Status: corev1.ConditionTrue,
					Reason: "FailedCreate", Message: "pods \"hello-1-x\" is forbidden: error looking up service account apps/default", LastTransitionTime: metav1.NewTime(t0.Add(-2 * time.Second))})
			}),
			phase: PhaseRollingOut,
		},
		{
			name:       "an old version's crash loop does not fail the new rollout",
			deployment: deployment(t, testDigest, nil),
			pods: []*corev1.Pod{pod("hello-0-aaaaa", testDigest2, corev1.PodStatus{Phase: corev1.PodRunning,
				ContainerStatuses: []corev1.ContainerStatus{crashLooping(AppContainer, 9, 1, "")}})},
			phase: PhaseRollingOut,
		},
		{
			name:       "a terminating pod of the new version does not fail the rollout",
			deployment: deployment(t, testDigest, nil),
			pods: func() []*corev1.Pod {
				p := pod("hello-1-aaaaa", testDigest, corev1.PodStatus{Phase: corev1.PodRunning,
					ContainerStatuses: []corev1.ContainerStatus{crashLooping(AppContainer, 9, 1, "")}})
				p.DeletionTimestamp = new(metav1.NewTime(t0))
				return []*corev1.Pod{p}
			}(),
			phase: PhaseRollingOut,
		},
		{
			name:       "the most specific failure among pods wins",
			deployment: deployment(t, testDigest, func(d *appsv1.Deployment) { d.Spec.Replicas = new(int32(2)) }),
			pods: []*corev1.Pod{
				pod("hello-1-aaaaa", testDigest, corev1.PodStatus{Phase: corev1.PodPending, Conditions: []corev1.PodCondition{unschedulable(t0.Add(-time.Hour))}}),
				pod("hello-1-bbbbb", testDigest, corev1.PodStatus{Phase: corev1.PodPending,
					InitContainerStatuses: []corev1.ContainerStatus{terminated(FetchContainer, 2, "Error", "signature does not verify")}}),
			},
			phase: PhaseFailed, reason: ReasonFetchFailed, exit: new(int32(2)),
			contains: []string{"hello-1-bbbbb"},
		},
		{
			name:       "zero replicas is ready once observed",
			deployment: deployment(t, testDigest, func(d *appsv1.Deployment) { d.Spec.Replicas = new(int32(0)); d.Status.Replicas = 0 }),
			phase:      PhaseReady,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Classify(Snapshot{Now: t0, Deployment: tt.deployment, Pods: tt.pods}, testDigest, opts)
			if got.Phase != tt.phase || got.Reason != tt.reason {
				t.Fatalf("Classify = %s; want phase %s reason %q", got, tt.phase, tt.reason)
			}
			if (got.ExitCode == nil) != (tt.exit == nil) || (got.ExitCode != nil && *got.ExitCode != *tt.exit) {
				t.Errorf("exit code = %v, want %v", deref(got.ExitCode, -1), deref(tt.exit, -1))
			}
			for _, c := range tt.contains {
				if !strings.Contains(got.Message, c) {
					t.Errorf("message %q lacks %q", got.Message, c)
				}
			}
			if got.Phase == PhaseFailed && got.Message == "" {
				t.Errorf("a failure without a message")
			}
		})
	}
}

func TestDetailBoundsMessages(t *testing.T) {
	long := strings.Repeat("é", maxMessage)
	got := detail(long)
	if len(got) > maxMessage+len(": …")+1 {
		t.Errorf("detail kept %d bytes", len(got))
	}
	if !strings.HasSuffix(got, "…") || !strings.HasPrefix(got, ": é") {
		t.Errorf("detail(long) = %q…", got[:20])
	}
	if detail("  ") != "" {
		t.Errorf("blank message not dropped")
	}
}
