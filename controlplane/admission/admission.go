// Package admission decides whether an artifact may be deployed: resolve
// the reference to a digest once, discover its referrers, verify signature,
// SBOM and provenance against the app's trust policy (RegistryAdmitter).
//
// Registry access is guarded: an allow-list of registries (AllowList), a
// connect-time check of every address against link-local, metadata,
// loopback and private ranges (Guard), time-outs on every call and a byte
// budget per admission (NewTransport). Successful verifications are cached
// per artifact and policy (Cache), so a redeploy costs no registry request.
package admission

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/aetherengine/aether/pkg/api"
)

// Request is one artifact to admit for one app.
type Request struct {
	App api.App
	// Ref is what the client asked for: a tag or digest reference.
	Ref string
	// Note, when set, records a step of the admission as a deployment event
	// (the tag a digest was resolved from, a cache hit…).
	Note func(message string)
}

func (r Request) note(format string, args ...any) {
	if r.Note != nil {
		r.Note(fmt.Sprintf(format, args...))
	}
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
	// Cached reports a verification reused from the cache: no registry
	// request was made (a tag is still resolved).
	Cached bool
	// Summary says, for people, what the verification established.
	Summary string
}

// Admitter admits or refuses an artifact. A refusal is an error carrying a
// reason code (apierr.Rejected with api.Reason…); infrastructure failures
// are other errors.
type Admitter interface {
	Admit(ctx context.Context, req Request) (Result, error)
}

// Placeholder verifies NOTHING: it takes the digest from a digest
// reference if there is one and leaves the deployment pending (never run).
// It is the service's default for tests of other parts; servers use
// RegistryAdmitter.
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
