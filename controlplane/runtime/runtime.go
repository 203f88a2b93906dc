// Package runtime is where a verified artifact becomes a running service.
// Kubernetes and a local supervisor implement Runtime; the control plane
// calls it after admission and turns what it reports into deployment
// status and events.
package runtime

import (
	"context"

	"github.com/aetherengine/aether/pkg/api"
)

// Rollout is one verified deployment to run.
type Rollout struct {
	Deployment api.Deployment
	App        api.App
	Artifact   api.Artifact
}

// Progress is what a runtime reports as a rollout advances.
type Progress struct {
	// Status is rolling_out, ready or failed.
	Status api.DeploymentStatus
	// Reason is a machine-readable code for failures (crash_loop, image_pull…).
	Reason  string
	Message string
}

// Reporter receives a rollout's progress; the control plane records each
// report as a status transition and an event.
type Reporter func(ctx context.Context, p Progress) error

// Runtime runs artifacts.
type Runtime interface {
	// Name identifies the runtime in logs and /readyz ("kubernetes", "local").
	Name() string
	// Deploy starts r and reports its progress until it is ready or failed.
	Deploy(ctx context.Context, r Rollout, report Reporter) error
	// Ready checks that the runtime can take work (cluster reachable…).
	Ready(ctx context.Context) error
}

// None is the placeholder runtime: it runs nothing, so verified deployments
// stay verified.
type None struct{}

// Name returns "none".
func (None) Name() string { return "none" }

// Deploy does nothing.
func (None) Deploy(context.Context, Rollout, Reporter) error { return nil }

// Ready always succeeds.
func (None) Ready(context.Context) error { return nil }
