package signing_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/aetherengine/aether/internal/regtest"
	"github.com/aetherengine/aether/internal/testtools"
	"github.com/aetherengine/aether/pkg/referrers"
	"github.com/aetherengine/aether/pkg/referrers/referrerstest"
	"github.com/aetherengine/aether/pkg/signing"
)

// cosignCLI runs the stock cosign v3 offline: key signing without a
// transparency log or signing config, verification with
// --insecure-ignore-tlog, plain HTTP to the test registries.
type cosignCLI struct {
	bin, home, password string
}

func newCosign(t *testing.T) *cosignCLI {
	t.Helper()
	if testing.Short() {
		t.Skip("skipping stock cosign interop in -short mode (make e2e runs it)")
	}
	return &cosignCLI{bin: testtools.Require(t, testtools.Cosign), home: t.TempDir(), password: testPassword}
}

// run returns cosign's stdout (the verified payloads) and its stdout and
// stderr together, for messages.
func (c *cosignCLI) run(t *testing.T, dir string, args ...string) (string, error) {
	stdout, _, err := c.run2(t, dir, args...)
	return stdout, err
}

func (c *cosignCLI) run2(t *testing.T, dir string, args ...string) (stdout, all string, err error) {
	t.Helper()
	cmd := exec.Command(c.bin, args...)
	cmd.Dir = dir
	// A private HOME keeps cosign's TUF cache and config out of the user's.
	cmd.Env = append(os.Environ(), "HOME="+c.home, "COSIGN_PASSWORD="+c.password, "COSIGN_YES=true")
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	return out.String(), out.String() + errb.String(), err
}

