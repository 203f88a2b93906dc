package clientconfig

import (
	"fmt"

	"github.com/aetherengine/aether/pkg/api"
	"github.com/aetherengine/aether/pkg/signing"
)

// DefaultTrust is the trust policy a command gives an app it creates:
// the config's public key (the one `aether up` generated), with the
// server's default attestations. It is nil when the config names no key.
func DefaultTrust(c Config) (*api.TrustPolicyUpdate, error) {
	if c.PublicKey == "" {
		return nil, nil
	}
	keys, err := signing.LoadPublicKeyFiles(c.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("the CLI config's public_key: %w", err)
	}
	var out []api.TrustedKey
	for _, k := range keys {
		pem, err := signing.MarshalPublicKey(k.Key)
		if err != nil {
			return nil, err
		}
		out = append(out, api.TrustedKey{Name: "aether-up", PEM: string(pem)})
	}
	return &api.TrustPolicyUpdate{Keys: out}, nil
}
