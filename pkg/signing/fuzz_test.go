package signing_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/aetherengine/aether/pkg/signing"
)

// FuzzParseBundle feeds registry-served bundles to the parser: it must not
// panic, and a bundle it accepts has a statement with a predicateType and
// a subject, and verifying it with a key never panics.
func FuzzParseBundle(f *testing.F) {
	files, _ := filepath.Glob("testdata/cosign-v3.1.3/*.bundle.json")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(b[:len(b)/2])
	}
	f.Add([]byte(`{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}`))
	f.Add([]byte(`{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","verificationMaterial":{"publicKey":{"hint":"x"}},"dsseEnvelope":{"payload":"e30=","payloadType":"application/vnd.in-toto+json","signatures":[{"sig":"AA=="}]}}`))
	f.Add([]byte(`null`))
	pub := loadFixturePub(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := signing.ParseBundle(data)
		if err != nil {
			return
		}
		if b.Statement == nil || b.Statement.PredicateType == "" || len(b.Statement.Subject) == 0 {
			t.Fatalf("accepted a bundle without a usable statement: %+v", b.Statement)
		}
		_ = b.VerifyKey(pub)
	})
}

// FuzzParseStatement: in-toto statements from DSSE payloads.
func FuzzParseStatement(f *testing.F) {
	f.Add([]byte(`{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"sha256":"2c72e0b7cbbbab4b41504df354d1d0b1b351ed9fce8ee3d68b543500503cde0d"}}],"predicateType":"https://sigstore.dev/cosign/sign/v1","predicate":{}}`))
	f.Add([]byte(`{"_type":"https://in-toto.io/Statement/v0.1","subject":[{"name":"x","digest":{"sha256":"AB"}}],"predicateType":"https://cyclonedx.org/bom","predicate":{"bomFormat":"CycloneDX"}}`))
	f.Add([]byte(`{"_type":"https://in-toto.io/Statement/v1","subject":[],"predicateType":"x"}`))
	f.Add([]byte(`{`))
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := signing.ParseStatement(data)
		if err != nil {
			return
		}
		if st.PredicateType == "" || len(st.Subject) == 0 || len(st.Subject) > 64 {
			t.Fatalf("accepted %+v", st)
		}
		_ = st.Covers("sha256:2c72e0b7cbbbab4b41504df354d1d0b1b351ed9fce8ee3d68b543500503cde0d")
		_ = st.SubjectDigests()
	})
}

func loadFixturePub(f *testing.F) signing.PublicKey {
	b, err := os.ReadFile("testdata/cosign-v3.1.3/cosign.pub")
	if err != nil {
		f.Fatal(err)
	}
	k, err := signing.ParsePublicKeys("cosign.pub", b)
	if err != nil {
		f.Fatal(err)
	}
	return k[0]
}