func (c *cosignCLI) must(t *testing.T, dir string, args ...string) string {
	t.Helper()
	_, out, err := c.run2(t, dir, args...)
	if err != nil {
		t.Fatalf("cosign %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

var (
	cosignSignFlags   = []string{"--tlog-upload=false", "--use-signing-config=false", "--allow-http-registry", "--yes"}
	cosignVerifyFlags = []string{"--insecure-ignore-tlog=true", "--allow-http-registry"}
)

func (c *cosignCLI) sign(t *testing.T, dir, key, ref string, extra ...string) {
	c.must(t, dir, append(append([]string{"sign", "--key", key}, cosignSignFlags...), append(extra, ref)...)...)
}

func (c *cosignCLI) attest(t *testing.T, dir, key, typ, predicate, ref string, extra ...string) {
	c.must(t, dir, append(append([]string{"attest", "--key", key, "--type", typ, "--predicate", predicate}, cosignSignFlags...), append(extra, ref)...)...)
}

// TestCosignVerifiesOurs: what Sign and Attest write is accepted by the
// stock `cosign verify` and `cosign verify-attestation`, and `oras
// discover` lists the three referrers, on both referrers paths. The key
// is ours (GenerateKeyPair), read by cosign.
func TestCosignVerifiesOurs(t *testing.T) {
	cosign := newCosign(t)
	oras := testtools.Require(t, testtools.ORAS)
	ctx := context.Background()
	a, _ := keys(t)
	dir := t.TempDir()
	writeFile(t, dir, "cosign.pub", a.pubPEM)
	writeFile(t, dir, "other.pub", keyB.pubPEM)
	writeFile(t, dir, "sbom.cdx.json", readTestdata(t, "sbom.cdx.json"))
	for _, r := range regtest.All(t) {
		t.Run(r.Kind, func(t *testing.T) {
			repo := referrers.Limit(referrerstest.Repo(t, r, "ours"))
			subject := referrerstest.PushArtifact(t, repo, "ours", "v1")
			ref := r.Ref("ours") + "@" + subject.Digest.String()
			var attached []ocispec.Descriptor
			for _, step := range []struct {
				pt   string
				pred []byte
			}{
				{signing.PredicateSignature, nil},
				{signing.PredicateCycloneDX, readTestdata(t, "sbom.cdx.json")},
				{signing.PredicateSLSAProvenance1, provenancePredicate(t)},
			} {
				d, err := signing.Attest(ctx, repo, subject, a.signer, step.pt, step.pred)
				if err != nil {
					t.Fatal(err)
				}
				attached = append(attached, d)
			}

			tests := []struct {
				name string
				args []string
				// wantPredicate is the predicateType of the statements
				// cosign must print as verified; "" means it must refuse.
				wantPredicate string
			}{
				{"verify", []string{"verify", "--key", "cosign.pub"}, signing.PredicateSignature},
				{"verify-attestation cyclonedx", []string{"verify-attestation", "--key", "cosign.pub", "--type", "cyclonedx"}, signing.PredicateCycloneDX},
				{"verify-attestation slsaprovenance1", []string{"verify-attestation", "--key", "cosign.pub", "--type", "slsaprovenance1"}, signing.PredicateSLSAProvenance1},
				{"verify with another key", []string{"verify", "--key", "other.pub"}, ""},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					stdout, all, err := cosign.run2(t, dir, append(append(tt.args, cosignVerifyFlags...), ref)...)
					if (err == nil) != (tt.wantPredicate != "") {
						t.Fatalf("cosign %s: err = %v, want success=%v\n%s", strings.Join(tt.args, " "), err, tt.wantPredicate != "", all)
					}
					if tt.wantPredicate != "" {
						checkCosignPayloads(t, stdout, subject.Digest.Encoded(), tt.wantPredicate)
					}
				})
			}

			t.Run("oras discover", func(t *testing.T) {
				out, err := exec.Command(oras, "discover", "--plain-http", "--format", "json", ref).Output()
				if err != nil {
					t.Fatalf("oras discover: %v", err)
				}
				var tree struct {
					Referrers []struct {
						Digest string `json:"digest"`
					} `json:"referrers"`
				}
				if err := json.Unmarshal(out, &tree); err != nil {
					t.Fatal(err)
				}
				got := map[string]bool{}
				for _, d := range tree.Referrers {
					got[d.Digest] = true
				}
				for _, d := range attached {
					if !got[d.Digest.String()] {
						t.Errorf("oras discover does not list %s; it listed %s", d.Digest, out)
					}
				}
			})
		})
	}
}

// TestWeVerifyCosigns: our verifier accepts what the stock `cosign sign`
// and `cosign attest` write, in the bundle format and in the legacy
// format, with a key made by `cosign generate-key-pair`; and cosign signs
// with a key made by GenerateKeyPair.
func TestWeVerifyCosigns(t *testing.T) {
	cosign := newCosign(t)
	ctx := context.Background()
	dir := t.TempDir()
	cosign.must(t, dir, "generate-key-pair")
	cosignPub, err := signing.ParsePublicKeys("cosign.pub", readFile(t, dir, "cosign.pub"))
	if err != nil {
		t.Fatal(err)
	}
	// Keys from either tool work in both.
	if _, err := signing.LoadPrivateKey(readFile(t, dir, "cosign.key"), []byte(testPassword)); err != nil {
		t.Fatalf("loading cosign's key: %v", err)
	}
	if _, err := signing.LoadPrivateKey(readFile(t, dir, "cosign.key"), []byte("wrong")); err == nil {
		t.Fatal("cosign's key decrypted with a wrong password")
	}
	a, _ := keys(t)
	writeFile(t, dir, "ours.key", a.privPEM)
	writeFile(t, dir, "sbom.cdx.json", readTestdata(t, "sbom.cdx.json"))
	writeFile(t, dir, "provenance.json", provenancePredicate(t))

	tests := []struct {
		name       string
		key        string
		keys       []signing.PublicKey
		extra      []string
		wantFormat string
	}{
		{"bundle format, cosign's key", "cosign.key", cosignPub, nil, "bundle"},
		{"legacy format, cosign's key", "cosign.key", cosignPub, []string{"--new-bundle-format=false"}, "legacy"},
		{"bundle format, our key", "ours.key", []signing.PublicKey{a.pub}, nil, "bundle"},
	}
	for _, r := range regtest.All(t) {
		t.Run(r.Kind, func(t *testing.T) {
			for i, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					name := "theirs" + string(rune('a'+i))
					repo := referrers.Limit(referrerstest.Repo(t, r, name))
					subject := referrerstest.PushArtifact(t, repo, tt.name, "")
					ref := r.Ref(name) + "@" + subject.Digest.String()
					cosign.sign(t, dir, tt.key, ref, tt.extra...)
					cosign.attest(t, dir, tt.key, "cyclonedx", "sbom.cdx.json", ref, tt.extra...)
					cosign.attest(t, dir, tt.key, "slsaprovenance1", "provenance.json", ref, tt.extra...)

					res, err := signing.Verify(ctx, repo, subject, signing.Policy{Keys: tt.keys, RequireSBOM: true, RequireProvenance: true})
					if err != nil {
						t.Fatalf("Verify: %v", err)
					}
					if len(res.Signatures) == 0 || res.Signatures[0].Format != tt.wantFormat {
						t.Errorf("signatures = %+v, want format %s", res.Signatures, tt.wantFormat)
					}
					if res.SBOM == nil || res.SBOM.Components != 2 {
						t.Errorf("sbom = %+v", res.SBOM)
					}
					if res.Provenance == nil || res.Provenance.SourceCommit != "0123456789abcdef0123456789abcdef01234567" {
						t.Errorf("provenance = %+v", res.Provenance)
					}

					// The same referrers do not satisfy another key.
					_, err = signing.Verify(ctx, repo, subject, signing.Policy{Keys: []signing.PublicKey{keyB.pub}, RequireSBOM: true})
					var ve *signing.Error
					if !errors.As(err, &ve) || ve.Reason() != signing.ReasonUntrustedKey {
						t.Errorf("with another key: err = %v, want untrusted_key", err)
					}
				})
			}
			t.Run("SBOM attestation only: cosign accepts it, we do not", func(t *testing.T) {
				repo := referrers.Limit(referrerstest.Repo(t, r, "sbomonly"))
				subject := referrerstest.PushArtifact(t, repo, "sbomonly", "")
				ref := r.Ref("sbomonly") + "@" + subject.Digest.String()
				cosign.attest(t, dir, "cosign.key", "cyclonedx", "sbom.cdx.json", ref)
				if out, err := cosign.run(t, dir, append(append([]string{"verify", "--key", "cosign.pub"}, cosignVerifyFlags...), ref)...); err != nil {
					t.Logf("cosign verify refused an SBOM-only artifact (it used to accept it): %v\n%s", err, out)
				}
				_, err := signing.Verify(ctx, repo, subject, signing.Policy{Keys: cosignPub, RequireSBOM: true})
				if signing.ReasonOf(err) != signing.ReasonUnsigned {
					t.Fatalf("err = %v, want unsigned", err)
				}
			})
		})
	}
}

