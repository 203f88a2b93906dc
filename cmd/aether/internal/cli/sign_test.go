package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/content/oci"

	"github.com/aetherengine/aether/internal/regtest"
	"github.com/aetherengine/aether/pkg/artifact"
	"github.com/aetherengine/aether/pkg/referrers/referrerstest"
	"github.com/aetherengine/aether/pkg/signing"
)

const testSBOM = `{"bomFormat":"CycloneDX","specVersion":"1.6","version":1,
 "metadata":{"component":{"type":"application","name":"hello","version":"1.0.0","bom-ref":"app"}},
 "components":[{"type":"library","name":"ms","version":"2.1.3","purl":"pkg:npm/ms@2.1.3","bom-ref":"pkg:npm/ms@2.1.3"}]}`

// TestSigningCommands runs keygen, sign, attest and verify as a user
// would, on both referrers paths, and the refusals verify must explain.
func TestSigningCommands(t *testing.T) {
	t.Setenv("COSIGN_PASSWORD", "test password")
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	keys := t.TempDir()
	if code, _, stderr := run(t, "keygen", keys); code != 0 {
		t.Fatalf("keygen exit %d: %s", code, stderr)
	}
	if fi, err := os.Stat(filepath.Join(keys, "cosign.key")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("cosign.key: %v, mode %v; want 0600", err, fi.Mode())
	}
	if code, _, stderr := run(t, "keygen", keys); code != ExitError || !strings.Contains(stderr, "--force") {
		t.Fatalf("keygen over existing keys: exit %d, %s", code, stderr)
	}
	other := t.TempDir()
	if code, _, stderr := run(t, "keygen", other); code != 0 {
		t.Fatalf("keygen exit %d: %s", code, stderr)
	}
	key, pub, otherPub := filepath.Join(keys, "cosign.key"), filepath.Join(keys, "cosign.pub"), filepath.Join(other, "cosign.pub")
	sbomFile := filepath.Join(t.TempDir(), "sbom.cdx.json")
	if err := os.WriteFile(sbomFile, []byte(testSBOM), 0o644); err != nil {
		t.Fatal(err)
	}

	for _, r := range regtest.All(t) {
		t.Run(r.Kind, func(t *testing.T) {
			repo := referrerstest.Repo(t, r, "hello")
			subject := referrerstest.PushArtifact(t, repo, "hello", "v1")
			tag, pinned := r.Ref("hello")+":v1", r.Ref("hello")+"@"+subject.Digest.String()

			verify := func(t *testing.T, wantCode int, wantReason signing.Reason, args ...string) verifyOutput {
				t.Helper()
				code, stdout, stderr := run(t, append([]string{"verify", "-o", "json"}, args...)...)
				var out verifyOutput
				if err := json.Unmarshal([]byte(stdout), &out); err != nil {
					t.Fatalf("verify %v: exit %d, stdout is not JSON (%v): %q\n%s", args, code, err, stdout, stderr)
				}
				if code != wantCode {
					t.Fatalf("verify %v: exit %d, want %d\n%s", args, code, wantCode, stderr)
				}
				if wantReason != "" && (len(out.Failures) == 0 || out.Failures[0].Reason != wantReason || !strings.Contains(stderr, string(wantReason)+": ")) {
					t.Fatalf("verify %v: failures %+v, stderr %s; want %s first", args, out.Failures, stderr, wantReason)
				}
				return out
			}

			verify(t, ExitVerify, signing.ReasonUnsigned, tag, "--key", pub)

			code, stdout, stderr := run(t, "sign", tag, "--key", key)
			if code != 0 || stdout != pinned+"\n" || !strings.Contains(stderr, "Resolved") {
				t.Fatalf("sign: exit %d, stdout %q (want %q), stderr %s", code, stdout, pinned, stderr)
			}
			verify(t, ExitVerify, signing.ReasonSBOMMissing, tag, "--key", pub)
			verify(t, 0, "", tag, "--key", pub, "--no-require-sbom")

			layout := layoutWithSBOM(t)
			code, _, stderr = run(t, "attest", pinned, "--key", key, "--sbom", layout, "--provenance", "--source", t.TempDir(),
				"--builder-id", "https://ci.example.com/runner", "--started-on", "2025-03-01T10:00:00Z")
			if code != 0 {
				t.Fatalf("attest: exit %d: %s", code, stderr)
			}
			out := verify(t, 0, "", tag, "--key", otherPub, "--key", pub, "--builder-id", "https://ci.example.com/runner")
			if out.Reference != pinned || out.SBOM == nil || out.SBOM.Components != 1 || out.Provenance == nil ||
				out.Provenance.NodeVersion != "20.20.2" || out.Signatures[0].Key != pub {
				t.Fatalf("verified result %+v", out)
			}
			verify(t, ExitVerify, signing.ReasonUntrustedKey, tag, "--key", otherPub)
			verify(t, ExitVerify, signing.ReasonProvenanceMismatch, tag, "--key", pub, "--builder-id", "https://elsewhere.example.com")

			// A moved tag: the new digest carries nothing, the old one
			// still verifies by digest.
			referrerstest.PushArtifact(t, repo, "hello, moved", "v1")
			verify(t, ExitVerify, signing.ReasonUnsigned, tag, "--key", pub)
			verify(t, 0, "", pinned, "--key", pub)

			code, _, stderr = run(t, "attest", pinned, "--key", key, "--sbom", sbomFile)
			if code != 0 {
				t.Fatalf("attest --sbom FILE: exit %d: %s", code, stderr)
			}
		})
	}

	t.Run("usage errors", func(t *testing.T) {
		bad := filepath.Join(t.TempDir(), "bad.json")
		os.WriteFile(bad, []byte(`{"bomFormat":"SPDX"}`), 0o644)
		r := regtest.InProcess(t)
		referrerstest.PushArtifact(t, referrerstest.Repo(t, r, "u"), "u", "v1")
		ref := r.Ref("u") + ":v1"
		for _, tt := range []struct {
			args []string
			want string
		}{
			{[]string{"sign", ref}, "--key is required"},
			{[]string{"verify", ref}, "--key is required"},
			{[]string{"attest", ref, "--key", key}, "nothing to attest"},
			{[]string{"attest", ref, "--key", key, "--sbom", bad}, "bomFormat"},
			{[]string{"sign", r.Ref("u"), "--key", key}, "no tag or digest"},
			{[]string{"verify", ref, "--key", sbomFile}, "no PEM"},
		} {
			code, _, stderr := run(t, tt.args...)
			if code != ExitUsage || !strings.Contains(stderr, tt.want) {
				t.Errorf("%v: exit %d, stderr %q; want exit %d saying %q", tt.args, code, stderr, ExitUsage, tt.want)
			}
		}
		t.Setenv("COSIGN_PASSWORD", "wrong")
		if code, _, stderr := run(t, "sign", ref, "--key", key); code != ExitError || !strings.Contains(stderr, "wrong password") || strings.Contains(stderr, "test password") {
			t.Errorf("sign with a wrong password: exit %d, %s", code, stderr)
		}
	})
}

// layoutWithSBOM writes an OCI layout holding the same artifact as
// referrerstest.PushArtifact(…, "hello", …) and an SBOM referrer of it, as
// `aether build` does.
func layoutWithSBOM(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	store, err := oci.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	subject := referrerstest.PushArtifact(t, store, "hello", "")
	blob := content.NewDescriptorFromBytes(artifact.SBOMMediaType, []byte(testSBOM))
	if err := store.Push(ctx, blob, strings.NewReader(testSBOM)); err != nil {
		t.Fatal(err)
	}
	subj := ocispec.Descriptor{MediaType: subject.MediaType, Digest: subject.Digest, Size: subject.Size}
	_, err = oras.PackManifest(ctx, store, oras.PackManifestVersion1_1, artifact.SBOMArtifactType, oras.PackManifestOptions{
		Subject: &subj, Layers: []ocispec.Descriptor{blob},
	})
	if err != nil {
		t.Fatal(err)
	}
	return dir
}
