package fetch

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/aetherengine/aether/pkg/artifact"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Bounds on what the registry may send before a single layer byte is read.
const (
	// DefaultMaxManifestBytes bounds the manifest: ours is about 1 KiB.
	DefaultMaxManifestBytes = 4 << 20
	// DefaultMaxConfigBytes bounds the config blob, which lists every file
	// with its digest (~100-150 bytes a file): 32 MiB fits ~250k files and
	// keeps the decoded list well inside the init container's 256 MiB.
	DefaultMaxConfigBytes = 32 << 20
	// maxLayers bounds the number of layers; an Aether artifact has two.
	maxLayers = 16
)

// errNotAether marks a manifest or config that is not an Aether app.
var errNotAether = errors.New("not an Aether Node.js artifact")

// parseManifest decodes and checks an artifact manifest: an OCI image
// manifest with our artifactType (when set) and config media type, and
// between 1 and maxLayers gzip layers with sha256 digests. contentType is
// the registry's Content-Type, used when the manifest omits mediaType.
func parseManifest(b []byte, contentType string, maxConfig int64) (*v1.Manifest, error) {
	var m v1.Manifest
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("%w: the manifest is not valid JSON: %v", errNotAether, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: the manifest has data after its JSON object", errNotAether)
	}
	mt := m.MediaType
	if mt == "" {
		mt = types.MediaType(strings.TrimSpace(strings.Split(contentType, ";")[0]))
	}
	switch {
	case m.SchemaVersion != 2:
		return nil, fmt.Errorf("%w: manifest schemaVersion is %d, want 2", errNotAether, m.SchemaVersion)
	case mt == types.OCIImageIndex || mt == types.DockerManifestList:
		return nil, fmt.Errorf("%w: the reference names an image index (%s), not an artifact manifest", errNotAether, mt)
	case mt != artifact.ManifestMediaType:
		return nil, fmt.Errorf("%w: manifest media type is %q, want %q", errNotAether, mt, artifact.ManifestMediaType)
	case m.ArtifactType != "" && m.ArtifactType != artifact.ArtifactType:
		return nil, fmt.Errorf("%w: artifactType is %q, want %q", errNotAether, m.ArtifactType, artifact.ArtifactType)
	case m.Config.MediaType != artifact.ConfigMediaType:
		return nil, fmt.Errorf("%w: config media type is %q, want %q (is this a container image?)", errNotAether, m.Config.MediaType, artifact.ConfigMediaType)
	case m.Config.Digest.Algorithm != "sha256":
		return nil, fmt.Errorf("%w: the config has no sha256 digest", errNotAether)
	case m.Config.Size <= 0 || m.Config.Size > maxConfig:
		return nil, fmt.Errorf("config blob size %d is outside 1..%d bytes", m.Config.Size, maxConfig)
	case len(m.Layers) == 0 || len(m.Layers) > maxLayers:
		return nil, fmt.Errorf("%w: the manifest has %d layers, want 1..%d", errNotAether, len(m.Layers), maxLayers)
	}
	for i, l := range m.Layers {
		switch {
		case l.MediaType != artifact.LayerMediaType:
			return nil, fmt.Errorf("%w: layers[%d] media type is %q, want %q", errNotAether, i, l.MediaType, artifact.LayerMediaType)
		case l.Digest.Algorithm != "sha256":
			return nil, fmt.Errorf("%w: layers[%d] has no sha256 digest", errNotAether, i)
		case l.Size <= 0:
			return nil, fmt.Errorf("layers[%d] has size %d", i, l.Size)
		}
	}
	return &m, nil
}

// decodeConfig decodes the config blob and checks that it describes the
// manifest's layers, with at most maxFiles entries in all.
func decodeConfig(b []byte, m *v1.Manifest, maxFiles int) (*artifact.Config, error) {
	var c artifact.Config
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("%w: the config is not valid JSON: %v", errNotAether, err)
	}
	if c.SchemaVersion != artifact.ConfigSchemaVersion {
		return nil, fmt.Errorf("%w: config schemaVersion is %d, this aether-fetch reads %d (upgrade aether-fetch)", errNotAether, c.SchemaVersion, artifact.ConfigSchemaVersion)
	}
	if len(c.Layers) != len(m.Layers) {
		return nil, fmt.Errorf("the config describes %d layers but the manifest has %d", len(c.Layers), len(m.Layers))
	}
	n := 0
	for i, l := range c.Layers {
		n += len(l.Files)
		if n > maxFiles {
			return nil, fmt.Errorf("the config lists more than %d files", maxFiles)
		}
		if want := m.Layers[i].Annotations[artifact.AnnotationLayerRole]; want != "" && l.Role != want {
			return nil, fmt.Errorf("config layers[%d] has role %q but the manifest says %q", i, l.Role, want)
		}
		for _, f := range l.Files {
			if f.Path == "" || f.Path == "." || f.Path == ".." || path.Clean(f.Path) != f.Path || strings.HasPrefix(f.Path, "/") || strings.HasPrefix(f.Path, "../") {
				return nil, fmt.Errorf("config layers[%d] lists an invalid path %q", i, f.Path)
			}
		}
	}
	return &c, nil
}