// checkCosignPayloads decodes what cosign printed as verified and
// requires a claim about sha256:hex of predicateType pt. `cosign verify`
// prints a JSON array of simplesigning-shaped claims whose critical.type
// is the statement's predicateType; `cosign verify-attestation` prints one
// DSSE envelope per line.
func checkCosignPayloads(t *testing.T, stdout, hex, pt string) {
	t.Helper()
	type claim struct{ digest, predicateType string }
	var claims []claim
	for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
		var env struct {
			Payload string `json:"payload"`
		}
		if json.Unmarshal([]byte(line), &env) == nil && env.Payload != "" {
			raw, err := base64.StdEncoding.DecodeString(env.Payload)
			if err != nil {
				t.Fatalf("cosign printed a payload that is not base64: %v", err)
			}
			st, err := signing.ParseStatement(raw)
			if err != nil {
				t.Fatalf("cosign printed a payload that is not a statement: %v", err)
			}
			claims = append(claims, claim{"sha256:" + st.Subject[0].Digest["sha256"], st.PredicateType})
			continue
		}
		var list []struct {
			Critical struct {
				Image struct {
					Digest string `json:"docker-manifest-digest"`
				} `json:"image"`
				Type string `json:"type"`
			} `json:"critical"`
		}
		if err := json.Unmarshal([]byte(line), &list); err != nil {
			t.Fatalf("cannot read cosign's output line %q: %v", line, err)
		}
		for _, c := range list {
			claims = append(claims, claim{c.Critical.Image.Digest, c.Critical.Type})
		}
	}
	for _, c := range claims {
		if c.predicateType == pt && c.digest == "sha256:"+hex {
			return
		}
	}
	t.Fatalf("cosign printed no verified %s claim about sha256:%s:\n%s", pt, hex, stdout)
}

func writeFile(t *testing.T, dir, name string, data []byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, dir, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
