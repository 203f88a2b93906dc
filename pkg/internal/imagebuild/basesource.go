package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// maxIndexDepth bounds how deep nested indexes of a base layout are
// searched for a platform's image.
const maxIndexDepth = 4

// baseSource gives the base image of each platform: the built-in static
// base, an OCI layout on disk, or an image reference in a registry.
type baseSource struct {
	// Name says where the base came from, for people: it is the
	// dev.aetherengine.base.source annotation.
	Name string
	// Ref is the base's image reference, the
	// org.opencontainers.image.base.name annotation; empty when the base
	// has none (built in, or read from a layout).
	Ref string
	// Annotations are copied onto every image built on this base.
	Annotations map[string]string
	image       func(ctx context.Context, p v1.Platform) (v1.Image, error)
}

// Image is the base image for p, checked to be for p.
func (b *baseSource) Image(ctx context.Context, p v1.Platform) (v1.Image, error) {
	img, err := b.image(ctx, p)
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("base %s for %s: reading its config: %w", b.Name, p, err)
	}
	if cf.OS != p.OS || cf.Architecture != p.Architecture {
		return nil, fmt.Errorf("base %s has no %s image (found %s/%s); give a multi-platform base with --base", b.Name, p, cf.OS, cf.Architecture)
	}
	return img, nil
}

// newBaseSource reads --base: empty means the built-in static base (with
// the CA bundle at caPath); a directory holding an oci-layout file is an
// OCI layout; anything else is an image reference.
func newBaseSource(ctx context.Context, base, caPath string, created time.Time) (*baseSource, error) {
	if base == "" {
		ca, err := loadCABundle(ctx, caPath)
		if err != nil {
			return nil, err
		}
		return &baseSource{
			Name:        builtinBaseName,
			Annotations: map[string]string{annCASource: ca.Source, annCADigest: ca.Digest()},
			image: func(_ context.Context, p v1.Platform) (v1.Image, error) {
				return staticBase(ca, p, created)
			},
		}, nil
	}
	if fi, err := os.Stat(filepath.Join(base, "oci-layout")); err == nil && fi.Mode().IsRegular() {
		idx, err := layout.ImageIndexFromPath(base)
		if err != nil {
			return nil, fmt.Errorf("base layout %s: %w", base, err)
		}
		return &baseSource{
			Name: "oci-layout:" + base,
			image: func(_ context.Context, p v1.Platform) (v1.Image, error) {
				img, err := imageForPlatform(idx, p, 0)
				if err != nil {
					return nil, fmt.Errorf("base layout %s: %w", base, err)
				}
				return img, nil
			},
		}, nil
	}
	ref, err := name.ParseReference(base)
	if err != nil {
		return nil, fmt.Errorf("--base %q is neither an OCI layout directory (no oci-layout file in it) nor an image reference: %w", base, err)
	}
	return &baseSource{
		Name: ref.String(),
		Ref:  ref.String(),
		image: func(ctx context.Context, p v1.Platform) (v1.Image, error) {
			img, err := remote.Image(ref, remote.WithContext(ctx), remote.WithPlatform(p), remote.WithAuthFromKeychain(authn.DefaultKeychain))
			if err != nil {
				return nil, fmt.Errorf("base %s: %w", ref, err)
			}
			return img, nil
		},
	}, nil
}

// errNoPlatform says an index holds no image for the platform asked for.
var errNoPlatform = errors.New("no image for the platform")

// imageForPlatform finds p's image in idx, looking into nested indexes (an
// OCI layout's index.json usually points at one multi-platform index).
// Descriptors without a platform are matched by their image's config.
func imageForPlatform(idx v1.ImageIndex, p v1.Platform, depth int) (v1.Image, error) {
	if depth > maxIndexDepth {
		return nil, fmt.Errorf("indexes nested deeper than %d", maxIndexDepth)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, err
	}
	for _, d := range im.Manifests {
		switch {
		case d.MediaType.IsIndex():
			child, err := idx.ImageIndex(d.Digest)
			if err != nil {
				return nil, err
			}
			img, err := imageForPlatform(child, p, depth+1)
			if errors.Is(err, errNoPlatform) {
				continue
			}
			return img, err
		case d.MediaType.IsImage():
			if d.Platform != nil && !d.Platform.Satisfies(p) {
				continue
			}
			img, err := idx.Image(d.Digest)
			if err != nil {
				return nil, err
			}
			cf, err := img.ConfigFile()
			if err != nil {
				return nil, err
			}
			if cf.OS == p.OS && cf.Architecture == p.Architecture {
				return img, nil
			}
		}
	}
	return nil, fmt.Errorf("%w %s", errNoPlatform, p)
}

// annotate sets manifest annotations on img.
func annotate(img v1.Image, anns map[string]string) v1.Image {
	return mutate.Annotations(img, anns).(v1.Image)
}
