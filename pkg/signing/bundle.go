package signing

import (
	"context"
	"errors"
	"fmt"
	"time"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protodsse "github.com/sigstore/protobuf-specs/gen/pb-go/dsse"
	sgbundle "github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/verify"
	"github.com/sigstore/sigstore/pkg/signature"
	"google.golang.org/protobuf/encoding/protojson"
)

// The OCI shape cosign v3 gives a bundle referrer (measured with cosign
// v3.1.3, see docs/signing.md).
const (
	// BundleMediaType is both the referrer's artifactType and its single
	// layer's media type.
	BundleMediaType = "application/vnd.dev.sigstore.bundle.v0.3+json"
	// AnnotationBundleContent says what the bundle holds.
	AnnotationBundleContent = "dev.sigstore.bundle.content"
	// AnnotationBundlePredicateType repeats the statement's predicateType
	// on the manifest, so a reader can tell signatures from attestations
	// without fetching the bundle. It is a hint only: the verifier decides
	// on the signed statement.
	AnnotationBundlePredicateType = "dev.sigstore.bundle.predicateType"
	// BundleContentDSSE is the AnnotationBundleContent value for a DSSE
	// envelope.
	BundleContentDSSE = "dsse-envelope"
)

// MaxBundleBytes bounds a bundle we parse. Its DSSE payload is the
// statement in base64, so MaxStatementBytes fits with room to spare.
const MaxBundleBytes = 24 << 20

// NewBundle signs statement (an in-toto statement, see NewStatement) into a
// DSSE envelope and returns the Sigstore bundle v0.3 as JSON: the bytes
// `cosign sign`/`cosign attest` write with a key and no transparency log
// (sigstore-go's sign.Bundle builds the same; the Signer comment says why
// it is not called).
func NewBundle(ctx context.Context, signer Signer, statement []byte) ([]byte, error) {
	sig, err := signer.SignPAE(ctx, PAE(InTotoPayloadType, statement))
	if err != nil {
		return nil, err
	}
	vm, err := signer.VerificationMaterial(ctx)
	if err != nil {
		return nil, fmt.Errorf("verification material: %w", err)
	}
	b := &protobundle.Bundle{
		MediaType:            BundleMediaType,
		VerificationMaterial: vm,
		Content: &protobundle.Bundle_DsseEnvelope{DsseEnvelope: &protodsse.Envelope{
			Payload:     statement,
			PayloadType: InTotoPayloadType,
			Signatures:  []*protodsse.Signature{{Sig: sig}},
		}},
	}
	return protojson.Marshal(b)
}

// Bundle is a parsed Sigstore bundle holding a DSSE envelope with an
// in-toto statement.
type Bundle struct {
	// Statement is the envelope's payload, decoded. It is not trusted until
	// VerifyKey has succeeded.
	Statement *Statement
	// KeyHint is the publicKey hint of the verification material (empty
	// for a certificate).
	KeyHint string
	// Certificate reports a keyless bundle (Fulcio certificate).
	Certificate bool
	// TransparencyLog reports whether the bundle carries Rekor entries
	// (ignored offline, like `cosign verify --insecure-ignore-tlog`).
	TransparencyLog bool

	b *sgbundle.Bundle
}

// ErrBundleInvalid marks a bundle that cannot be parsed or lacks what a
// signature or attestation needs.
var ErrBundleInvalid = errors.New("invalid sigstore bundle")

// ParseBundle decodes a Sigstore bundle (v0.1 to v0.3) of at most
// MaxBundleBytes whose content is a DSSE envelope of an in-toto statement.
func ParseBundle(data []byte) (*Bundle, error) {
	if len(data) > MaxBundleBytes {
		return nil, fmt.Errorf("%w: %d bytes, at most %d", ErrBundleInvalid, len(data), MaxBundleBytes)
	}
	var b sgbundle.Bundle
	if err := b.UnmarshalJSON(data); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBundleInvalid, err)
	}
	env, ok := b.Content.(*protobundle.Bundle_DsseEnvelope)
	if !ok || env.DsseEnvelope == nil {
		return nil, fmt.Errorf("%w: content is not a DSSE envelope (a blob signature cannot sign an artifact statement)", ErrBundleInvalid)
	}
	if pt := env.DsseEnvelope.GetPayloadType(); pt != InTotoPayloadType {
		return nil, fmt.Errorf("%w: DSSE payloadType %q, want %s", ErrBundleInvalid, pt, InTotoPayloadType)
	}
	if len(env.DsseEnvelope.GetSignatures()) == 0 {
		return nil, fmt.Errorf("%w: DSSE envelope has no signature", ErrBundleInvalid)
	}
	st, err := ParseStatement(env.DsseEnvelope.GetPayload())
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBundleInvalid, err)
	}
	vm := b.GetVerificationMaterial()
	out := &Bundle{
		Statement:       st,
		KeyHint:         vm.GetPublicKey().GetHint(),
		Certificate:     vm.GetCertificate() != nil || vm.GetX509CertificateChain() != nil,
		TransparencyLog: len(vm.GetTlogEntries()) > 0,
		b:               &b,
	}
	return out, nil
}

// VerifyKey checks the envelope's signature with key. It proves the
// statement was signed by key; it says nothing yet about which artifact
// or what kind of claim: check Statement.Covers and PredicateType.
func (b *Bundle) VerifyKey(key PublicKey) error {
	if b.Certificate {
		return errors.New("bundle is signed with a certificate (keyless), not a key")
	}
	v, err := signature.LoadDefaultVerifier(key.Key)
	if err != nil {
		return fmt.Errorf("key %s: %w", key.Name, err)
	}
	ek := root.NewExpiringKey(v, time.Time{}, time.Time{})
	material := root.NewTrustedPublicKeyMaterial(func(string) (root.TimeConstrainedVerifier, error) { return ek, nil })
	sev, err := verify.NewVerifier(material, verify.WithNoObserverTimestamps())
	if err != nil {
		return err
	}
	_, err = sev.Verify(b.b, verify.NewPolicy(verify.WithoutArtifactUnsafe(), verify.WithKey()))
	return err
}
