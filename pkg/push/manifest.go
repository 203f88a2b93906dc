package push

import (
	"context"
	"encoding/json"
	"fmt"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"
)

// maxManifestBytes bounds a manifest read from a layout.
const maxManifestBytes = 4 << 20

func fetchManifest(ctx context.Context, src oras.ReadOnlyTarget, desc ocispec.Descriptor) (*ocispec.Manifest, error) {
	if desc.Size > maxManifestBytes {
		return nil, fmt.Errorf("manifest %s is %d bytes, over the %d-byte limit", desc.Digest, desc.Size, maxManifestBytes)
	}
	b, err := content.FetchAll(ctx, src, desc)
	if err != nil {
		return nil, err
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("manifest %s: %w", desc.Digest, err)
	}
	return &m, nil
}
