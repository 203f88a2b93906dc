package admission

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/errdef"
	"oras.land/oras-go/v2/registry/remote/errcode"

	"github.com/aetherengine/aether/controlplane/apierr"
	"github.com/aetherengine/aether/pkg/api"
	"github.com/aetherengine/aether/pkg/referrers"
	"github.com/aetherengine/aether/pkg/signing"
)

// TestRefusalMapping is the one table from failures to HTTP 422 reason
// codes: every verifier reason, every registry failure, and what the
// transport saw (a refused connection, a spent budget) winning over the
// text a library kept.
func TestRefusalMapping(t *testing.T) {
	const d = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	verdict := func(rs ...signing.Reason) error {
		e := &signing.Error{Digest: d}
		for _, r := range rs {
			e.Failures = append(e.Failures, signing.Failure{Reason: r, Message: "because " + string(r)})
		}
		return fmt.Errorf("verify: %w", e)
	}
	refusedTrace := func() *trace {
		_, tr := withTrace(context.Background(), 0)
		tr.refused = &RefusedError{Host: "evil", Addr: netip.MustParseAddr("169.254.169.254"), Class: ClassMetadata}
		return tr
	}
	overTrace := func() *trace {
		_, tr := withTrace(context.Background(), 10)
		tr.add(11)
		return tr
	}
	status := func(code int) error {
		return &errcode.ErrorResponse{Method: "HEAD", StatusCode: code}
	}
	tests := []struct {
		name  string
		err   error
		trace *trace
		code  string
		// in is a phrase the message must contain.
		in string
	}{
		{"unsigned", verdict(signing.ReasonUnsigned), nil, api.ReasonUnsigned, "because unsigned"},
		{"untrusted key", verdict(signing.ReasonUntrustedKey), nil, api.ReasonUntrustedKey, ""},
		{"subject mismatch first", verdict(signing.ReasonSubjectMismatch, signing.ReasonSBOMMissing), nil, api.ReasonSubjectMismatch, "also: sbom_missing"},
		{"bundle invalid", verdict(signing.ReasonBundleInvalid), nil, api.ReasonBundleInvalid, ""},
		{"sbom missing", verdict(signing.ReasonSBOMMissing), nil, api.ReasonSBOMMissing, ""},
		{"sbom invalid", verdict(signing.ReasonSBOMInvalid), nil, api.ReasonSBOMInvalid, ""},
		{"provenance missing", verdict(signing.ReasonProvenanceMissing), nil, api.ReasonProvenanceMissing, ""},
		{"provenance mismatch", verdict(signing.ReasonProvenanceMismatch), nil, api.ReasonProvenanceMismatch, ""},
		{"too many referrers", verdict(signing.ReasonTooManyReferrers), nil, api.ReasonTooManyReferrers, ""},
		{"verifier could not list", verdict(signing.ReasonRegistryUnreachable), nil, api.ReasonRegistryUnreachable, ""},
		{"verifier could not list: guard refused", verdict(signing.ReasonRegistryUnreachable), refusedTrace(), api.ReasonRegistryNotAllowed, "metadata"},
		{"verifier could not list: budget", verdict(signing.ReasonRegistryUnreachable), overTrace(), api.ReasonArtifactInvalid, "more than 10 bytes"},
		{"resolve refused by the guard", errors.New("dial: whatever"), refusedTrace(), api.ReasonRegistryNotAllowed, "never connects"},
		{"time-out", fmt.Errorf("resolve: %w", context.DeadlineExceeded), nil, api.ReasonRegistryUnreachable, "did not finish answering within 30s"},
		{"not found", fmt.Errorf("resolve: %w", errdef.ErrNotFound), nil, api.ReasonArtifactNotFound, "r.example/app:v1 is not in registry registry.example; push the artifact first"},
		{"404", status(http.StatusNotFound), nil, api.ReasonArtifactNotFound, ""},
		{"401", status(http.StatusUnauthorized), nil, api.ReasonRegistryRefused, "--registry-config"},
		{"403", status(http.StatusForbidden), nil, api.ReasonRegistryRefused, ""},
		{"500", status(http.StatusInternalServerError), nil, api.ReasonRegistryUnreachable, ""},
		{"connection refused", fmt.Errorf("dial tcp: %w", syscall.ECONNREFUSED), nil, api.ReasonRegistryUnreachable, ""},
		{"too large", fmt.Errorf("x: %w", errdef.ErrSizeExceedsLimit), nil, api.ReasonArtifactInvalid, ""},
		{"bounded fetch", fmt.Errorf("x: %w", referrers.ErrTooLarge), nil, api.ReasonArtifactInvalid, ""},
		{"invalid manifest", fmt.Errorf("x: %w", referrers.ErrInvalidManifest), nil, api.ReasonArtifactInvalid, ""},
		{"digest mismatch", fmt.Errorf("x: %w", content.ErrMismatchedDigest), nil, api.ReasonDigestMismatch, ""},
		{"anything else", errors.New("HTTP HEAD request missing required header"), nil, api.ReasonRegistryUnreachable, "missing required header"},
		{"secrets in URLs are not repeated", errors.New("GET https://blob.example/x?X-Amz-Signature=s3cr3t: EOF"), nil, api.ReasonRegistryUnreachable, "blob.example/x?…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := refusal{ref: "r.example/app:v1", host: "registry.example", timeout: 30 * time.Second, trace: tt.trace, budget: 10}
			e := r.verdict(tt.err)
			if e.Kind != apierr.KindRejected || e.Code != tt.code {
				t.Fatalf("verdict(%v) = %v %q, want 422 %q", tt.err, e.Kind, e.Code, tt.code)
			}
			if !slices.Contains(api.Reasons, e.Code) {
				t.Errorf("code %q is not in api.Reasons (the metric's label values)", e.Code)
			}
			if tt.in != "" && !strings.Contains(e.Message, tt.in) {
				t.Errorf("message %q does not contain %q", e.Message, tt.in)
			}
			if strings.Contains(e.Message, "s3cr3t") {
				t.Errorf("message repeats a secret: %q", e.Message)
			}
		})
	}
	// Every verifier reason has an API code.
	for _, r := range []signing.Reason{signing.ReasonRegistryUnreachable, signing.ReasonTooManyReferrers, signing.ReasonSubjectMismatch,
		signing.ReasonBundleInvalid, signing.ReasonUntrustedKey, signing.ReasonUnsigned, signing.ReasonSBOMMissing, signing.ReasonSBOMInvalid,
		signing.ReasonProvenanceMissing, signing.ReasonProvenanceMismatch} {
		if code, ok := signingReasons[r]; !ok || !slices.Contains(api.Reasons, code) {
			t.Errorf("verifier reason %s maps to %q", r, code)
		}
	}
	long := clean(strings.Repeat("x", 3*maxMessage))
	if len(long) > maxMessage+len("…") {
		t.Errorf("clean did not bound the message: %d bytes", len(long))
	}
}
