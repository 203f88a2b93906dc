package service

import (
	"strings"
	"testing"
	"time"

	"github.com/aetherengine/aether/pkg/api"
)

const (
	pemA = `-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE8nXRh950IZbRj8Ra/N9sbqOPZrfM
5/KAQN0/KjHcorm/J5yctVd7iEcnessRQjU917hmKO6JWVGHpDguIyakZA==
-----END PUBLIC KEY-----
`
	pemB = `-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEqPNWcCg+zsBkdRg3h9VGT38DFZ4f
Rv2cTVck1bDBZ2b0E2Y0jJxTgWr0/BPQaEtYrwuYZKeoT1pZ4XzQ+V64GQ==
-----END PUBLIC KEY-----
`
)

func TestValidateTrust(t *testing.T) {
	none := []string{}
	both := []string{api.AttestationProvenance, api.AttestationSBOM, api.AttestationProvenance}
	later := time.Date(2030, 1, 1, 0, 0, 0, 0, time.FixedZone("x", 3600))
	tests := []struct {
		name    string
		in      api.TrustPolicyUpdate
		wantErr string
		check   func(t *testing.T, p api.TrustPolicy)
	}{
		{"defaults: SBOM required, key named by fingerprint", api.TrustPolicyUpdate{Keys: []api.TrustedKey{{PEM: pemA}}}, "", func(t *testing.T, p api.TrustPolicy) {
			if len(p.RequiredAttestations) != 1 || p.RequiredAttestations[0] != api.AttestationSBOM {
				t.Errorf("required = %v", p.RequiredAttestations)
			}
			if !strings.HasPrefix(p.Keys[0].Name, "key-") || len(p.Keys[0].Name) != 16 {
				t.Errorf("default name = %q", p.Keys[0].Name)
			}
		}},
		{"explicitly none required", api.TrustPolicyUpdate{Keys: []api.TrustedKey{{PEM: pemA}}, RequiredAttestations: &none}, "", func(t *testing.T, p api.TrustPolicy) {
			if p.RequiredAttestations == nil || len(p.RequiredAttestations) != 0 {
				t.Errorf("required = %#v, want empty", p.RequiredAttestations)
			}
		}},
		{"duplicates dropped, retire time in UTC", api.TrustPolicyUpdate{Keys: []api.TrustedKey{{Name: "a", PEM: pemA, RetiresAt: &later}, {Name: " b ", PEM: pemB}}, RequiredAttestations: &both}, "", func(t *testing.T, p api.TrustPolicy) {
			if len(p.RequiredAttestations) != 2 || p.Keys[1].Name != "b" || p.Keys[0].RetiresAt.Location() != time.UTC || !p.Keys[0].RetiresAt.Equal(later) {
				t.Errorf("policy = %+v", p)
			}
		}},
		{"two keys with one name", api.TrustPolicyUpdate{Keys: []api.TrustedKey{{Name: "a", PEM: pemA}, {Name: "a", PEM: pemB}}}, "unique", nil},
		{"two PEM blocks in one key", api.TrustPolicyUpdate{Keys: []api.TrustedKey{{PEM: pemA + pemB}}}, "more than one PEM block", nil},
		{"not a key", api.TrustPolicyUpdate{Keys: []api.TrustedKey{{PEM: "hello"}}}, "not a PEM", nil},
		{"a private key block", api.TrustPolicyUpdate{Keys: []api.TrustedKey{{PEM: strings.ReplaceAll(pemA, "PUBLIC", "PRIVATE")}}}, "not a PEM", nil},
		{"unknown attestation", api.TrustPolicyUpdate{RequiredAttestations: &[]string{"spdx"}}, "not one of sbom, provenance", nil},
		{"name on two lines", api.TrustPolicyUpdate{Keys: []api.TrustedKey{{Name: "a\nb", PEM: pemA}}}, "one line", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := validateTrust(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, p)
		})
	}
}

func TestValidateRef(t *testing.T) {
	for ref, ok := range map[string]bool{
		"ghcr.io/acme/app:v1": true,
		"127.0.0.1:5000/app@sha256:" + strings.Repeat("a", 64): true,
		"ghcr.io/acme/app":                false, // no tag or digest
		"app:v1":                          false, // no registry
		"ghcr.io/Acme/app:v1":             false,
		"ghcr.io/acme/app:v1 extra":       false,
		"ghcr.io/acme/app@sha256:short":   false,
		"":                                false,
		strings.Repeat("a", 600) + "/x:1": false,
	} {
		if err := validateRef(ref); (err == nil) != ok {
			t.Errorf("validateRef(%q) = %v, want ok=%v", ref, err, ok)
		}
	}
}

// FuzzValidateTrust: an API body's keys and attestations never panic the
// validation, and what passes is what the verifier can use.
func FuzzValidateTrust(f *testing.F) {
	f.Add("a", pemA, "sbom", "2030-01-01T00:00:00Z")
	f.Add("", pemA+pemB, "provenance", "")
	f.Add("x", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", "", "bad")
	f.Fuzz(func(t *testing.T, name, pemText, attestation, retires string) {
		u := api.TrustPolicyUpdate{Keys: []api.TrustedKey{{Name: name, PEM: pemText}}, RequiredAttestations: &[]string{attestation}}
		if at, err := time.Parse(time.RFC3339, retires); err == nil {
			u.Keys[0].RetiresAt = &at
		}
		p, err := validateTrust(u)
		if err != nil {
			return
		}
		if len(p.Keys) != 1 || p.Keys[0].Name == "" || p.RequiredAttestations == nil {
			t.Fatalf("accepted policy %+v", p)
		}
	})
}

// FuzzValidateRef: references from API bodies never panic the check.
func FuzzValidateRef(f *testing.F) {
	for _, s := range []string{"ghcr.io/a/b:v1", "h:1/a@sha256:00", "[::1]:5000/x:y", "a", "a/b@", "a/b:c@d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, ref string) {
		if validateRef(ref) == nil && (ref == "" || len(ref) > maxRefLen) {
			t.Fatalf("validateRef accepted %q", ref)
		}
	})
}
