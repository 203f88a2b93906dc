package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/aetherengine/aether/internal/regtest"
	xt "github.com/aetherengine/aether/pkg/extract/extracttest"
	"github.com/aetherengine/aether/pkg/registry"
	"github.com/aetherengine/aether/pkg/signing"
)

func keyPair(t *testing.T, dir, name string) (*signing.KeySigner, string) {
	t.Helper()
	priv, pub, err := signing.GenerateKeyPair([]byte(""))
	if err != nil {
		t.Fatal(err)
	}
	k, err := signing.LoadPrivateKey(priv, []byte(""))
	if err != nil {
		t.Fatal(err)
	}
	s, err := signing.NewKeySigner(k)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name+".pub")
	if err := os.WriteFile(path, pub, 0o644); err != nil {
		t.Fatal(err)
	}
	return s, path
}

// TestKeyVerifiesBeforePulling: with --key, the signature is checked
// through the referrers before anything is extracted (both registry paths).
func TestKeyVerifiesBeforePulling(t *testing.T) {
	keys := t.TempDir()
	signerA, pubA := keyPair(t, keys, "a")
	_, pubB := keyPair(t, keys, "b")
	for _, reg := range regtest.All(t) {
		t.Run(reg.Kind, func(t *testing.T) {
			signed := pushApp(t, reg.Host, "signed/app", "", xt.File("server.js", "console.log(1)"))
			unsigned := pushApp(t, reg.Host, "unsigned/app", "", xt.File("server.js", "console.log(2)"))
			repo, err := registry.NewRepository(context.Background(), signed, registry.Options{})
			if err != nil {
				t.Fatal(err)
			}
			d := digest.Digest(signed[strings.Index(signed, "@")+1:])
			desc, err := repo.Resolve(context.Background(), d.String())
			if err != nil {
				t.Fatal(err)
			}
			if _, err := signing.Sign(context.Background(), repo, ocispec.Descriptor{MediaType: desc.MediaType, Digest: desc.Digest, Size: desc.Size}, signerA); err != nil {
				t.Fatal(err)
			}
			tests := []struct {
				name string
				args []string
				code int
				want string
			}{
				{"trusted key", []string{signed, "--key", pubA}, exitOK, ""},
				{"rotation: any listed key", []string{signed, "--key", pubB, "--key", pubA}, exitOK, ""},
				{"other key", []string{signed, "--key", pubB}, exitVerify, "untrusted_key"},
				{"unsigned", []string{unsigned, "--key", pubA}, exitVerify, "unsigned"},
				{"SBOM required but absent", []string{signed, "--key", pubA, "--require-sbom"}, exitVerify, "sbom_missing"},
				{"missing key file", []string{signed, "--key", filepath.Join(keys, "nope.pub")}, exitUsage, "nope.pub"},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					dest := filepath.Join(t.TempDir(), "app")
					code, _, stderr := runCLI(append([]string{tt.args[0], dest}, tt.args[1:]...)...)
					if code != tt.code || !strings.Contains(stderr, tt.want) {
						t.Fatalf("exit %d, stderr %q; want %d and %q", code, stderr, tt.code, tt.want)
					}
					_, err := os.Stat(filepath.Join(dest, "server.js"))
					if (code == exitOK) != (err == nil) {
						t.Fatalf("exit %d but server.js extracted: %v", code, err == nil)
					}
				})
			}
		})
	}
}
