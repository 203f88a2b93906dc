package referrers

import (
	"context"
	"errors"
	"fmt"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/errdef"
	"oras.land/oras-go/v2/registry/remote"
)

// Options bound and filter List.
type Options struct {
	// ArtifactType keeps only referrers of this artifactType ("" keeps all).
	ArtifactType string
	// MaxReferrers is the bound on the referrers read, before filtering;
	// more is an ErrTooManyReferrers error. Zero means DefaultMaxReferrers.
	MaxReferrers int
	// MaxManifestBytes bounds the referrer manifests List reads when a
	// registry misreports a referrer's artifactType (see List). Zero means
	// DefaultMaxManifestBytes.
	MaxManifestBytes int64
}

// List returns the referrers of subject, through the referrers API where
// the registry has it and the tag-schema index where it has not (oras-go
// decides and remembers which). It stops with ErrTooManyReferrers as soon
// as more than opts.MaxReferrers have been seen, so a hostile registry
// cannot make it read without end; pages and page sizes are bounded by the
// repository (see Limit).
//
// The artifactType filter is applied here, not by the registry: some
// registries (go-containerregistry's, for one) report the config media
// type as a referrer's artifactType, which for an OCI 1.1 artifact is the
// empty config. For such a referrer List reads its manifest (bounded) and
// uses, and returns, the manifest's own artifactType.
func List(ctx context.Context, repo Target, subject ocispec.Descriptor, opts Options) ([]ocispec.Descriptor, error) {
	if err := subject.Digest.Validate(); err != nil {
		return nil, fmt.Errorf("list referrers: subject digest %q: %w", subject.Digest, err)
	}
	max := opts.MaxReferrers
	if max <= 0 {
		max = DefaultMaxReferrers
	}
	var all []ocispec.Descriptor
	err := repo.Referrers(ctx, subject, "", func(page []ocispec.Descriptor) error {
		for _, d := range page {
			if len(all) >= max {
				return fmt.Errorf("%s has more than %d referrers: %w", subject.Digest, max, ErrTooManyReferrers)
			}
			all = append(all, d)
		}
		return nil
	})
	if errors.Is(err, errdef.ErrTooManyPages) || errors.Is(err, errdef.ErrSizeExceedsLimit) {
		// A registry paging without end, or answering a list larger than
		// the metadata bound, costs as much as one with too many
		// referrers, and gets the same answer.
		err = fmt.Errorf("%v: %w", err, ErrTooManyReferrers)
	}
	if err != nil {
		return nil, fmt.Errorf("list referrers of %s: %w", subject.Digest, err)
	}
	out := make([]ocispec.Descriptor, 0, len(all))
	for _, d := range all {
		// A referrer described with a bad digest can never be fetched and
		// checked; dropping it here keeps callers simple.
		if d.Digest.Validate() != nil {
			continue
		}
		if misreported(d) && d.MediaType == ocispec.MediaTypeImageManifest {
			m, _, err := FetchManifest(ctx, repo, d, opts.MaxManifestBytes)
			if err != nil {
				return nil, fmt.Errorf("list referrers of %s: read referrer to learn its artifactType: %w", subject.Digest, err)
			}
			d.ArtifactType = m.ArtifactType
			if d.ArtifactType == "" {
				d.ArtifactType = m.Config.MediaType
			}
		}
		if opts.ArtifactType != "" && d.ArtifactType != opts.ArtifactType {
			continue
		}
		out = append(out, d)
	}
	return out, nil
}

// misreported tells a referrer whose artifactType the registry cannot have
// taken from the manifest: an OCI 1.1 manifest with the empty config must
// carry its own artifactType.
func misreported(d ocispec.Descriptor) bool {
	return d.ArtifactType == "" || d.ArtifactType == ocispec.MediaTypeEmptyJSON
}

// Limit sets the bounds of a remote repository that oras-go enforces itself
// and leaves unset (unbounded) by default: the bytes of any metadata
// answer (referrers page, referrers index, manifest) and the number of
// referrers API pages. Values already set are kept.
func Limit(repo *remote.Repository) *remote.Repository {
	if repo.MaxMetadataBytes <= 0 {
		repo.MaxMetadataBytes = DefaultMaxManifestBytes
	}
	if repo.ReferrerListMaxPages <= 0 {
		repo.ReferrerListMaxPages = DefaultMaxPages
	}
	return repo
}
