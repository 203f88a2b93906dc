package api

import "strings"

// PinnedRef returns REGISTRY/REPOSITORY@DIGEST for a reference (tag or
// digest) and the digest admission resolved it to, or "" when digest is
// empty. It is what a runtime pulls: the tag is gone, so moving it later
// changes nothing.
func PinnedRef(ref, digest string) string {
	if digest == "" {
		return ""
	}
	return Repository(ref) + "@" + digest
}

// Repository strips the tag and digest of a reference: REGISTRY/REPOSITORY.
func Repository(ref string) string {
	if i := strings.IndexByte(ref, '@'); i >= 0 {
		ref = ref[:i]
	}
	// A ':' after the last '/' starts a tag; one before it is a port.
	if i := strings.LastIndexByte(ref, ':'); i > strings.LastIndexByte(ref, '/') {
		ref = ref[:i]
	}
	return ref
}

// Pinned is the deployment's artifact by digest (see PinnedRef).
func (d Deployment) Pinned() string { return PinnedRef(d.ArtifactRef, d.Digest) }
