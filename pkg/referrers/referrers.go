// Package referrers attaches artifacts (signatures, SBOMs, provenance) to a
// digest on an OCI registry and lists them back, with bounds on everything a
// registry answers.
//
// It is built on oras-go's remote.Repository, which already speaks both
// referrers paths: a manifest with a subject is pushed as is where the
// registry has the OCI 1.1 referrers API, and the `sha256-<hex>` tag-schema
// fallback index is maintained by the client where it has not (GHCR,
// Docker Hub, distribution). This package adds what oras-go leaves to the
// caller: a bound on the number of referrers, bounded manifest and blob
// reads, manifest validation, and an artifactType filter.
package referrers

import (
	"errors"

	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/registry"
)

// Target is what attaching and listing need from a repository:
// *remote.Repository from oras-go satisfies it.
type Target interface {
	content.Storage
	registry.ReferrerLister
}

// Default bounds. A referrer is a small manifest; signatures and
// attestations are kilobytes, an SBOM of a large Node.js app a few MiB.
const (
	// DefaultMaxReferrers is the number of referrers List returns before it
	// gives up with ErrTooManyReferrers.
	DefaultMaxReferrers = 256
	// DefaultMaxManifestBytes bounds a manifest or referrers index read.
	DefaultMaxManifestBytes int64 = 4 << 20
	// DefaultMaxBlobBytes bounds a referrer's layer read.
	DefaultMaxBlobBytes int64 = 16 << 20
	// DefaultMaxPages bounds how many pages of the referrers API are read,
	// so that a registry answering empty pages with a Link forever stops.
	DefaultMaxPages = 64
	// MaxLayers bounds the layers of a referrer manifest we decode.
	MaxLayers = 64
)

// Errors callers tell apart with errors.Is.
var (
	// ErrTooManyReferrers is returned when a subject has more referrers than
	// the bound; a registry (or an attacker with push rights) could
	// otherwise make every verification read without end.
	ErrTooManyReferrers = errors.New("too many referrers")
	// ErrTooLarge is returned when a manifest or blob is larger than its
	// bound.
	ErrTooLarge = errors.New("content larger than the limit")
	// ErrInvalidManifest is returned for a manifest or index that does not
	// decode or is not a well-formed OCI document.
	ErrInvalidManifest = errors.New("invalid manifest or descriptor")
)
