// Package signing signs artifacts and verifies them the way the stock
// cosign v3 CLI does, so that `cosign verify` accepts what we sign and we
// accept what cosign signs.
//
// A signature or attestation is a Sigstore bundle v0.3 whose DSSE envelope
// carries an in-toto statement about the artifact's digest, attached to
// the artifact as an OCI 1.1 referrer (pkg/referrers). Keys are cosign key
// files. The Verifier lists the referrers (bounded), checks each bundle
// against a Policy's keys, decides on the signed predicateType (an SBOM
// attestation is never a signature) and explains every refusal with a
// Reason. The legacy cosign format (`.sig`/`.att` tags) is verified too.
// docs/signing.md records the format as measured with cosign v3.1.3.
package signing
