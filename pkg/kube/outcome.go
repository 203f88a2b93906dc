package kube

import (
	"fmt"
	"time"
)

// Phase is where a rollout is. The values are the control plane's
// deployment statuses, so it can record them as they are.
type Phase string

// Phases.
const (
	PhaseRollingOut Phase = "rolling_out"
	PhaseReady      Phase = "ready"
	PhaseFailed     Phase = "failed"
)

// Failure reasons: stable, machine-readable codes for Outcome.Reason.
const (
	// ReasonFetchFailed: the aether-fetch init container exited non-zero
	// (registry refused, digest mismatch, signature did not verify, unsafe
	// archive…); Outcome.ExitCode and Message say which.
	ReasonFetchFailed = "fetch_failed"
	// ReasonImagePull: an image (aether-fetch's or Node.js's) could not be
	// pulled: ErrImagePull, ImagePullBackOff, InvalidImageName.
	ReasonImagePull = "image_pull"
	// ReasonCrashLoop: a container is in CrashLoopBackOff.
	ReasonCrashLoop = "crash_loop"
	// ReasonContainerConfig: the kubelet cannot create a container
	// (CreateContainerConfigError: a missing Secret or ConfigMap…).
	ReasonContainerConfig = "container_config"
	// ReasonUnschedulable: a new pod stayed unschedulable (no node with
	// room, or of the artifact's platform) past the grace period.
	ReasonUnschedulable = "unschedulable"
	// ReasonReplicaFailure: the ReplicaSet cannot create pods (quota, Pod
	// Security admission…).
	ReasonReplicaFailure = "replica_failure"
	// ReasonProgressDeadline: the Deployment made no progress for
	// progressDeadlineSeconds (Progressing=False, ProgressDeadlineExceeded).
	ReasonProgressDeadline = "progress_deadline"
	// ReasonTimeout: the caller's own deadline (its ctx) passed first.
	ReasonTimeout = "timeout"
	// ReasonSuperseded: the Deployment now runs another digest: a newer
	// deployment replaced this one while it rolled out.
	ReasonSuperseded = "superseded"
	// ReasonNotFound: the Deployment does not exist (deleted while
	// rolling out, or never applied).
	ReasonNotFound = "not_found"
)

// Outcome is what a rollout came to, or where it is.
type Outcome struct {
	Phase Phase `json:"phase"`
	// Reason is one of the Reason constants when Phase is failed.
	Reason string `json:"reason,omitempty"`
	// Message says what was seen, for people: which pod, which container,
	// what Kubernetes said.
	Message string `json:"message"`
	// Pod and Container name where a failure was seen, when it was.
	Pod       string `json:"pod,omitempty"`
	Container string `json:"container,omitempty"`
	// ExitCode is the failing container's exit code, when it exited.
	ExitCode *int32 `json:"exit_code,omitempty"`
}

// Ready reports whether the rollout finished with every new pod available.
func (o Outcome) Ready() bool { return o.Phase == PhaseReady }

// Failed reports whether the rollout failed.
func (o Outcome) Failed() bool { return o.Phase == PhaseFailed }

// Terminal reports whether the outcome is final (ready or failed).
func (o Outcome) Terminal() bool { return o.Phase == PhaseReady || o.Phase == PhaseFailed }

// String is "ready", "rolling_out: MESSAGE" or "failed (REASON): MESSAGE".
func (o Outcome) String() string {
	switch o.Phase {
	case PhaseReady:
		return string(o.Phase)
	case PhaseFailed:
		return fmt.Sprintf("failed (%s): %s", o.Reason, o.Message)
	}
	return fmt.Sprintf("%s: %s", o.Phase, o.Message)
}

// Event types, as Kubernetes names them.
const (
	EventNormal  = "Normal"
	EventWarning = "Warning"
)

// Event is one thing seen during a rollout: a Deployment condition, a
// replica count, a pod or container state change, or a Kubernetes Event
// about one of the app's objects.
type Event struct {
	Time time.Time
	// Type is EventNormal or EventWarning.
	Type string
	// Reason is a short CamelCase cause (Kubernetes' own when it has one).
	Reason  string
	Message string
}
