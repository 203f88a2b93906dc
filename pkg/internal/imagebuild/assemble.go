package main

import (
	"context"
	"fmt"
	"maps"
	"os"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// OCI annotation keys (image-spec annotations.md).
const (
	annCreated     = "org.opencontainers.image.created"
	annSource      = "org.opencontainers.image.source"
	annRevision    = "org.opencontainers.image.revision"
	annVersion     = "org.opencontainers.image.version"
	annTitle       = "org.opencontainers.image.title"
	annDescription = "org.opencontainers.image.description"
	annLicenses    = "org.opencontainers.image.licenses"
	annVendor      = "org.opencontainers.image.vendor"
	annBaseName    = "org.opencontainers.image.base.name"
	annBaseDigest  = "org.opencontainers.image.base.digest"
	annRefName     = "org.opencontainers.image.ref.name"
)

// binDir is where the command goes in the image.
const binDir = "/usr/local/bin"

// descriptions are the images' org.opencontainers.image.description.
var descriptions = map[string]string{
	"aether-controlplane": "AetherEngine control plane: records apps and deployments, verifies artifacts and runs them",
	"aether-fetch":        "AetherEngine init container: pulls an artifact by digest, verifies it and extracts it",
}

// release is what every image of one build says about itself.
type release struct {
	Version  string
	Revision string
	Source   string
	Created  time.Time
}

// annotations is the OCI annotation set of image name: on the index, on
// each manifest and, as labels, in each config (where `docker inspect`
// and scanners look).
func (r release) annotations(name string, base *baseSource) map[string]string {
	a := map[string]string{
		annCreated:    r.Created.UTC().Format(time.RFC3339),
		annVersion:    r.Version,
		annTitle:      name,
		annLicenses:   "Apache-2.0",
		annVendor:     "AetherEngine",
		annBaseSource: base.Name,
	}
	if base.Ref != "" {
		a[annBaseName] = base.Ref
	}
	if d := descriptions[name]; d != "" {
		a[annDescription] = d
	}
	if r.Source != "" {
		a[annSource] = r.Source
	}
	if r.Revision != "" {
		a[annRevision] = r.Revision
	}
	maps.Copy(a, base.Annotations)
	return a
}

// platformImage is one platform's image of a command, with the binary it
// was built from.
type platformImage struct {
	Platform v1.Platform
	Image    v1.Image
	Binary   string
}

// imageFor builds one platform's image: the base, plus one layer holding
// the binary, run as the nonroot user.
func imageFor(ctx context.Context, name, binary string, p v1.Platform, base *baseSource, r release) (v1.Image, error) {
	data, err := os.ReadFile(binary)
	if err != nil {
		return nil, err
	}
	layer, err := layerFromFiles([]file{
		{Name: "/usr", Dir: true, Mode: 0o755},
		{Name: "/usr/local", Dir: true, Mode: 0o755},
		{Name: binDir, Dir: true, Mode: 0o755},
		{Name: binDir + "/" + name, Mode: 0o755, Data: data},
	}, r.Created)
	if err != nil {
		return nil, fmt.Errorf("%s layer: %w", name, err)
	}
	baseImg, err := base.Image(ctx, p)
	if err != nil {
		return nil, err
	}
	baseDigest, err := baseImg.Digest()
	if err != nil {
		return nil, err
	}
	img, err := mutate.Append(baseImg, mutate.Addendum{
		Layer:     layer,
		MediaType: types.OCILayer,
		History: v1.History{
			Created:   v1.Time{Time: r.Created},
			CreatedBy: fmt.Sprintf("aether imagebuild: %s/%s (go build -trimpath, CGO_ENABLED=0, %s)", binDir, name, p),
		},
	})
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	anns := r.annotations(name, base)
	cf.Created = v1.Time{Time: r.Created}
	cf.Config.Entrypoint = []string{binDir + "/" + name}
	cf.Config.Cmd = nil
	cf.Config.User = fmt.Sprintf("%d:%d", nonrootUID, nonrootGID)
	if cf.Config.Labels == nil {
		cf.Config.Labels = map[string]string{}
	}
	maps.Copy(cf.Config.Labels, anns)
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, err
	}
	anns[annBaseDigest] = baseDigest.String()
	return annotate(img, anns), nil
}

// indexOf gathers the platform images into one OCI image index carrying
// the same annotations (less the per-platform base digest).
func indexOf(name string, imgs []platformImage, base *baseSource, r release) v1.ImageIndex {
	adds := make([]mutate.IndexAddendum, 0, len(imgs))
	for _, pi := range imgs {
		p := pi.Platform
		adds = append(adds, mutate.IndexAddendum{
			Add:        pi.Image,
			Descriptor: v1.Descriptor{Platform: &p},
		})
	}
	idx := mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex), adds...)
	return mutate.Annotations(idx, r.annotations(name, base)).(v1.ImageIndex)
}

// imageSize is what pulling img transfers: manifest, config and layers,
// compressed.
func imageSize(img v1.Image) (int64, error) {
	m, err := img.Manifest()
	if err != nil {
		return 0, err
	}
	raw, err := img.RawManifest()
	if err != nil {
		return 0, err
	}
	n := int64(len(raw)) + m.Config.Size
	for _, l := range m.Layers {
		n += l.Size
	}
	return n, nil
}
