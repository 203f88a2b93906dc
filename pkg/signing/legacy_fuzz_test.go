package signing

import (
	"os"
	"testing"
)

// FuzzParseLegacy feeds legacy cosign layers (simplesigning payloads and
// DSSE envelopes) to their parsers: no panic, and what is accepted has a
// subject and a verifier.
func FuzzParseLegacy(f *testing.F) {
	for _, p := range []string{"testdata/cosign-v3.1.3/legacy.payload.json", "testdata/cosign-v3.1.3/legacy.att.dsse.json"} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, "MEUCIQCjgedgSUUxKhNfq5/f8TyvQWAovqg9KuVqyDexKkTOqQIgPKj86QJJ+ZzvTGctPE2XUrGXI8OUzfUPomnibv0yync=")
	}
	f.Add([]byte(`{"critical":{"type":"cosign container image signature","image":{"docker-manifest-digest":"sha256:00"}}}`), "")
	f.Fuzz(func(t *testing.T, data []byte, sig string) {
		for _, parse := range []func(*candidate) error{
			func(c *candidate) error { return parseSimpleSigning(c, data, sig) },
			func(c *candidate) error { return parseLegacyDSSE(c, data) },
		} {
			c := &candidate{}
			if err := parse(c); err != nil {
				continue
			}
			if c.statement == nil || len(c.statement.Subject) == 0 || c.verifyKey == nil {
				t.Fatalf("accepted a layer without subject or verifier: %+v", c)
			}
		}
	})
}
