package referrers

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/errdef"
)

// Blob is one layer of a referrer.
type Blob struct {
	MediaType   string
	Data        []byte
	Annotations map[string]string
}

// Attach pushes blobs and an OCI 1.1 image manifest with the empty config,
// artifactType and subject, and returns the manifest's descriptor. On a
// registry without the referrers API, oras-go updates the tag-schema index
// of the subject as part of the push.
//
// The subject is reduced to mediaType, digest and size, as the image spec
// asks; annotations are the manifest's (org.opencontainers.image.created is
// added when absent).
func Attach(ctx context.Context, repo Target, subject ocispec.Descriptor, artifactType string, blobs []Blob, annotations map[string]string) (ocispec.Descriptor, error) {
	if artifactType == "" {
		return ocispec.Descriptor{}, errors.New("attach: artifactType is required for a referrer with the empty config")
	}
	if err := subject.Digest.Validate(); err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("attach: subject digest %q: %w", subject.Digest, err)
	}
	if subject.MediaType == "" || subject.Size <= 0 {
		return ocispec.Descriptor{}, fmt.Errorf("attach: subject %s needs a mediaType and a size (resolve it on the registry first)", subject.Digest)
	}
	if len(blobs) > MaxLayers {
		return ocispec.Descriptor{}, fmt.Errorf("attach: %d blobs, at most %d", len(blobs), MaxLayers)
	}
	layers := make([]ocispec.Descriptor, 0, len(blobs))
	for i, b := range blobs {
		if b.MediaType == "" {
			return ocispec.Descriptor{}, fmt.Errorf("attach: blob %d has no media type", i)
		}
		desc := content.NewDescriptorFromBytes(b.MediaType, b.Data)
		desc.Annotations = b.Annotations
		if err := pushIfAbsent(ctx, repo, desc, b.Data); err != nil {
			return ocispec.Descriptor{}, fmt.Errorf("attach: push blob %d (%s): %w", i, desc.Digest, err)
		}
		layers = append(layers, desc)
	}
	subj := ocispec.Descriptor{MediaType: subject.MediaType, Digest: subject.Digest, Size: subject.Size}
	desc, err := oras.PackManifest(ctx, repo, oras.PackManifestVersion1_1, artifactType, oras.PackManifestOptions{
		Subject:             &subj,
		Layers:              layers,
		ManifestAnnotations: annotations,
	})
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("attach %s to %s: %w", artifactType, subject.Digest, err)
	}
	return desc, nil
}

// pushIfAbsent skips blobs the registry already has (the empty config, a
// re-attached SBOM).
func pushIfAbsent(ctx context.Context, repo Target, desc ocispec.Descriptor, data []byte) error {
	ok, err := repo.Exists(ctx, desc)
	if err != nil {
		return err
	}
	if ok {
		return nil
	}
	err = repo.Push(ctx, desc, bytes.NewReader(data))
	if errors.Is(err, errdef.ErrAlreadyExists) {
		return nil
	}
	return err
}
