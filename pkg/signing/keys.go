package signing

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sigstore/sigstore/pkg/cryptoutils"
)

// MaxKeyFileBytes bounds a key file we parse: a PEM public key is a few
// hundred bytes, a bundle of rotated keys a few KiB.
const MaxKeyFileBytes = 1 << 20

// GenerateKeyPair makes an ECDSA P-256 key pair in the files `cosign
// generate-key-pair` writes: the private key PKCS#8-encoded, encrypted with
// scrypt + NaCl secretbox under password, in an "ENCRYPTED SIGSTORE PRIVATE
// KEY" PEM block (cosign.key), and the public key as a PKIX "PUBLIC KEY" PEM
// block (cosign.pub). An empty password still encrypts, as cosign does, so
// that either tool can read the key back with the same (empty) password.
func GenerateKeyPair(password []byte) (privPEM, pubPEM []byte, err error) {
	if password == nil {
		password = []byte{}
	}
	privPEM, pubPEM, err = cryptoutils.GeneratePEMEncodedECDSAKeyPair(elliptic.P256(), cryptoutils.StaticPasswordFunc(password))
	if err != nil {
		return nil, nil, fmt.Errorf("generate key pair: %w", err)
	}
	return privPEM, pubPEM, nil
}

// LoadPrivateKey decrypts a cosign.key (ENCRYPTED SIGSTORE PRIVATE KEY or
// the older ENCRYPTED COSIGN PRIVATE KEY) with password; unencrypted PKCS#8,
// SEC 1 and PKCS#1 PEM keys are accepted too. The error never contains the
// password or key material.
func LoadPrivateKey(pemBytes, password []byte) (crypto.Signer, error) {
	if len(pemBytes) > MaxKeyFileBytes {
		return nil, fmt.Errorf("private key file is %d bytes, more than a key can be (%d)", len(pemBytes), MaxKeyFileBytes)
	}
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, errors.New("private key: no PEM block found; expected a cosign.key written by `aether keygen` or `cosign generate-key-pair`")
	}
	if password == nil {
		password = []byte{}
	}
	priv, err := cryptoutils.UnmarshalPEMToPrivateKey(pemBytes, cryptoutils.StaticPasswordFunc(password))
	if err != nil {
		if strings.Contains(block.Type, "ENCRYPTED") {
			return nil, fmt.Errorf("cannot decrypt private key (%s): wrong password? set COSIGN_PASSWORD to the password the key was created with", block.Type)
		}
		return nil, fmt.Errorf("cannot read private key (%s): %v", block.Type, err)
	}
	signer, ok := priv.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("private key of type %T cannot sign", priv)
	}
	switch signer.Public().(type) {
	case *ecdsa.PublicKey, *rsa.PublicKey, ed25519.PublicKey:
	default:
		return nil, fmt.Errorf("unsupported private key type %T: use ECDSA, RSA or Ed25519", signer.Public())
	}
	return signer, nil
}

// PublicKey is a trusted verification key.
type PublicKey struct {
	// Name identifies the key in results and messages (e.g. the file name).
	Name string
	// Key is an *ecdsa.PublicKey, *rsa.PublicKey or ed25519.PublicKey.
	Key crypto.PublicKey
	// RetiredAt, when set, is when the key stopped being trusted: a key that
	// has been rotated out verifies nothing after that instant. Bundles
	// signed offline carry no trusted time, so the check is against the
	// time of verification, not of signing.
	RetiredAt time.Time
}

// ID is the key's fingerprint as sigstore writes it into a bundle's
// publicKey hint: base64 of the SHA-256 of the PKIX DER encoding.
func (k PublicKey) ID() string { return keyHint(k.Key) }

// Retired reports whether the key is no longer trusted at t.
func (k PublicKey) Retired(t time.Time) bool {
	return !k.RetiredAt.IsZero() && !t.Before(k.RetiredAt)
}

// ParsePublicKeys reads every "PUBLIC KEY" PEM block of data (a cosign.pub,
// or several concatenated for rotation) and names them name, name#2, ...
func ParsePublicKeys(name string, data []byte) ([]PublicKey, error) {
	if len(data) > MaxKeyFileBytes {
		return nil, fmt.Errorf("public key file %s is %d bytes, at most %d", name, len(data), MaxKeyFileBytes)
	}
	var keys []PublicKey
	rest := data
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != string(cryptoutils.PublicKeyPEMType) && block.Type != "RSA PUBLIC KEY" {
			continue
		}
		pub, err := cryptoutils.UnmarshalPEMToPublicKey(pem.EncodeToMemory(block))
		if err != nil {
			return nil, fmt.Errorf("public key %d in %s: %v", len(keys)+1, name, err)
		}
		if err := cryptoutils.ValidatePubKey(pub); err != nil {
			return nil, fmt.Errorf("public key %d in %s: %v", len(keys)+1, name, err)
		}
		n := name
		if len(keys) > 0 {
			n = fmt.Sprintf("%s#%d", name, len(keys)+1)
		}
		keys = append(keys, PublicKey{Name: n, Key: pub})
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%s holds no PEM \"PUBLIC KEY\" block; pass the cosign.pub written by `aether keygen` or `cosign generate-key-pair`", name)
	}
	return keys, nil
}

// MarshalPublicKey PEM-encodes a public key as cosign.pub holds it.
func MarshalPublicKey(pub crypto.PublicKey) ([]byte, error) {
	return cryptoutils.MarshalPublicKeyToPEM(pub)
}

func keyHint(pub crypto.PublicKey) string {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(der)
	return base64.StdEncoding.EncodeToString(sum[:])
}
