package kube

import (
	"fmt"
	"sort"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

// Snapshot is what the watcher saw of one app at one moment.
type Snapshot struct {
	// Now is when the snapshot was taken; grace periods count to it.
	Now time.Time
	// Deployment is nil when it does not exist.
	Deployment *appsv1.Deployment
	// ReplicaSets are the Deployment's, old and new; only events use them.
	ReplicaSets []*appsv1.ReplicaSet
	// Pods are the app's pods, old and new versions alike.
	Pods []*corev1.Pod
}

// ClassifyOptions tune Classify.
type ClassifyOptions struct {
	// Grace is how long a state that can heal by itself may last before
	// the rollout fails: a new pod unschedulable (a cluster autoscaler
	// adds a node), or pods refused (a new namespace's ServiceAccount is
	// not there yet).
	Grace time.Duration
}

// DefaultGrace is ClassifyOptions.Grace's default.
const DefaultGrace = 60 * time.Second

// Waiting reasons the kubelet reports.
var (
	imagePullReasons       = map[string]bool{"ErrImagePull": true, "ImagePullBackOff": true, "InvalidImageName": true, "ErrImageNeverPull": true}
	containerConfigReasons = map[string]bool{"CreateContainerConfigError": true, "CreateContainerError": true, "RunContainerError": true}
)

// fetchExitClass names aether-fetch's exit codes (docs/fetch.md), so the
// outcome says which kind of failure it was without the operator looking
// the code up.
var fetchExitClass = map[int32]string{
	1: "internal error",
	2: "usage",
	3: "registry",
	4: "verification",
	5: "extraction refused",
}

// failure ranks: when several pods fail differently, the most specific
// cause is reported. A failed fetch explains a crash loop of the init
// container; a crash loop explains a progress deadline.
var failureRank = map[string]int{
	ReasonFetchFailed:     5,
	ReasonImagePull:       4,
	ReasonCrashLoop:       3,
	ReasonContainerConfig: 2,
	ReasonUnschedulable:   1,
}

// Classify decides where the rollout of digest stands: ready when the
// Deployment runs digest and every replica is updated and available;
// failed when a pod of the new version shows a cause (fetch_failed,
// image_pull, crash_loop, container_config, unschedulable) or the
// Deployment reports one (replica_failure, progress_deadline); rolling
// out otherwise. Pods of older versions never fail a rollout: they are
// being replaced.
func Classify(s Snapshot, digest string, opts ClassifyOptions) Outcome {
	d := s.Deployment
	if d == nil {
		return Outcome{Phase: PhaseFailed, Reason: ReasonNotFound, Message: "the Deployment does not exist: it was deleted, or never applied"}
	}
	if got := d.Annotations[AnnotationDigest]; got != digest {
		return Outcome{Phase: PhaseFailed, Reason: ReasonSuperseded,
			Message: fmt.Sprintf("Deployment %s/%s now runs %s, not %s: a newer deployment replaced this one", d.Namespace, d.Name, orNone(got), digest)}
	}
	observed := d.Status.ObservedGeneration >= d.Generation
	want := int32(1)
	if d.Spec.Replicas != nil {
		want = *d.Spec.Replicas
	}
	st := d.Status
	if observed && st.UpdatedReplicas >= want && st.Replicas == st.UpdatedReplicas && st.AvailableReplicas >= want && !deadlineExceeded(d) {
		return Outcome{Phase: PhaseReady, Message: fmt.Sprintf("%d of %d replicas of %s available", st.AvailableReplicas, want, short(digest))}
	}

	if f, ok := podFailure(newPods(d, s.Pods), s.Now, opts); ok {
		return f
	}
	if observed {
		for _, c := range d.Status.Conditions {
			if c.Type == appsv1.DeploymentReplicaFailure && c.Status == corev1.ConditionTrue && lasted(c.LastTransitionTime.Time, s.Now, opts.Grace) {
				return Outcome{Phase: PhaseFailed, Reason: ReasonReplicaFailure,
					Message: fmt.Sprintf("cannot create pods (%s): %s", c.Reason, c.Message)}
			}
		}
		if deadlineExceeded(d) {
			c := condition(d, appsv1.DeploymentProgressing)
			return Outcome{Phase: PhaseFailed, Reason: ReasonProgressDeadline,
				Message: fmt.Sprintf("no progress for %ds (%s): %s", deref(d.Spec.ProgressDeadlineSeconds, 600), progressSummary(d, want), c.Message)}
		}
	}
	return Outcome{Phase: PhaseRollingOut, Message: progressSummary(d, want)}
}

// newPods are the pods of the Deployment's current template: same digest
// and deployment id as the template, not being deleted.
func newPods(d *appsv1.Deployment, pods []*corev1.Pod) []*corev1.Pod {
	tmpl := d.Spec.Template.Annotations
	var out []*corev1.Pod
	for _, p := range pods {
		if p.DeletionTimestamp != nil {
			continue
		}
		if p.Annotations[AnnotationDigest] != tmpl[AnnotationDigest] || p.Annotations[AnnotationDeploymentID] != tmpl[AnnotationDeploymentID] {
			continue
		}
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// podFailure finds the most specific failure among pods.
func podFailure(pods []*corev1.Pod, now time.Time, opts ClassifyOptions) (Outcome, bool) {
	var best Outcome
	found := false
	for _, p := range pods {
		for _, f := range failuresOf(p, now, opts) {
			if !found || failureRank[f.Reason] > failureRank[best.Reason] {
				best, found = f, true
			}
		}
	}
	return best, found
}

func failuresOf(p *corev1.Pod, now time.Time, opts ClassifyOptions) []Outcome {
	var out []Outcome
	fail := func(reason, container string, exit *int32, format string, args ...any) {
		out = append(out, Outcome{Phase: PhaseFailed, Reason: reason, Pod: p.Name, Container: container, ExitCode: exit,
			Message: fmt.Sprintf("pod %s: ", p.Name) + fmt.Sprintf(format, args...)})
	}
	check := func(cs corev1.ContainerStatus, init bool) {
		kind := "container"
		if init {
			kind = "init container"
		}
		if init && cs.Name == FetchContainer {
			if t := failedTermination(cs); t != nil {
				class := fetchExitClass[t.ExitCode]
				if class == "" {
					class = orNone(t.Reason)
				}
				fail(ReasonFetchFailed, cs.Name, new(t.ExitCode), "aether-fetch exited with code %d (%s)%s", t.ExitCode, class, detail(t.Message))
				return
			}
		}
		w := cs.State.Waiting
		if w == nil {
			return
		}
		switch {
		case imagePullReasons[w.Reason]:
			fail(ReasonImagePull, cs.Name, nil, "%s %s cannot pull image %s (%s)%s", kind, cs.Name, cs.Image, w.Reason, detail(w.Message))
		case w.Reason == "CrashLoopBackOff":
			var exit *int32
			last := ""
			if t := cs.LastTerminationState.Terminated; t != nil {
				exit = new(t.ExitCode)
				last = fmt.Sprintf("; last exit code %d (%s)%s", t.ExitCode, orNone(t.Reason), detail(t.Message))
			}
			fail(ReasonCrashLoop, cs.Name, exit, "%s %s is crash-looping after %d restarts%s", kind, cs.Name, cs.RestartCount, last)
		case containerConfigReasons[w.Reason]:
			fail(ReasonContainerConfig, cs.Name, nil, "%s %s cannot be created (%s)%s", kind, cs.Name, w.Reason, detail(w.Message))
		}
	}
	for _, cs := range p.Status.InitContainerStatuses {
		check(cs, true)
	}
	for _, cs := range p.Status.ContainerStatuses {
		check(cs, false)
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonUnschedulable {
			if since := c.LastTransitionTime.Time; lasted(since, now, opts.Grace) {
				fail(ReasonUnschedulable, "", nil, "unschedulable for %s: %s", now.Sub(since).Round(time.Second), c.Message)
			}
		}
	}
	return out
}

// lasted reports whether a state that began at since has lasted grace by
// now; a state with no recorded start has.
func lasted(since, now time.Time, grace time.Duration) bool {
	return since.IsZero() || now.Sub(since) >= grace
}

// failedTermination is the container's non-zero exit, current or last.
func failedTermination(cs corev1.ContainerStatus) *corev1.ContainerStateTerminated {
	if t := cs.State.Terminated; t != nil && t.ExitCode != 0 {
		return t
	}
	if t := cs.LastTerminationState.Terminated; t != nil && t.ExitCode != 0 {
		return t
	}
	return nil
}

func deadlineExceeded(d *appsv1.Deployment) bool {
	c := condition(d, appsv1.DeploymentProgressing)
	return c != nil && c.Status == corev1.ConditionFalse && c.Reason == "ProgressDeadlineExceeded"
}

func condition(d *appsv1.Deployment, t appsv1.DeploymentConditionType) *appsv1.DeploymentCondition {
	for i := range d.Status.Conditions {
		if d.Status.Conditions[i].Type == t {
			return &d.Status.Conditions[i]
		}
	}
	return nil
}

// progressSummary says how far the rollout got, the way `kubectl rollout
// status` does.
func progressSummary(d *appsv1.Deployment, want int32) string {
	st := d.Status
	switch {
	case st.ObservedGeneration < d.Generation:
		return "waiting for the Deployment controller to see the new spec"
	case st.UpdatedReplicas < want:
		return fmt.Sprintf("%d of %d new replicas created", st.UpdatedReplicas, want)
	case st.Replicas > st.UpdatedReplicas:
		return fmt.Sprintf("%d old replicas pending termination", st.Replicas-st.UpdatedReplicas)
	default:
		return fmt.Sprintf("%d of %d updated replicas available", st.AvailableReplicas, want)
	}
}

// maxMessage bounds a termination message quoted in an outcome: the
// kubelet caps it at 4 KiB, an outcome line should be shorter.
const maxMessage = 1024

func detail(msg string) string {
	msg = strings.TrimSpace(msg)
	if msg == "" {
		return ""
	}
	if len(msg) > maxMessage {
		msg = strings.ToValidUTF8(msg[:maxMessage], "") + "…"
	}
	return ": " + msg
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func short(digest string) string {
	if len(digest) > len("sha256:")+12 {
		return digest[:len("sha256:")+12]
	}
	return digest
}

func deref(p *int32, def int32) int32 {
	if p == nil {
		return def
	}
	return *p
}
