package kube

import (
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

func TestTrackerReportsChangesOnce(t *testing.T) {
	d := deployment(t, testDigest, nil)
	p := pod("hello-5d9c7-abcde", testDigest, corev1.PodStatus{Phase: corev1.PodPending,
		InitContainerStatuses: []corev1.ContainerStatus{waiting(FetchContainer, "PodInitializing", "")}})
	p.UID = "pod-uid"
	p.Spec.NodeName = "kwok-node-0"

	tr := newTracker("hello")
	steps := []struct {
		name   string
		mutate func()
		want   []string // substrings of the events, in order
	}{
		{"first sight", func() {}, []string{"Deployment hello: 0 of 1 new replicas created", "pod hello-5d9c7-abcde: pending, on kwok-node-0", "init container fetch: waiting (PodInitializing)"}},
		{"nothing changed", func() {}, nil},
		{"fetch done, app running", func() {
			p.Status.Phase = corev1.PodRunning
			p.Status.InitContainerStatuses = []corev1.ContainerStatus{terminated(FetchContainer, 0, "Completed", "")}
			p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: AppContainer, State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}}
		}, []string{"pod hello-5d9c7-abcde: running", "fetch: terminated (exit code 0, Completed)", "container app: running"}},
		{"ready", func() {
			p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
			p.Status.ContainerStatuses[0].Ready = true
			d.Status.UpdatedReplicas, d.Status.AvailableReplicas = 1, 1
			d.Status.Conditions = []appsv1.DeploymentCondition{{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionTrue, Reason: "NewReplicaSetAvailable", Message: "done"}}
		}, []string{"1 of 1 updated replicas available", "Progressing=True", "on kwok-node-0, ready", "container app: running, ready"}},
		{"pod gone", func() { p = nil }, []string{"pod hello-5d9c7-abcde: deleted"}},
	}
	for i, st := range steps {
		st.mutate()
		snap := Snapshot{Now: t0.Add(time.Duration(i) * time.Second), Deployment: d}
		if p != nil {
			snap.Pods = []*corev1.Pod{p}
		}
		got := tr.observe(snap)
		var msgs []string
		for _, e := range got {
			msgs = append(msgs, e.Message)
			if e.Time != snap.Now || e.Type == "" || e.Reason == "" {
				t.Errorf("%s: incomplete event %+v", st.name, e)
			}
		}
		all := strings.Join(msgs, "\n")
		if len(st.want) == 0 && len(got) > 0 {
			t.Errorf("%s: want no events, got\n%s", st.name, all)
		}
		pos := 0
		for _, w := range st.want {
			i := strings.Index(all[pos:], w)
			if i < 0 {
				t.Errorf("%s: events lack %q (in order); got\n%s", st.name, w, all)
				break
			}
			pos += i + len(w)
		}
	}
}

func TestTrackerWarnings(t *testing.T) {
	p := pod("hello-5d9c7-abcde", testDigest, corev1.PodStatus{Phase: corev1.PodRunning,
		ContainerStatuses: []corev1.ContainerStatus{crashLooping(AppContainer, 3, 1, "boom")}})
	got := newTracker("hello").observe(Snapshot{Now: t0, Pods: []*corev1.Pod{p}})
	warned := false
	for _, e := range got {
		if e.Type == EventWarning && e.Reason == "CrashLoopBackOff" {
			warned = true
		}
	}
	if !warned {
		t.Errorf("no CrashLoopBackOff warning in %+v", got)
	}
}

func TestKubeEventSelection(t *testing.T) {
	tr := newTracker("hello")
	tr.uids["known"] = true
	ev := func(kind, name string, uid types.UID) *corev1.Event {
		return &corev1.Event{
			InvolvedObject: corev1.ObjectReference{Kind: kind, Name: name, UID: uid},
			Type:           corev1.EventTypeWarning, Reason: "FailedScheduling", Message: "0/1 nodes are available",
			LastTimestamp: metav1.NewTime(t0),
		}
	}
	tests := []struct {
		e    *corev1.Event
		mine bool
	}{
		{ev("Deployment", "hello", ""), true},
		{ev("Deployment", "hello-world", ""), false},
		{ev("ReplicaSet", "hello-5d9c7", ""), true},
		{ev("ReplicaSet", "hello-world-5d9c7", ""), false},
		{ev("Pod", "hello-5d9c7-abcde", ""), true},
		{ev("Pod", "hello-world-5d9c7-abcde", ""), false},
		{ev("Pod", "anything", "known"), true},
		{ev("Service", "hello", ""), false},
	}
	for _, tt := range tests {
		got, mine := tr.kubeEvent(tt.e)
		if mine != tt.mine {
			t.Errorf("%s %s: mine = %v, want %v", tt.e.InvolvedObject.Kind, tt.e.InvolvedObject.Name, mine, tt.mine)
			continue
		}
		if mine && (got.Type != EventWarning || got.Reason != "FailedScheduling" || !got.Time.Equal(t0) ||
			!strings.Contains(got.Message, tt.e.InvolvedObject.Name+": 0/1 nodes")) {
			t.Errorf("converted event = %+v", got)
		}
	}
}
