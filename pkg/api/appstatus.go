package api

// AppStatus is what runs for an app (GET /v1/apps/{name}/status).
type AppStatus struct {
	App string `json:"app"`
	// Runtime names the control plane's runtime (local, kubernetes, none).
	Runtime string `json:"runtime"`
	// Current is the deployment the app serves: the one the runtime runs,
	// else the newest ready one; absent before the first is ready.
	Current *Deployment `json:"current,omitempty"`
	// Digest is Current's artifact digest.
	Digest string `json:"digest,omitempty"`
	// URL is where the app answers, when the runtime knows one.
	URL string `json:"url,omitempty"`
	// Ready reports that the current version answers now (as far as the
	// runtime can tell; false when it cannot tell).
	Ready bool `json:"ready"`
	// Restarts counts the current version's process restarts.
	Restarts int `json:"restarts"`
	// Message says what the runtime sees.
	Message string `json:"message,omitempty"`
	// Latest is the newest deployment when it is not Current: one rolling
	// out, or one that failed while Current kept serving.
	Latest *Deployment `json:"latest,omitempty"`
}

// DeploymentLogs is the tail of a deployment's log (GET
// /v1/deployments/{id}/logs): its processes' stdout and stderr and the
// runtime's own lines, oldest first. Control characters are escaped.
type DeploymentLogs struct {
	DeploymentID string   `json:"deployment_id"`
	Lines        []string `json:"lines"`
	// Truncated reports that older lines exist.
	Truncated bool `json:"truncated"`
}

// Log tail bounds of GET /v1/deployments/{id}/logs?tail=N.
const (
	DefaultLogTail = 100
	MaxLogTail     = 10000
)
