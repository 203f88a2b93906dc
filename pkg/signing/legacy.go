package signing

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/sigstore/sigstore/pkg/signature"
	"oras.land/oras-go/v2/errdef"

	"github.com/aetherengine/aether/pkg/referrers"
)

// The legacy cosign format (cosign before v3, and v3 with
// --new-bundle-format=false): a manifest tagged `sha256-<hex>.sig` whose
// layers are simplesigning payloads signed in an annotation, and one
// tagged `sha256-<hex>.att` whose layers are DSSE envelopes.
const (
	// LegacySignatureSuffix and LegacyAttestationSuffix end the tags.
	LegacySignatureSuffix   = ".sig"
	LegacyAttestationSuffix = ".att"
	// LegacySimpleSigningMediaType is a .sig layer's media type.
	LegacySimpleSigningMediaType = "application/vnd.dev.cosign.simplesigning.v1+json"
	// LegacyDSSEMediaType is a .att layer's media type.
	LegacyDSSEMediaType = "application/vnd.dsse.envelope.v1+json"
	// AnnotationLegacySignature holds a .sig layer's base64 signature.
	AnnotationLegacySignature = "dev.cosignproject.cosign/signature"
	// legacySignatureType is the simplesigning critical.type cosign writes.
	legacySignatureType = "cosign container image signature"
	// maxLegacyLayerBytes bounds a simplesigning payload (a few hundred
	// bytes in practice).
	maxLegacyLayerBytes = 1 << 20
)

// legacyCandidates reads the `.sig` and `.att` tags of subject, if any.
func (v *Verifier) legacyCandidates(ctx context.Context, repo Repository, subject ocispec.Descriptor) ([]*candidate, error) {
	var out []*candidate
	for _, suffix := range []string{LegacySignatureSuffix, LegacyAttestationSuffix} {
		tag := subject.Digest.Algorithm().String() + "-" + subject.Digest.Encoded() + suffix
		desc, err := repo.Resolve(ctx, tag)
		if err != nil {
			if errors.Is(err, errdef.ErrNotFound) {
				continue
			}
			return nil, fmt.Errorf("resolve legacy cosign tag %s: %w", tag, err)
		}
		ref := tag + "@" + desc.Digest.String()
		m, _, err := referrers.FetchManifest(ctx, repo, desc, 0)
		if err != nil {
			if !contentProblem(err) {
				return nil, err
			}
			out = append(out, &candidate{ref: ref, format: "legacy", parseErr: err, predicateType: legacyHint(suffix)})
			continue
		}
		for i, l := range m.Layers {
			lref := fmt.Sprintf("%s (layer %d)", ref, i)
			var c *candidate
			switch l.MediaType {
			case LegacySimpleSigningMediaType:
				c = &candidate{ref: lref, format: "legacy", predicateType: PredicateSignature}
			case LegacyDSSEMediaType:
				c = &candidate{ref: lref, format: "legacy", predicateType: l.Annotations["predicateType"]}
			default:
				continue
			}
			data, err := referrers.FetchBlob(ctx, repo, l, v.legacyLayerBytes(l.MediaType))
			if err != nil {
				if !contentProblem(err) {
					return nil, err
				}
				c.parseErr = err
			} else if l.MediaType == LegacySimpleSigningMediaType {
				c.parseErr = parseSimpleSigning(c, data, l.Annotations[AnnotationLegacySignature])
			} else {
				c.parseErr = parseLegacyDSSE(c, data)
			}
			out = append(out, c)
		}
	}
	return out, nil
}

func (v *Verifier) legacyLayerBytes(mediaType string) int64 {
	if mediaType == LegacyDSSEMediaType {
		return v.maxBundleBytes()
	}
	return maxLegacyLayerBytes
}

func legacyHint(suffix string) string {
	if suffix == LegacySignatureSuffix {
		return PredicateSignature
	}
	return "legacy attestation"
}

