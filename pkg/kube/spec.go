package kube

import (
	"github.com/aetherengine/aether/pkg/artifact"
)

// AppSpec is what Render turns into Kubernetes objects: one verified
// artifact, pinned by digest, and the settings of the app it runs as.
// Zero values take the defaults documented on each field.
type AppSpec struct {
	// Name is the app's name: the Deployment's and the Service's name and
	// the app.kubernetes.io/name and /instance labels. A DNS-1035 label.
	Name string
	// Namespace the objects go into. Required.
	Namespace string
	// DeploymentID is the control plane's deployment id, recorded in the
	// aether.dev/deployment-id annotation. Required.
	DeploymentID string
	// Artifact is the artifact reference pinned by digest:
	// REPOSITORY@sha256:HEX. A tag is refused (see PinnedRef).
	Artifact string
	// Runtime is what the artifact's config says about running it.
	Runtime Runtime

	// Env is the app's environment. PORT and PATH are set by the renderer
	// and may not appear here; HOME (/tmp) and NODE_ENV (production) are
	// defaults the app may override.
	Env map[string]string

	// FetchImage is the aether-fetch image of the init container; default
	// DefaultFetchImage().
	FetchImage string
	// NodeImage is the image of the app container; default
	// NodeImage(Runtime.NodeVersion).
	NodeImage string
	// PlainHTTP makes aether-fetch talk HTTP to the artifact's registry
	// (a registry inside the cluster without TLS).
	PlainHTTP bool
	// RegistrySecret names a kubernetes.io/dockerconfigjson Secret in
	// Namespace with the credentials for the artifact's registry. Empty:
	// anonymous pull, nothing mounted.
	RegistrySecret string
	// ImagePullSecrets are for pulling FetchImage and NodeImage, when those
	// live in a private registry.
	ImagePullSecrets []string
	// TrustKeys are the app's cosign public keys. When present, they go into
	// a ConfigMap and aether-fetch re-verifies the artifact's signature
	// against them before extracting (the third verification point).
	TrustKeys []TrustKey

	// Replicas is the number of pods; nil means 1.
	Replicas *int32
	// Probe configures the readiness and liveness probes on the app's port.
	Probe Probe
	// Resources of the app container; zero fields take DefaultAppResources.
	Resources Resources
	// FetchResources of the init container; zero fields take
	// DefaultFetchResources.
	FetchResources Resources
	// WorkspaceSize bounds the emptyDir the artifact is extracted into;
	// default DefaultWorkspaceSize.
	WorkspaceSize string
	// ProgressDeadlineSeconds is how long the Deployment may make no
	// progress before Kubernetes marks it failed; default 120.
	ProgressDeadlineSeconds int32
	// RevisionHistoryLimit is how many old ReplicaSets to keep; nil means 5.
	// Rollback redeploys a previous digest, so history is only for kubectl.
	RevisionHistoryLimit *int32
	// ServicePort is the Service's port; default 80. It targets the app's
	// port.
	ServicePort int32
}

// Runtime is the part of the artifact's config that running it needs.
type Runtime struct {
	// NodeVersion is the Node.js version the dependencies were installed
	// with ("20.20.2"); it picks the default NodeImage.
	NodeVersion string
	// Platform is "linux/amd64" or similar. Native addons are per
	// platform, so pods are pinned to nodes of that OS and architecture.
	// Empty: no node selector.
	Platform string
	// Command is the start command as argv.
	Command []string
	// Port is the TCP port the app listens on, passed to it as PORT.
	Port int32
	// AppVersion is package.json's version, used for the
	// app.kubernetes.io/version label (the digest when empty).
	AppVersion string
}

// RuntimeFromConfig takes what Render needs from an artifact's config.
func RuntimeFromConfig(c artifact.Config) Runtime {
	return Runtime{
		NodeVersion: c.Runtime.Version,
		Platform:    c.Runtime.Platform,
		Command:     append([]string(nil), c.App.Command...),
		Port:        int32(c.App.Port), //nolint:gosec // validated by Render (1..65535)
		AppVersion:  c.App.Version,
	}
}

// TrustKey is one cosign public key the init container verifies against.
type TrustKey struct {
	// Name becomes the key's file name (NAME.pub) in the ConfigMap; keys
	// without a name are key-N.pub.
	Name string
	// PEM is the public key, PEM-encoded.
	PEM string
}

// Probe configures the app container's probes. Both probe the app's port:
// an HTTP GET of Path when set, a TCP connect otherwise.
type Probe struct {
	// Path is the HTTP path to GET ("/healthz"); empty means TCP.
	Path string
	// PeriodSeconds is the readiness probe's period; default 2, so a new
	// version takes traffic quickly.
	PeriodSeconds int32
	// TimeoutSeconds is each probe's timeout; default 2.
	TimeoutSeconds int32
	// FailureThreshold is how many failures in a row count; default 3.
	FailureThreshold int32
	// LivenessInitialDelaySeconds delays the liveness probe, so a slow
	// start is not killed; default 10.
	LivenessInitialDelaySeconds int32
}

// Resources are requests and limits as Kubernetes quantities ("100m",
// "256Mi"). An empty field takes the default.
type Resources struct {
	CPURequest    string
	CPULimit      string
	MemoryRequest string
	MemoryLimit   string
}

// Defaults.
var (
	// DefaultAppResources suit a small Node.js service. The CPU limit is
	// there because many clusters' policies refuse pods without one.
	DefaultAppResources = Resources{CPURequest: "100m", CPULimit: "1", MemoryRequest: "128Mi", MemoryLimit: "512Mi"}
	// DefaultFetchResources bound aether-fetch: it streams layers, so its
	// memory does not grow with the artifact.
	DefaultFetchResources = Resources{CPURequest: "100m", CPULimit: "1", MemoryRequest: "64Mi", MemoryLimit: "256Mi"}
)

// Default sizes and counts.
const (
	DefaultWorkspaceSize           = "1Gi"
	DefaultTmpSize                 = "64Mi"
	DefaultProgressDeadlineSeconds = 120
	DefaultRevisionHistoryLimit    = 5
	DefaultServicePort             = 80
)
