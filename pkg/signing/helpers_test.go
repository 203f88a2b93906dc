package signing_test

import (
	"context"
	"encoding/json"
	"os"
	"sync"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/aetherengine/aether/pkg/provenance"
	"github.com/aetherengine/aether/pkg/signing"
)

// testKey is a generated key pair, as files and as loaded values.
type testKey struct {
	privPEM, pubPEM []byte
	signer          *signing.KeySigner
	pub             signing.PublicKey
}

const testPassword = "correct horse battery staple"

var (
	keysOnce sync.Once
	keyA     testKey
	keyB     testKey
)

// keys returns two key pairs generated once per test binary (scrypt makes
// generation deliberately slow).
func keys(t testing.TB) (a, b testKey) {
	t.Helper()
	keysOnce.Do(func() {
		keyA = newTestKey(t, "a.pub")
		keyB = newTestKey(t, "b.pub")
	})
	if keyA.signer == nil || keyB.signer == nil {
		t.Fatal("key generation failed earlier")
	}
	return keyA, keyB
}

func newTestKey(t testing.TB, name string) testKey {
	t.Helper()
	priv, pub, err := signing.GenerateKeyPair([]byte(testPassword))
	if err != nil {
		t.Fatal(err)
	}
	return loadTestKey(t, name, priv, pub, testPassword)
}

func loadTestKey(t testing.TB, name string, priv, pub []byte, password string) testKey {
	t.Helper()
	sk, err := signing.LoadPrivateKey(priv, []byte(password))
	if err != nil {
		t.Fatal(err)
	}
	signer, err := signing.NewKeySigner(sk)
	if err != nil {
		t.Fatal(err)
	}
	pks, err := signing.ParsePublicKeys(name, pub)
	if err != nil {
		t.Fatal(err)
	}
	return testKey{privPEM: priv, pubPEM: pub, signer: signer, pub: pks[0]}
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// provenancePredicate is a fixed provenance for an artifact.
func provenancePredicate(t testing.TB) []byte {
	t.Helper()
	p, err := provenance.Generate(context.Background(), provenance.Options{
		Source:         &provenance.Source{Repository: "https://github.com/acme/hello", Ref: "refs/heads/main", Commit: "0123456789abcdef0123456789abcdef01234567"},
		BuilderID:      provenance.BuilderGitHubHosted,
		LockfileDigest: "sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae",
		NodeVersion:    "20.20.2",
		StartedOn:      time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC),
		FinishedOn:     time.Date(2024, 1, 1, 0, 1, 0, 0, time.UTC),
	})
	if err != nil {
		t.Fatal(err)
	}
	b, err := p.JSON()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func digestsOf(ds []ocispec.Descriptor) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.Digest.String())
	}
	return out
}

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
