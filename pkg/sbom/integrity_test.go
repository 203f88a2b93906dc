package sbom

import (
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"slices"
	"testing"

	cdx "github.com/CycloneDX/cyclonedx-go"
)

func TestIntegrityHashes(t *testing.T) {
	s512 := sha512.Sum512([]byte("x"))
	s384 := sha512.Sum384([]byte("x"))
	s256 := sha256.Sum256([]byte("x"))
	s1 := sha1.Sum([]byte("x"))
	b64 := base64.StdEncoding.EncodeToString
	h := func(alg cdx.HashAlgorithm, sum []byte) cdx.Hash {
		return cdx.Hash{Algorithm: alg, Value: hex.EncodeToString(sum)}
	}
	tests := []struct {
		name, sri string
		want      []cdx.Hash
	}{
		{"sha512", "sha512-" + b64(s512[:]), []cdx.Hash{h(cdx.HashAlgoSHA512, s512[:])}},
		{"every algorithm, sorted", "sha512-" + b64(s512[:]) + " sha1-" + b64(s1[:]) + "\tsha384-" + b64(s384[:]) + " sha256-" + b64(s256[:]),
			[]cdx.Hash{h(cdx.HashAlgoSHA1, s1[:]), h(cdx.HashAlgoSHA256, s256[:]), h(cdx.HashAlgoSHA384, s384[:]), h(cdx.HashAlgoSHA512, s512[:])}},
		{"options ignored", "sha256-" + b64(s256[:]) + "?foo", []cdx.Hash{h(cdx.HashAlgoSHA256, s256[:])}},
		{"unpadded base64", "sha1-" + base64.RawStdEncoding.EncodeToString(s1[:]), []cdx.Hash{h(cdx.HashAlgoSHA1, s1[:])}},
		{"duplicates dropped", "sha1-" + b64(s1[:]) + " sha1-" + b64(s1[:]), []cdx.Hash{h(cdx.HashAlgoSHA1, s1[:])}},
		{"wrong length", "sha512-" + b64(s256[:]), nil},
		{"bad base64", "sha512-!!!!", nil},
		{"unknown algorithm", "md5-" + b64(s1[:16]), nil},
		{"no dash", "sha512", nil},
		{"empty", "", nil},
		{"bad token next to a good one", "sha512-xx sha1-" + b64(s1[:]), []cdx.Hash{h(cdx.HashAlgoSHA1, s1[:])}},
	}
	for _, tt := range tests {
		if got := integrityHashes(tt.sri); !slices.Equal(got, tt.want) {
			t.Errorf("%s: integrityHashes = %v, want %v", tt.name, got, tt.want)
		}
	}
}
