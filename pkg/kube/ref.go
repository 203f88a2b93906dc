package kube

import (
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
)

// maxRefLen bounds an artifact reference: real ones are far shorter, and
// the reference ends up in a pod's args and annotations.
const maxRefLen = 1024

// parsePinned checks that ref is REPOSITORY@sha256:HEX and returns its
// canonical form (a tag next to the digest is dropped: the digest wins)
// and the digest.
func parsePinned(ref string) (canonical, digest string, err error) {
	if ref == "" {
		return "", "", fmt.Errorf("artifact reference is empty; want REPOSITORY@sha256:DIGEST")
	}
	if len(ref) > maxRefLen {
		return "", "", fmt.Errorf("artifact reference is %d bytes, more than %d", len(ref), maxRefLen)
	}
	if !strings.Contains(ref, "@") {
		return "", "", fmt.Errorf("artifact reference %q is not pinned by digest; pods pull only by digest: use REPOSITORY@sha256:DIGEST (`aether push` prints it)", ref)
	}
	d, err := name.NewDigest(ref)
	if err != nil {
		return "", "", fmt.Errorf("artifact reference %q is not REPOSITORY@sha256:DIGEST: %v", ref, err)
	}
	if !strings.HasPrefix(d.DigestStr(), "sha256:") {
		return "", "", fmt.Errorf("artifact reference %q uses digest algorithm %q; aether artifacts are addressed by sha256", ref, strings.SplitN(d.DigestStr(), ":", 2)[0])
	}
	return d.Context().Name() + "@" + d.DigestStr(), d.DigestStr(), nil
}

// PinnedRef joins a repository reference (which may carry a tag, or the
// same digest) and a digest into REPOSITORY@DIGEST, the only form Render
// accepts. The control plane records both halves of a deployment; this
// puts them back together without trusting the tag.
func PinnedRef(ref, digest string) (string, error) {
	if digest == "" {
		return "", fmt.Errorf("no digest for %q: a deployment runs only a resolved digest", ref)
	}
	r, err := name.ParseReference(ref)
	if err != nil {
		return "", fmt.Errorf("artifact reference %q: %v", ref, err)
	}
	if d, ok := r.(name.Digest); ok && d.DigestStr() != digest {
		return "", fmt.Errorf("artifact reference %q names digest %s, not %s", ref, d.DigestStr(), digest)
	}
	canonical, _, err := parsePinned(r.Context().Name() + "@" + digest)
	return canonical, err
}
