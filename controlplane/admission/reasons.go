package admission

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/errdef"

	"github.com/aetherengine/aether/controlplane/apierr"
	"github.com/aetherengine/aether/pkg/api"
	"github.com/aetherengine/aether/pkg/referrers"
	"github.com/aetherengine/aether/pkg/registry"
	"github.com/aetherengine/aether/pkg/signing"
)

// maxMessage bounds a refusal's message: it quotes registry answers.
const maxMessage = 2000

// signingReasons maps the verifier's reasons to the API's codes.
var signingReasons = map[signing.Reason]string{
	signing.ReasonRegistryUnreachable: api.ReasonRegistryUnreachable,
	signing.ReasonTooManyReferrers:    api.ReasonTooManyReferrers,
	signing.ReasonSubjectMismatch:     api.ReasonSubjectMismatch,
	signing.ReasonBundleInvalid:       api.ReasonBundleInvalid,
	signing.ReasonUntrustedKey:        api.ReasonUntrustedKey,
	signing.ReasonUnsigned:            api.ReasonUnsigned,
	signing.ReasonSBOMMissing:         api.ReasonSBOMMissing,
	signing.ReasonSBOMInvalid:         api.ReasonSBOMInvalid,
	signing.ReasonProvenanceMissing:   api.ReasonProvenanceMissing,
	signing.ReasonProvenanceMismatch:  api.ReasonProvenanceMismatch,
}

// refusal is what went wrong in one admission, for the mapping to a code.
type refusal struct {
	ref     string
	host    string
	timeout time.Duration
	trace   *trace
	budget  int64
}

// verdict maps the verifier's answer to a 422: its reason code, and a
// message that says what to do and lists every failure.
func (r refusal) verdict(err error) *apierr.Error {
	var ve *signing.Error
	if !errors.As(err, &ve) {
		return r.registryError(err)
	}
	code, ok := signingReasons[ve.Reason()]
	if !ok {
		code = api.ReasonRegistryUnreachable
	}
	if code == api.ReasonRegistryUnreachable {
		// The verifier keeps only the text of why it could not read the
		// referrers; the trace knows whether the guard refused a
		// connection or the budget ran out.
		if e := r.fromTrace(); e != nil {
			return e
		}
	}
	var b strings.Builder
	first := ve.Failures[0].Message
	if !strings.Contains(first, ve.Digest.String()) {
		fmt.Fprintf(&b, "artifact %s was refused: ", ve.Digest)
	}
	b.WriteString(first)
	if len(ve.Failures) > 1 {
		b.WriteString(" (also:")
		for i, f := range ve.Failures[1:] {
			if i > 0 {
				b.WriteString(";")
			}
			fmt.Fprintf(&b, " %s: %s", f.Reason, f.Message)
		}
		b.WriteString(")")
	}
	return apierr.Rejected(code, "%s", clean(b.String()))
}

// fromTrace explains a failure by what the transport saw: a refused
// connection, a spent byte budget, or the time-out.
func (r refusal) fromTrace() *apierr.Error {
	if r.trace == nil {
		return nil
	}
	_, bytes, refused, over := r.trace.snapshot()
	switch {
	case refused != nil:
		return apierr.Rejected(api.ReasonRegistryNotAllowed, "registry %s: %s", r.host, clean(refused.Error()))
	case over:
		return apierr.Rejected(api.ReasonArtifactInvalid,
			"registry %s sent more than %d bytes for this artifact's manifest and referrers (read %d); the server stops there. Remove stale signatures and attestations from the repository",
			r.host, r.budget, bytes)
	}
	return nil
}

// registryError maps a failure to talk to the registry.
func (r refusal) registryError(err error) *apierr.Error {
	if e := r.fromTrace(); e != nil {
		return e
	}
	msg := clean(err.Error())
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return apierr.Rejected(api.ReasonRegistryUnreachable,
			"registry %s did not finish answering within %s; check that it is up, or raise the server's --registry-timeout (%s)", r.host, r.timeout, msg)
	case errors.Is(err, errdef.ErrSizeExceedsLimit), errors.Is(err, referrers.ErrTooLarge):
		return apierr.Rejected(api.ReasonArtifactInvalid, "registry %s: %s; the server does not read larger metadata", r.host, msg)
	case errors.Is(err, content.ErrMismatchedDigest), errors.Is(err, content.ErrTrailingData):
		return apierr.Rejected(api.ReasonDigestMismatch, "registry %s served content that does not match its digest: %s", r.host, msg)
	case errors.Is(err, referrers.ErrInvalidManifest):
		return apierr.Rejected(api.ReasonArtifactInvalid, "registry %s: %s", r.host, msg)
	}
	explained := registry.Explain(err, r.host)
	msg = clean(explained.Error())
	switch {
	case errors.Is(explained, registry.ErrNotFound):
		return apierr.Rejected(api.ReasonArtifactNotFound, "%s is not in registry %s; push the artifact first (aether push) or check the reference", r.ref, r.host)
	case errors.Is(explained, registry.ErrUnauthorized):
		return apierr.Rejected(api.ReasonRegistryRefused,
			"registry %s refused the control plane's credentials: %s. The server reads them from the Docker config file given by --registry-config / AETHER_REGISTRY_CONFIG; add a pull credential for %s there", r.host, clean(err.Error()), r.host)
	case errors.Is(explained, registry.ErrRefused):
		return apierr.Rejected(api.ReasonRegistryRefused, "%s", msg)
	}
	return apierr.Rejected(api.ReasonRegistryUnreachable, "cannot read from registry %s: %s", r.host, msg)
}

// query strings of registry URLs (signed blob redirects) may carry tokens.
var queryString = regexp.MustCompile(`\?[^\s"']*`)

// clean removes query strings and bounds the length of a message that
// quotes registry answers.
func clean(s string) string {
	s = queryString.ReplaceAllString(s, "?…")
	if len(s) > maxMessage {
		s = s[:maxMessage] + "…"
	}
	return s
}
