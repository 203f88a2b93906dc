package admission

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"slices"
	"time"

	"github.com/aetherengine/aether/pkg/api"
	"github.com/aetherengine/aether/pkg/signing"
)

// DefaultKeyName names a trusted key that was given without a name: "key-"
// and the first 12 hex digits of the SHA-256 of its PKIX encoding, stable
// across policy edits and the same in every record it appears in.
func DefaultKeyName(pemText string) string {
	block, _ := pem.Decode([]byte(pemText))
	if block == nil {
		return "key"
	}
	sum := sha256.Sum256(block.Bytes)
	return "key-" + hex.EncodeToString(sum[:6])
}

// signingPolicy turns an app's trust policy into the verifier's.
func signingPolicy(p api.TrustPolicy) (signing.Policy, error) {
	sp := signing.Policy{
		RequireSBOM:       slices.Contains(p.RequiredAttestations, api.AttestationSBOM),
		RequireProvenance: slices.Contains(p.RequiredAttestations, api.AttestationProvenance),
		BuilderID:         p.BuilderID,
		SourceRepo:        p.SourceRepo,
	}
	for i, k := range p.Keys {
		name := k.Name
		if name == "" {
			name = DefaultKeyName(k.PEM)
		}
		ks, err := signing.ParsePublicKeys(name, []byte(k.PEM))
		if err != nil {
			return sp, fmt.Errorf("trust policy key %d (%s): %w", i, name, err)
		}
		for _, pk := range ks {
			if k.RetiresAt != nil {
				pk.RetiredAt = *k.RetiresAt
			}
			sp.Keys = append(sp.Keys, pk)
		}
	}
	return sp, nil
}

// policyHash is a hash of what the policy decides with.
func policyHash(p api.TrustPolicy) string {
	b, _ := json.Marshal(struct {
		Keys     []api.TrustedKey
		Required []string
		Builder  string
		Source   string
	}{p.Keys, p.RequiredAttestations, p.BuilderID, p.SourceRepo})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// nextRetirement is the earliest retirement of a policy key after now, or
// the zero time: a cached verification must not outlive it.
func nextRetirement(p api.TrustPolicy, now time.Time) time.Time {
	var next time.Time
	for _, k := range p.Keys {
		if k.RetiresAt != nil && k.RetiresAt.After(now) && (next.IsZero() || k.RetiresAt.Before(next)) {
			next = *k.RetiresAt
		}
	}
	return next
}
