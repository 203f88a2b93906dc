package kube

import "github.com/aetherengine/aether/pkg/version"

// Names, paths and keys the rendered objects share with the applier, the
// watcher, aether-fetch and the docs.
const (
	// FieldManager owns every field the applier sets (server-side apply).
	FieldManager = "aether-controlplane"
	// ManagedBy is the app.kubernetes.io/managed-by label's value.
	ManagedBy = "aether"

	// FetchContainer and AppContainer are the pod's container names.
	FetchContainer = "fetch"
	AppContainer   = "app"

	// WorkspaceDir is where the workspace emptyDir is mounted. The
	// artifact is extracted into AppDir, a directory inside it, because
	// aether-fetch publishes with an atomic rename, which a mount point
	// cannot be the target of.
	WorkspaceDir = "/workspace"
	// AppDir is the extracted artifact: the app container's working dir.
	AppDir = WorkspaceDir + "/app"
	// TmpDir is the small writable emptyDir both containers get.
	TmpDir = "/tmp"
	// RegistryConfigDir holds the registry Secret's Docker config file.
	RegistryConfigDir = "/var/run/aether/registry"
	// RegistryConfigFile is the Docker config file aether-fetch reads.
	RegistryConfigFile = RegistryConfigDir + "/.dockerconfigjson"
	// KeysDir holds the trust keys ConfigMap's files.
	KeysDir = "/var/run/aether/keys"

	// AnnotationDigest records the artifact digest on the Deployment and
	// its pod template; a new digest changes the template, which rolls the
	// pods.
	AnnotationDigest = "aether.dev/artifact-digest"
	// AnnotationDeploymentID records the control plane's deployment id.
	AnnotationDeploymentID = "aether.dev/deployment-id"
	// AnnotationTrustKeys is the SHA-256 of the trust keys, so that a key
	// change rolls the pods even for the same digest.
	AnnotationTrustKeys = "aether.dev/trust-keys-sha256"

	// LabelName, LabelInstance, LabelManagedBy and LabelVersion are the
	// recommended app.kubernetes.io labels.
	LabelName      = "app.kubernetes.io/name"
	LabelInstance  = "app.kubernetes.io/instance"
	LabelManagedBy = "app.kubernetes.io/managed-by"
	LabelVersion   = "app.kubernetes.io/version"

	// DefaultFetchRepository is where the project publishes aether-fetch.
	DefaultFetchRepository = "ghcr.io/aetherengine/aether-fetch"

	// unprivilegedID is the `node` user and group of the stock Node.js
	// images. Both containers run as it, so the files aether-fetch
	// extracts belong to the user that runs the app.
	unprivilegedID int64 = 1000
)

// DefaultFetchImage is the aether-fetch image matching this build's
// version, so a control plane deploys with the fetcher it was released with.
func DefaultFetchImage() string {
	return DefaultFetchRepository + ":" + version.String()
}

// TrustKeysConfigMapName is the name of an app's trust keys ConfigMap.
func TrustKeysConfigMapName(app string) string { return app + "-trust-keys" }

// selectorLabels are the labels that pick an app's pods; they never change
// over the app's life (a Deployment's selector is immutable).
func selectorLabels(app string) map[string]string {
	return map[string]string{
		LabelName:     app,
		LabelInstance: app,
	}
}

// listSelector selects everything the renderer made for app: the
// Deployment, its ReplicaSets and pods, the Service and the ConfigMap.
func listSelector(app string) string {
	return LabelInstance + "=" + app + "," + LabelManagedBy + "=" + ManagedBy
}
