package runtime

import (
	"context"
	"errors"
)

// AppState is what a runtime sees of an app right now.
type AppState struct {
	// DeploymentID is the deployment the app serves; empty when none runs.
	DeploymentID string
	Digest       string
	// URL is where the app answers, when the runtime knows one.
	URL string
	// Ready reports that the serving version answers now.
	Ready bool
	// Restarts counts the serving version's process restarts.
	Restarts int
	// Message says what the runtime sees ("ready (pid 4242, port 41234)",
	// "crash-looping: exited with code 1…").
	Message string
}

// Logs is the tail of a deployment's log.
type Logs struct {
	Lines []string
	// Truncated reports that older lines exist.
	Truncated bool
}

// ErrNoLogs is returned by Logs when the runtime holds no log for the
// deployment (it never ran on this runtime, or its log was pruned).
var ErrNoLogs = errors.New("no logs for this deployment")

// Inspector is implemented by runtimes that can say how an app runs and
// return a deployment's logs; the control plane serves both through the
// API when its runtime has them.
type Inspector interface {
	AppState(ctx context.Context, app string) (AppState, error)
	Logs(ctx context.Context, app, deploymentID string, tail int) (Logs, error)
}

// Remover is implemented by runtimes that hold resources for an app: the
// control plane calls RemoveApp when the app is deleted.
type Remover interface {
	RemoveApp(ctx context.Context, app string) error
}
