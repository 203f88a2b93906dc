package kube

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// tracker turns successive snapshots into events: it remembers the last
// description of each thing it reports (a Deployment condition, a pod's
// phase, a container's state) and emits an event when one changes.
type tracker struct {
	seen map[string]string
	// uids of the app's ReplicaSets and pods, to pick the Kubernetes
	// Events that are about them.
	uids map[types.UID]bool
	app  string
	// rsName and podName match the names the Deployment controller gives
	// the app's ReplicaSets (APP-HASH) and pods (APP-HASH-XXXXX): Events
	// about objects not yet in the informers' caches are known by name.
	rsName, podName *regexp.Regexp
}

func newTracker(app string) *tracker {
	q := regexp.QuoteMeta(app)
	return &tracker{
		seen: map[string]string{}, uids: map[types.UID]bool{}, app: app,
		rsName:  regexp.MustCompile(`^` + q + `-[a-z0-9]+$`),
		podName: regexp.MustCompile(`^` + q + `-[a-z0-9]+-[a-z0-9]{5}$`),
	}
}

// observe returns the events for what changed since the last snapshot,
// in a stable order.
func (t *tracker) observe(s Snapshot) []Event {
	var out []Event
	now := s.Now
	current := map[string]bool{}
	emit := func(key, desc, typ, reason, msg string) {
		current[key] = true
		if t.seen[key] == desc {
			return
		}
		t.seen[key] = desc
		out = append(out, Event{Time: now, Type: typ, Reason: reason, Message: msg})
	}

	if d := s.Deployment; d != nil {
		want := deref(d.Spec.Replicas, 1)
		p := progressSummary(d, want)
		emit("deployment/progress", p, EventNormal, "RolloutProgress", fmt.Sprintf("Deployment %s: %s", d.Name, p))
		conds := append([]appsv1.DeploymentCondition(nil), d.Status.Conditions...)
		sort.Slice(conds, func(i, j int) bool { return conds[i].Type < conds[j].Type })
		for _, c := range conds {
			typ := EventNormal
			if (c.Type == appsv1.DeploymentProgressing && c.Status == corev1.ConditionFalse) ||
				(c.Type == appsv1.DeploymentReplicaFailure && c.Status == corev1.ConditionTrue) {
				typ = EventWarning
			}
			emit("deployment/condition/"+string(c.Type), string(c.Status)+"/"+c.Reason+"/"+c.Message, typ, c.Reason,
				fmt.Sprintf("Deployment %s: %s=%s: %s", d.Name, c.Type, c.Status, c.Message))
		}
	}
	for _, rs := range s.ReplicaSets {
		t.uids[rs.UID] = true
		desc := fmt.Sprintf("%d/%d ready", rs.Status.ReadyReplicas, deref(rs.Spec.Replicas, 0))
		emit("rs/"+rs.Name, desc, EventNormal, "ReplicaSet",
			fmt.Sprintf("ReplicaSet %s (%s): %s", rs.Name, short(rs.Spec.Template.Annotations[AnnotationDigest]), desc))
	}
	pods := append([]*corev1.Pod(nil), s.Pods...)
	sort.Slice(pods, func(i, j int) bool { return pods[i].Name < pods[j].Name })
	for _, p := range pods {
		t.uids[p.UID] = true
		desc := podDescription(p)
		emit("pod/"+p.Name, desc, EventNormal, "Pod"+string(p.Status.Phase), fmt.Sprintf("pod %s: %s", p.Name, desc))
		for _, cs := range p.Status.InitContainerStatuses {
			t.container(p, cs, true, emit)
		}
		for _, cs := range p.Status.ContainerStatuses {
			t.container(p, cs, false, emit)
		}
	}
	// Forget what is gone, reporting pods that went away.
	for key := range t.seen {
		if current[key] {
			continue
		}
		if name, ok := strings.CutPrefix(key, "pod/"); ok && !strings.Contains(name, "/") {
			out = append(out, Event{Time: now, Type: EventNormal, Reason: "PodDeleted", Message: fmt.Sprintf("pod %s: deleted", name)})
		}
		delete(t.seen, key)
	}
	return out
}

func (t *tracker) container(p *corev1.Pod, cs corev1.ContainerStatus, init bool, emit func(key, desc, typ, reason, msg string)) {
	kind := "container"
	if init {
		kind = "init container"
	}
	desc, reason, warn := containerDescription(cs)
	typ := EventNormal
	if warn {
		typ = EventWarning
	}
	emit("pod/"+p.Name+"/"+cs.Name, desc, typ, reason, fmt.Sprintf("pod %s: %s %s: %s", p.Name, kind, cs.Name, desc))
}

func podDescription(p *corev1.Pod) string {
	var parts []string
	parts = append(parts, strings.ToLower(string(p.Status.Phase)))
	if p.Spec.NodeName != "" {
		parts = append(parts, "on "+p.Spec.NodeName)
	}
	for _, c := range p.Status.Conditions {
		switch {
		case c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue:
			parts = append(parts, "ready")
		case c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse:
			parts = append(parts, fmt.Sprintf("not scheduled (%s): %s", c.Reason, c.Message))
		}
	}
	if p.DeletionTimestamp != nil {
		parts = append(parts, "terminating")
	}
	return strings.Join(parts, ", ")
}

// containerDescription says what a container is doing, the cause as a
// reason, and whether that is a warning.
func containerDescription(cs corev1.ContainerStatus) (desc, reason string, warn bool) {
	switch s := cs.State; {
	case s.Waiting != nil:
		w := s.Waiting
		warn = imagePullReasons[w.Reason] || containerConfigReasons[w.Reason] || w.Reason == "CrashLoopBackOff"
		return "waiting (" + orNone(w.Reason) + ")" + detail(w.Message), orNone(w.Reason), warn
	case s.Running != nil:
		if cs.Ready {
			return "running, ready", "Running", false
		}
		return "running", "Running", false
	case s.Terminated != nil:
		tm := s.Terminated
		return fmt.Sprintf("terminated (exit code %d, %s)%s", tm.ExitCode, orNone(tm.Reason), detail(tm.Message)), orNone(tm.Reason), tm.ExitCode != 0
	}
	return "unknown", "Unknown", false
}

// kubeEvent converts a Kubernetes Event about one of the app's objects; ok is
// false for Events about anything else.
func (t *tracker) kubeEvent(e *corev1.Event) (Event, bool) {
	io := e.InvolvedObject
	mine := false
	switch io.Kind {
	case "Deployment":
		mine = io.Name == t.app
	case "ReplicaSet":
		mine = t.uids[io.UID] || t.rsName.MatchString(io.Name)
	case "Pod":
		mine = t.uids[io.UID] || t.podName.MatchString(io.Name)
	}
	if !mine {
		return Event{}, false
	}
	at := e.LastTimestamp.Time
	if at.IsZero() {
		at = e.EventTime.Time
	}
	if at.IsZero() {
		at = time.Now()
	}
	typ := e.Type
	if typ != EventWarning {
		typ = EventNormal
	}
	return Event{Time: at, Type: typ, Reason: e.Reason, Message: fmt.Sprintf("%s %s: %s", io.Kind, io.Name, strings.TrimSpace(e.Message))}, true
}
