// Package artifact is the contract of an AetherEngine Node.js artifact: the
// media types, annotations and config schema that `aether build` writes and
// that every reader (aether-fetch, the control plane, stock OCI tools) relies
// on. Changing anything here is a format change: bump the version suffix.
package artifact

import (
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Media types and artifact type of format version 1.
const (
	// ArtifactType is the manifest's artifactType for a Node.js app.
	ArtifactType = "application/vnd.aetherengine.nodejs.app.v1"
	// ConfigMediaType is the media type of the config blob (a Config, JSON).
	ConfigMediaType = "application/vnd.aetherengine.nodejs.config.v1+json"
	// LayerMediaType is the media type of both layers: ordinary gzipped tars,
	// so that `crane export` and `oras pull` can read them.
	LayerMediaType = ocispec.MediaTypeImageLayerGzip
	// ManifestMediaType is the OCI image manifest media type.
	ManifestMediaType = ocispec.MediaTypeImageManifest
	// SBOMMediaType is the media type of a CycloneDX JSON document.
	SBOMMediaType = "application/vnd.cyclonedx+json"
	// SBOMArtifactType is the artifactType of the unsigned SBOM referrer that
	// `aether build` writes into the layout next to the artifact.
	SBOMArtifactType = SBOMMediaType
)

// Annotation keys.
const (
	// AnnotationLayerRole marks a layer as RoleDependencies or RoleApp.
	AnnotationLayerRole = "dev.aetherengine.layer.role"
	// AnnotationAppName and AnnotationAppVersion carry package.json's name and
	// version on the manifest.
	AnnotationAppName    = "dev.aetherengine.app.name"
	AnnotationAppVersion = "dev.aetherengine.app.version"
	// AnnotationDepsKey is the dependency cache key the dependency layer was
	// built from (lockfile hash, Node version, platform).
	AnnotationDepsKey = "dev.aetherengine.deps.key"

	// AnnotationORASUnpack and AnnotationORASDigest make `oras pull` unpack a
	// layer into the directory named by its title annotation.
	AnnotationORASUnpack = "io.deis.oras.content.unpack"
	AnnotationORASDigest = "io.deis.oras.content.digest"
)

// Layer roles, in manifest order.
const (
	RoleDependencies = "dependencies"
	RoleApp          = "app"
)

// Layer titles (org.opencontainers.image.title). The dependency layer holds
// node_modules/...; the app layer holds the app's own files at the root, so
// its title is "." and `oras pull` unpacks both into the working directory.
const (
	TitleDependencies = "node_modules"
	TitleApp          = "."
)

// LayoutTag is the tag `aether build` gives the artifact in its OCI layout.
const LayoutTag = "latest"

// ConfigSchemaVersion is the version of Config this package writes.
const ConfigSchemaVersion = 1

// Config is the artifact's config blob. It records what the runtime needs
// (Node version, start command, port) and what an audit needs (every file of
// both layers, with its SHA-256, and how it was built).
type Config struct {
	SchemaVersion int     `json:"schemaVersion"`
	Runtime       Runtime `json:"runtime"`
	App           App     `json:"app"`
	Build         Build   `json:"build"`
	// Layers describes the manifest's layers, in the same order.
	Layers []LayerInfo `json:"layers"`
}

// Runtime is what runs the artifact.
type Runtime struct {
	// Name is "nodejs".
	Name string `json:"name"`
	// Version is the full Node.js version the dependencies were installed
	// with, without the leading "v" (e.g. "20.20.2").
	Version string `json:"version"`
	// Platform is GOOS/GOARCH-style "linux/amd64": native addons differ per
	// platform.
	Platform string `json:"platform"`
}

// App is what the runtime needs to start the app.
type App struct {
	Name    string `json:"name,omitempty"`
	Version string `json:"version,omitempty"`
	// Command is the start command as argv (e.g. ["node", "server.js"]).
	Command []string `json:"command"`
	// Port is the TCP port the app listens on (passed to it as PORT).
	Port int `json:"port"`
}

// Build records how the artifact was made.
type Build struct {
	// Tool is the builder, e.g. "aether/v0.1.0".
	Tool string `json:"tool"`
	// LockfileDigest is the sha256 digest of package-lock.json.
	LockfileDigest string `json:"lockfileDigest"`
	// DepsKey is the dependency cache key.
	DepsKey string `json:"depsKey"`
	// Created is the fixed timestamp written into every tar entry (RFC 3339).
	Created string `json:"created"`
}

// LayerInfo describes one layer and every entry in it.
type LayerInfo struct {
	Role string `json:"role"`
	// DiffID is the sha256 digest of the uncompressed tar.
	DiffID string `json:"diffID"`
	// Size is the sum of regular file sizes in the layer.
	Size  int64       `json:"size"`
	Files []FileEntry `json:"files"`
}

// FileEntry is one tar entry of a layer. Directories are not listed.
type FileEntry struct {
	Path string `json:"path"`
	// Mode is the permission bits as written into the tar (0644, 0755, 0777
	// for symlinks).
	Mode uint32 `json:"mode"`
	Size int64  `json:"size,omitempty"`
	// SHA256 is the hex SHA-256 of a regular file's content.
	SHA256 string `json:"sha256,omitempty"`
	// Link is a symlink's target (relative, inside the tree).
	Link string `json:"link,omitempty"`
}
