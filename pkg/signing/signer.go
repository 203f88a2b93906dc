package signing

import (
	"bytes"
	"context"
	"crypto"
	"fmt"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/sigstore/sigstore/pkg/signature/options"
)

// Signer signs bundles: it signs the DSSE pre-authentication encoding and
// says how a verifier finds the key. Kinds of identity differ only in
// these two answers, so Sign and Attest need no change for them:
//
//   - a key file (NewKeySigner): the signature, and a public-key hint;
//     verifiers hold the public key;
//   - a KMS key (later): the signature from sigstore's kms
//     SignerVerifier, and the same kind of hint;
//   - keyless in CI (later): an ephemeral key, and the Fulcio
//     certificate for it obtained with the CI's OIDC token; such a signer
//     also needs a Rekor entry or a signed timestamp added to the bundle,
//     which is what sigstore-go's sign package does. (That package is not
//     used here: it pulls in a transparency-log client that depends on
//     cobra, which pkg/ must not.)
type Signer interface {
	// SignPAE signs the DSSE pre-authentication encoding of the payload.
	SignPAE(ctx context.Context, pae []byte) ([]byte, error)
	// VerificationMaterial is what the bundle tells a verifier about the
	// key: a public key hint, or a certificate.
	VerificationMaterial(ctx context.Context) (*protobundle.VerificationMaterial, error)
}

// KeySigner signs with a private key held in memory (a cosign.key file).
// It writes the same bundles as `cosign sign --key`: the key's default
// sigstore algorithm (ECDSA P-256 with SHA-256 for cosign keys) and a
// public-key hint of base64(SHA-256(PKIX)).
type KeySigner struct {
	sv   signature.SignerVerifier
	pub  crypto.PublicKey
	alg  signature.AlgorithmDetails
	hint string
}

// NewKeySigner wraps a private key (see LoadPrivateKey).
func NewKeySigner(priv crypto.Signer) (*KeySigner, error) {
	pub := priv.Public()
	alg, err := signature.GetDefaultAlgorithmDetails(pub)
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	sv, err := signature.LoadSignerVerifierFromAlgorithmDetails(priv, alg)
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	return &KeySigner{sv: sv, pub: pub, alg: alg, hint: keyHint(pub)}, nil
}

// PublicKey returns the public key, as cosign.pub holds it once
// PEM-encoded with MarshalPublicKey.
func (k *KeySigner) PublicKey() crypto.PublicKey { return k.pub }

// Algorithm is the key's sigstore signing algorithm.
func (k *KeySigner) Algorithm() protocommon.PublicKeyDetails { return k.alg.GetSignatureAlgorithm() }

// SignPAE signs pae, hashing it first with the algorithm's hash (Ed25519
// signs the message itself).
func (k *KeySigner) SignPAE(ctx context.Context, pae []byte) ([]byte, error) {
	opts := []signature.SignOption{options.WithContext(ctx)}
	if h := k.alg.GetHashType(); h != crypto.Hash(0) {
		hh := h.New()
		hh.Write(pae)
		opts = append(opts, options.WithDigest(hh.Sum(nil)))
	}
	sig, err := k.sv.SignMessage(bytes.NewReader(pae), opts...)
	if err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	return sig, nil
}

// VerificationMaterial names the public key by its hint, which is what
// works offline: no certificate, log entry or timestamp.
func (k *KeySigner) VerificationMaterial(context.Context) (*protobundle.VerificationMaterial, error) {
	return &protobundle.VerificationMaterial{
		Content: &protobundle.VerificationMaterial_PublicKey{
			PublicKey: &protocommon.PublicKeyIdentifier{Hint: k.hint},
		},
	}, nil
}

var _ Signer = (*KeySigner)(nil)
