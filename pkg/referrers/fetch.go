package referrers

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content"
)

// FetchManifest reads the image manifest desc describes, at most maxBytes
// of it (DefaultMaxManifestBytes when zero), checks its digest and decodes
// it with ParseManifest. It returns the raw bytes too, for callers that
// keep them.
func FetchManifest(ctx context.Context, repo content.Fetcher, desc ocispec.Descriptor, maxBytes int64) (ocispec.Manifest, []byte, error) {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxManifestBytes
	}
	if desc.MediaType != ocispec.MediaTypeImageManifest {
		return ocispec.Manifest{}, nil, fmt.Errorf("manifest %s: media type %q, want %s: %w", desc.Digest, desc.MediaType, ocispec.MediaTypeImageManifest, ErrInvalidManifest)
	}
	data, err := fetchBounded(ctx, repo, desc, maxBytes)
	if err != nil {
		return ocispec.Manifest{}, nil, fmt.Errorf("manifest %s: %w", desc.Digest, err)
	}
	m, err := ParseManifest(data)
	if err != nil {
		return ocispec.Manifest{}, nil, fmt.Errorf("manifest %s: %w", desc.Digest, err)
	}
	return m, data, nil
}

// FetchBlob reads the blob desc describes, at most maxBytes of it
// (DefaultMaxBlobBytes when zero), and checks its digest.
func FetchBlob(ctx context.Context, repo content.Fetcher, desc ocispec.Descriptor, maxBytes int64) ([]byte, error) {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBlobBytes
	}
	data, err := fetchBounded(ctx, repo, desc, maxBytes)
	if err != nil {
		return nil, fmt.Errorf("blob %s: %w", desc.Digest, err)
	}
	return data, nil
}

// fetchBounded refuses a descriptor that announces more than maxBytes
// before any request, and reads no more than the announced size, which
// content.ReadAll then checks together with the digest; so neither a lying
// descriptor nor a lying registry can make us hold more than maxBytes.
func fetchBounded(ctx context.Context, repo content.Fetcher, desc ocispec.Descriptor, maxBytes int64) ([]byte, error) {
	if err := desc.Digest.Validate(); err != nil {
		return nil, fmt.Errorf("descriptor digest: %v: %w", err, ErrInvalidManifest)
	}
	if desc.Size < 0 {
		return nil, fmt.Errorf("descriptor size %d: %w", desc.Size, ErrInvalidManifest)
	}
	if desc.Size > maxBytes {
		return nil, fmt.Errorf("size %d exceeds %d bytes: %w", desc.Size, maxBytes, ErrTooLarge)
	}
	rc, err := repo.Fetch(ctx, desc)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return content.ReadAll(io.LimitReader(rc, desc.Size+1), desc)
}

// ParseManifest decodes an OCI image manifest and checks what a referrer
// reader relies on: schemaVersion 2, the image manifest media type when
// one is given, well-formed digests and non-negative sizes, and at most
// MaxLayers layers.
func ParseManifest(data []byte) (ocispec.Manifest, error) {
	var m ocispec.Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return ocispec.Manifest{}, fmt.Errorf("decode: %v: %w", err, ErrInvalidManifest)
	}
	if m.SchemaVersion != 2 {
		return ocispec.Manifest{}, fmt.Errorf("schemaVersion %d, want 2: %w", m.SchemaVersion, ErrInvalidManifest)
	}
	if m.MediaType != "" && m.MediaType != ocispec.MediaTypeImageManifest {
		return ocispec.Manifest{}, fmt.Errorf("mediaType %q, want %s: %w", m.MediaType, ocispec.MediaTypeImageManifest, ErrInvalidManifest)
	}
	if len(m.Layers) > MaxLayers {
		return ocispec.Manifest{}, fmt.Errorf("%d layers, at most %d: %w", len(m.Layers), MaxLayers, ErrInvalidManifest)
	}
	if err := checkDescriptor("config", m.Config); err != nil {
		return ocispec.Manifest{}, err
	}
	for i, l := range m.Layers {
		if err := checkDescriptor(fmt.Sprintf("layer %d", i), l); err != nil {
			return ocispec.Manifest{}, err
		}
	}
	if m.Subject != nil {
		if err := checkDescriptor("subject", *m.Subject); err != nil {
			return ocispec.Manifest{}, err
		}
	}
	return m, nil
}

// ParseIndex decodes an OCI image index such as a referrers answer or a
// tag-schema fallback index, with at most maxEntries manifests
// (DefaultMaxReferrers when zero).
func ParseIndex(data []byte, maxEntries int) (ocispec.Index, error) {
	if maxEntries <= 0 {
		maxEntries = DefaultMaxReferrers
	}
	var idx ocispec.Index
	if err := json.Unmarshal(data, &idx); err != nil {
		return ocispec.Index{}, fmt.Errorf("decode index: %v: %w", err, ErrInvalidManifest)
	}
	if idx.SchemaVersion != 2 {
		return ocispec.Index{}, fmt.Errorf("index schemaVersion %d, want 2: %w", idx.SchemaVersion, ErrInvalidManifest)
	}
	if idx.MediaType != "" && idx.MediaType != ocispec.MediaTypeImageIndex {
		return ocispec.Index{}, fmt.Errorf("index mediaType %q, want %s: %w", idx.MediaType, ocispec.MediaTypeImageIndex, ErrInvalidManifest)
	}
	if len(idx.Manifests) > maxEntries {
		return ocispec.Index{}, fmt.Errorf("index lists %d manifests, at most %d: %w", len(idx.Manifests), maxEntries, ErrTooManyReferrers)
	}
	for i, d := range idx.Manifests {
		if err := checkDescriptor(fmt.Sprintf("manifest %d", i), d); err != nil {
			return ocispec.Index{}, err
		}
	}
	return idx, nil
}

func checkDescriptor(what string, d ocispec.Descriptor) error {
	if d.MediaType == "" {
		return fmt.Errorf("%s has no mediaType: %w", what, ErrInvalidManifest)
	}
	if err := d.Digest.Validate(); err != nil {
		return fmt.Errorf("%s digest %q: %v: %w", what, d.Digest, err, ErrInvalidManifest)
	}
	if d.Size < 0 {
		return fmt.Errorf("%s size %d: %w", what, d.Size, ErrInvalidManifest)
	}
	return nil
}
