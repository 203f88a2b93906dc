package sbom

import (
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"slices"
	"strings"

	cdx "github.com/CycloneDX/cyclonedx-go"
)

// sriAlgorithms maps Subresource Integrity algorithm names (what npm writes
// in `integrity`) to CycloneDX names and digest sizes.
var sriAlgorithms = map[string]struct {
	alg  cdx.HashAlgorithm
	size int
}{
	"sha512": {cdx.HashAlgoSHA512, sha512.Size},
	"sha384": {cdx.HashAlgoSHA384, sha512.Size384},
	"sha256": {cdx.HashAlgoSHA256, sha256.Size},
	"sha1":   {cdx.HashAlgoSHA1, sha1.Size},
}

// integrityHashes turns an SRI string ("sha512-BASE64 sha1-BASE64", each
// optionally followed by "?options") into CycloneDX hashes with hex content,
// sorted and without duplicates. Tokens with an unknown algorithm or a digest
// of the wrong length are left out rather than guessed at: the SBOM must not
// claim a hash nobody computed.
func integrityHashes(sri string) []cdx.Hash {
	var out []cdx.Hash
	for _, tok := range strings.Fields(sri) {
		tok, _, _ = strings.Cut(tok, "?")
		name, b64, ok := strings.Cut(tok, "-")
		if !ok {
			continue
		}
		a, known := sriAlgorithms[name]
		if !known {
			continue
		}
		sum, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			sum, err = base64.RawStdEncoding.DecodeString(b64)
		}
		if err != nil || len(sum) != a.size {
			continue
		}
		out = append(out, cdx.Hash{Algorithm: a.alg, Value: hex.EncodeToString(sum)})
	}
	return sortHashes(out)
}

// sortHashes orders hashes by algorithm then value and drops duplicates.
func sortHashes(h []cdx.Hash) []cdx.Hash {
	slices.SortFunc(h, func(a, b cdx.Hash) int {
		if c := strings.Compare(string(a.Algorithm), string(b.Algorithm)); c != 0 {
			return c
		}
		return strings.Compare(a.Value, b.Value)
	})
	return slices.Compact(h)
}
