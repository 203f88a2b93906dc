package service

import (
	"crypto/x509"
	"encoding/pem"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/aetherengine/aether/controlplane/admission"
	"github.com/aetherengine/aether/controlplane/apierr"
	"github.com/aetherengine/aether/controlplane/store"
	"github.com/aetherengine/aether/pkg/api"
	"github.com/aetherengine/aether/pkg/registry"
)

// Bounds on what one request may carry.
const (
	maxEnvVars      = 128
	maxEnvKeyLen    = 256
	maxEnvValueLen  = 32 << 10
	maxRefLen       = 512
	maxKeyNameLen   = 128
	maxScopeApps    = 256
	maxTrustedKeys  = 32
	maxPEMLen       = 16 << 10
	maxPolicyString = 512
)

// dnsLabel is an RFC 1123 label, what Kubernetes accepts as a name.
var (
	dnsLabel = regexp.MustCompile(`^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$`)
	envName  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

func validateName(what, name string) error {
	if !dnsLabel.MatchString(name) {
		return apierr.Invalid("%s %q is not valid: use 1-63 lowercase letters, digits and '-', starting with a letter and ending with a letter or digit", what, truncate(name))
	}
	return nil
}

func validateEnv(env map[string]string) error {
	if len(env) > maxEnvVars {
		return apierr.Invalid("env has %d variables; at most %d are allowed", len(env), maxEnvVars)
	}
	for k, v := range env {
		if len(k) > maxEnvKeyLen || !envName.MatchString(k) {
			return apierr.Invalid("env variable name %q is not valid: use letters, digits and '_', not starting with a digit", truncate(k))
		}
		if len(v) > maxEnvValueLen {
			return apierr.Invalid("env variable %s is %d bytes; at most %d are allowed", k, len(v), maxEnvValueLen)
		}
	}
	return nil
}

func validateRef(ref string) error {
	switch {
	case ref == "":
		return apierr.Invalid("artifact is empty; pass an OCI reference such as registry.example.com/team/app@sha256:… or :tag")
	case len(ref) > maxRefLen:
		return apierr.Invalid("artifact reference is %d characters; at most %d are allowed", len(ref), maxRefLen)
	case strings.ContainsAny(ref, " \t\r\n") || !utf8.ValidString(ref):
		return apierr.Invalid("artifact reference %q contains whitespace or invalid UTF-8", truncate(ref))
	}
	r, err := registry.ParseReference(ref)
	if err != nil {
		return apierr.Invalid("artifact %q is not an OCI reference: want REGISTRY/REPOSITORY:TAG or REGISTRY/REPOSITORY@sha256:DIGEST", truncate(ref))
	}
	if r.Reference == "" {
		return apierr.Invalid("artifact %q names no tag or digest; add :TAG or @sha256:DIGEST (the server resolves a tag once and pins the digest)", truncate(ref))
	}
	return nil
}

func validateKeyCreate(req api.APIKeyCreate) error {
	if strings.TrimSpace(req.Name) == "" || len(req.Name) > maxKeyNameLen || !utf8.ValidString(req.Name) {
		return apierr.Invalid("key name must be 1-%d characters of text", maxKeyNameLen)
	}
	if !req.Role.Valid() {
		return apierr.Invalid("role %q is not one of admin, deployer, viewer", truncate(string(req.Role)))
	}
	if req.Role == api.RoleAdmin {
		if len(req.Apps) > 0 {
			return apierr.Invalid("admin keys cover every app; leave apps empty")
		}
		return nil
	}
	if len(req.Apps) == 0 {
		return apierr.Invalid("a %s key needs the apps it may act on: list app names, or [\"*\"] for every app", req.Role)
	}
	if len(req.Apps) > maxScopeApps {
		return apierr.Invalid("a key may be scoped to at most %d apps", maxScopeApps)
	}
	for _, a := range req.Apps {
		if a == api.AllApps {
			continue
		}
		if err := validateName("app", a); err != nil {
			return err
		}
	}
	return nil
}

// validateTrust checks a trust policy and fills its defaults: a key
// without a name is named after its fingerprint, names are unique (records
// and messages say which key verified an artifact), and absent required
// attestations mean the SBOM.
func validateTrust(u api.TrustPolicyUpdate) (api.TrustPolicy, error) {
	p := api.TrustPolicy{BuilderID: u.BuilderID, SourceRepo: u.SourceRepo, Keys: []api.TrustedKey{}}
	if len(u.Keys) > maxTrustedKeys {
		return p, apierr.Invalid("a trust policy takes at most %d keys", maxTrustedKeys)
	}
	names := map[string]bool{}
	for i, k := range u.Keys {
		if len(k.PEM) > maxPEMLen || len(k.Name) > maxKeyNameLen {
			return p, apierr.Invalid("keys[%d] is too large", i)
		}
		block, rest := pem.Decode([]byte(k.PEM))
		if block == nil || block.Type != "PUBLIC KEY" {
			return p, apierr.Invalid("keys[%d] is not a PEM \"PUBLIC KEY\" block; pass the cosign.pub file's contents", i)
		}
		if next, _ := pem.Decode(rest); next != nil {
			return p, apierr.Invalid("keys[%d] holds more than one PEM block; give each key its own entry (and name)", i)
		}
		if _, err := x509.ParsePKIXPublicKey(block.Bytes); err != nil {
			return p, apierr.Invalid("keys[%d] is not a valid public key: %v", i, err)
		}
		k.Name = strings.TrimSpace(k.Name)
		if k.Name == "" {
			k.Name = admission.DefaultKeyName(k.PEM)
		}
		if !utf8.ValidString(k.Name) || strings.ContainsAny(k.Name, "\r\n") {
			return p, apierr.Invalid("keys[%d] name is not one line of text", i)
		}
		if names[k.Name] {
			return p, apierr.Invalid("two keys are named %q; key names must be unique", truncate(k.Name))
		}
		names[k.Name] = true
		if k.RetiresAt != nil {
			t := k.RetiresAt.UTC()
			k.RetiresAt = &t
		}
		p.Keys = append(p.Keys, k)
	}
	if u.RequiredAttestations == nil {
		p.RequiredAttestations = []string{api.AttestationSBOM}
	} else {
		seen := map[string]bool{}
		p.RequiredAttestations = []string{}
		for _, a := range *u.RequiredAttestations {
			if a != api.AttestationSBOM && a != api.AttestationProvenance {
				return p, apierr.Invalid("required attestation %q is not one of sbom, provenance", truncate(a))
			}
			if !seen[a] {
				seen[a] = true
				p.RequiredAttestations = append(p.RequiredAttestations, a)
			}
		}
	}
	if len(u.BuilderID) > maxPolicyString || len(u.SourceRepo) > maxPolicyString {
		return p, apierr.Invalid("builder_id and source_repo are at most %d characters", maxPolicyString)
	}
	return p, nil
}

func validatePage(p store.Page) error {
	if p.Limit < 0 || p.Limit > store.MaxLimit {
		return apierr.Invalid("limit must be between 1 and %d", store.MaxLimit)
	}
	return nil
}

// truncate shortens untrusted input quoted back in a message.
func truncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
