// Package admission decides whether an artifact may be deployed: resolve
// the reference to a digest once, discover its referrers, verify signature,
// SBOM and provenance against the app's trust policy. The verifier itself
// comes with the admission work; this package fixes the interface the
// control plane calls and a placeholder that verifies nothing.
package admission

import (
	"context"
	"regexp"
	"strings"

	"github.com/aetherengine/aether/pkg/api"
)

// Request is one artifact to admit for one app.
type Request struct {
	App api.App
	// Ref is what the client asked for: a tag or digest reference.
	Ref string
}

// Result is what admission found.
type Result struct {
	// Digest pins the deployment; empty when the admitter did not resolve it.
	Digest string
	// Deferred means the admitter verified nothing: the deployment stays
	// pending until a real admitter handles it.
	Deferred bool
	// Artifact is the verified artifact record (size, verification), when
	// Deferred is false.
	Artifact *api.Artifact
}

// Admitter admits or refuses an artifact. A refusal is an error carrying a
// reason code (apierr.Rejected with api.Reason…); infrastructure failures
// are other errors.
type Admitter interface {
	Admit(ctx context.Context, req Request) (Result, error)
}

// Placeholder is the admitter used until verification exists: it verifies
// NOTHING, takes the digest from a digest reference if there is one, and
// leaves the deployment pending.
type Placeholder struct{}

var digestRef = regexp.MustCompile(`@(sha256:[a-f0-9]{64})$`)

// Admit defers every request.
func (Placeholder) Admit(_ context.Context, req Request) (Result, error) {
	r := Result{Deferred: true}
	if m := digestRef.FindStringSubmatch(strings.TrimSpace(req.Ref)); m != nil {
		r.Digest = m[1]
	}
	return r, nil
}

// Defers reports that the placeholder verifies nothing.
func (Placeholder) Defers() bool { return true }