// simpleSigning is the payload cosign signs in the legacy format.
type simpleSigning struct {
	Critical struct {
		Identity struct {
			DockerReference string `json:"docker-reference"`
		} `json:"identity"`
		Image struct {
			DockerManifestDigest string `json:"docker-manifest-digest"`
		} `json:"image"`
		Type string `json:"type"`
	} `json:"critical"`
}

// parseSimpleSigning fills c from a simplesigning payload and its base64
// signature; the payload's docker-manifest-digest becomes the subject.
func parseSimpleSigning(c *candidate, payload []byte, sigB64 string) error {
	var ss simpleSigning
	if err := json.Unmarshal(payload, &ss); err != nil {
		return fmt.Errorf("simplesigning payload is not JSON: %v", err)
	}
	if ss.Critical.Type != legacySignatureType {
		return fmt.Errorf("simplesigning type %q, want %q", ss.Critical.Type, legacySignatureType)
	}
	d, err := digest.Parse(ss.Critical.Image.DockerManifestDigest)
	if err != nil {
		return fmt.Errorf("simplesigning docker-manifest-digest %q: %v", ss.Critical.Image.DockerManifestDigest, err)
	}
	sig, err := base64.StdEncoding.DecodeString(sigB64)
	if err != nil || len(sig) == 0 {
		return fmt.Errorf("annotation %s is not a base64 signature", AnnotationLegacySignature)
	}
	c.statement = &Statement{Type: "simplesigning", PredicateType: PredicateSignature,
		Subject: []Subject{{Name: ss.Critical.Identity.DockerReference, Digest: map[string]string{d.Algorithm().String(): d.Encoded()}}}}
	c.verifyKey = func(k PublicKey) error { return verifyRaw(k, sig, payload) }
	return nil
}

// dsseEnvelope is a DSSE envelope as JSON.
type dsseEnvelope struct {
	PayloadType string `json:"payloadType"`
	Payload     string `json:"payload"`
	Signatures  []struct {
		KeyID string `json:"keyid"`
		Sig   string `json:"sig"`
	} `json:"signatures"`
}

// parseLegacyDSSE fills c from a legacy attestation layer.
func parseLegacyDSSE(c *candidate, data []byte) error {
	var env dsseEnvelope
	if err := json.Unmarshal(data, &env); err != nil {
		return fmt.Errorf("DSSE envelope is not JSON: %v", err)
	}
	if env.PayloadType != InTotoPayloadType {
		return fmt.Errorf("DSSE payloadType %q, want %s", env.PayloadType, InTotoPayloadType)
	}
	payload, err := base64.StdEncoding.DecodeString(env.Payload)
	if err != nil {
		return fmt.Errorf("DSSE payload is not base64: %v", err)
	}
	st, err := ParseStatement(payload)
	if err != nil {
		return err
	}
	var sigs [][]byte
	for _, s := range env.Signatures {
		if b, err := base64.StdEncoding.DecodeString(s.Sig); err == nil && len(b) > 0 {
			sigs = append(sigs, b)
		}
	}
	if len(sigs) == 0 || len(sigs) > 16 {
		return fmt.Errorf("DSSE envelope has %d usable signatures, want 1 to 16", len(sigs))
	}
	c.statement = st
	c.predicateType = st.PredicateType
	pae := PAE(env.PayloadType, payload)
	c.verifyKey = func(k PublicKey) error {
		var err error
		for _, s := range sigs {
			if err = verifyRaw(k, s, pae); err == nil {
				return nil
			}
		}
		return err
	}
	return nil
}

// PAE is DSSE's pre-authentication encoding, what a DSSE signature signs.
func PAE(payloadType string, payload []byte) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "DSSEv1 %d %s %d ", len(payloadType), payloadType, len(payload))
	b.Write(payload)
	return b.Bytes()
}

func verifyRaw(k PublicKey, sig, msg []byte) error {
	v, err := signature.LoadDefaultVerifier(k.Key)
	if err != nil {
		return err
	}
	return v.VerifySignature(bytes.NewReader(sig), bytes.NewReader(msg))
}
