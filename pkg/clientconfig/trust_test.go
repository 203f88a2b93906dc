package clientconfig

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/aetherengine/aether/pkg/signing"
)

func TestDefaultTrust(t *testing.T) {
	dir := t.TempDir()
	_, pub, err := signing.WriteKeyPair(dir, []byte{}, false)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		cfg  Config
		keys int
		err  string
	}{
		{name: "no key configured", cfg: Config{}},
		{name: "aether up's key", cfg: Config{PublicKey: pub}, keys: 1},
		{name: "key file gone", cfg: Config{PublicKey: filepath.Join(dir, "missing.pub")}, err: "public_key"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := DefaultTrust(tc.cfg)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.keys == 0 {
				if p != nil {
					t.Fatalf("policy = %+v, want none", p)
				}
				return
			}
			if len(p.Keys) != tc.keys {
				t.Fatalf("%d keys, want %d", len(p.Keys), tc.keys)
			}
			if _, err := signing.ParsePublicKeys("k", []byte(p.Keys[0].PEM)); err != nil {
				t.Fatalf("the policy's PEM does not parse: %v", err)
			}
		})
	}
}
