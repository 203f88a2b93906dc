package signing_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"
	"time"

	"github.com/aetherengine/aether/pkg/signing"
)

func TestGenerateAndLoadKeys(t *testing.T) {
	a, b := keys(t)
	if !bytes.HasPrefix(a.privPEM, []byte("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----")) {
		t.Fatalf("private key PEM starts with %q", a.privPEM[:40])
	}
	if _, ok := a.pub.Key.(*ecdsa.PublicKey); !ok {
		t.Fatalf("public key is %T, want ECDSA P-256 as cosign makes", a.pub.Key)
	}
	if a.pub.ID() == b.pub.ID() {
		t.Fatal("two generated keys have the same fingerprint")
	}

	emptyPriv, emptyPub, err := signing.GenerateKeyPair(nil)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8 := unencryptedKey(t)

	tests := []struct {
		name     string
		pem      []byte
		password string
		wantErr  string
	}{
		{"right password", a.privPEM, testPassword, ""},
		{"wrong password", a.privPEM, "nope", "wrong password"},
		{"empty password", emptyPriv, "", ""},
		{"empty password expected, one given", emptyPriv, "x", "wrong password"},
		{"unencrypted PKCS#8", pkcs8, "", ""},
		{"not PEM", []byte("hello"), "", "no PEM block"},
		{"public key given as private", a.pubPEM, "", "cannot read private key"},
		{"too large", bytes.Repeat([]byte("A"), signing.MaxKeyFileBytes+1), "", "more than a key can be"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := signing.LoadPrivateKey(tt.pem, []byte(tt.password))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if k == nil {
					t.Fatal("nil key")
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want it to say %q", err, tt.wantErr)
			}
			if tt.password != "" && strings.Contains(err.Error(), tt.password) {
				t.Fatalf("error %q contains the password", err)
			}
		})
	}
	if _, err := signing.ParsePublicKeys("empty.pub", emptyPub); err != nil {
		t.Fatal(err)
	}
}

func TestParsePublicKeys(t *testing.T) {
	a, b := keys(t)
	both := append(append([]byte("# team keys\n"), a.pubPEM...), b.pubPEM...)
	tests := []struct {
		name      string
		data      []byte
		wantNames []string
		wantErr   bool
	}{
		{"one key", a.pubPEM, []string{"k.pub"}, false},
		{"two keys in one file (rotation)", both, []string{"k.pub", "k.pub#2"}, false},
		{"private key only", a.privPEM, nil, true},
		{"garbage", []byte("not a key"), nil, true},
		{"corrupt key block", []byte("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"), nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := signing.ParsePublicKeys("k.pub", tt.data)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			var names []string
			for _, k := range got {
				names = append(names, k.Name)
			}
			if strings.Join(names, ",") != strings.Join(tt.wantNames, ",") {
				t.Fatalf("names = %v, want %v", names, tt.wantNames)
			}
		})
	}
}

func TestRetired(t *testing.T) {
	a, _ := keys(t)
	at := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	k := a.pub
	k.RetiredAt = at
	for _, tt := range []struct {
		t    time.Time
		want bool
	}{{at.Add(-time.Second), false}, {at, true}, {at.Add(time.Hour), true}} {
		if got := k.Retired(tt.t); got != tt.want {
			t.Errorf("Retired(%s) = %v, want %v", tt.t, got, tt.want)
		}
	}
	if a.pub.Retired(time.Now()) {
		t.Error("a key without RetiredAt is retired")
	}
}

// TestSignerKinds: the key signer works with the key types cosign
// supports, and its bundles verify with the matching public key only.
func TestSignerKinds(t *testing.T) {
	ctx := context.Background()
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	_, ed, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	a, b := keys(t)
	stmt, err := signing.NewStatement("sha256:2c72e0b7cbbbab4b41504df354d1d0b1b351ed9fce8ee3d68b543500503cde0d", signing.PredicateSignature, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		key  crypto.Signer
	}{{"ecdsa-p256 from cosign.key", nil}, {"ecdsa-p384", p384}, {"ed25519", ed}} {
		t.Run(tt.name, func(t *testing.T) {
			signer, pub := a.signer, a.pub
			if tt.key != nil {
				if signer, err = signing.NewKeySigner(tt.key); err != nil {
					t.Fatal(err)
				}
				pub = signing.PublicKey{Name: tt.name, Key: tt.key.Public()}
			}
			raw, err := signing.NewBundle(ctx, signer, stmt)
			if err != nil {
				t.Fatal(err)
			}
			bundle, err := signing.ParseBundle(raw)
			if err != nil {
				t.Fatal(err)
			}
			if bundle.KeyHint != pub.ID() {
				t.Errorf("hint %q, want %q", bundle.KeyHint, pub.ID())
			}
			if err := bundle.VerifyKey(pub); err != nil {
				t.Errorf("VerifyKey(own key): %v", err)
			}
			if err := bundle.VerifyKey(b.pub); err == nil {
				t.Error("VerifyKey accepted another key")
			}
		})
	}
}

func unencryptedKey(t *testing.T) []byte {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}
