//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aetherengine/aether/controlplane/admission/admissiontest"
	"github.com/aetherengine/aether/internal/exampleapp"
	"github.com/aetherengine/aether/internal/regtest"
	"github.com/aetherengine/aether/internal/testtools"
	"github.com/aetherengine/aether/pkg/api"
	"github.com/aetherengine/aether/pkg/referrers/referrerstest"
)

// TestDeployWithTheCLI is the user's path with our commands only: keygen,
// build examples/hello, push, sign, attest the SBOM, set the app's trust
// policy, deploy; a redeploy by digest reaches no registry; the tag moved
// to a new build leaves the deployment on the first digest, and deploying
// the tag again refuses the unsigned new build. On both registries.
func TestDeployWithTheCLI(t *testing.T) {
	if _, err := exec.LookPath("npm"); err != nil {
		t.Skip("npm is not installed; aether build needs it")
	}
	regs := regtest.All(t)
	cp := startControlPlane(t, "--registries", regs[0].Host+","+regs[1].Host)
	keys := t.TempDir()
	env := append([]string{"AETHER_CACHE_DIR=" + t.TempDir(), "COSIGN_PASSWORD=e2e-password"}, cp.env...)
	must(t, env, "aether", "keygen", keys)

	app := exampleapp.Copy(t, "hello")
	layout := filepath.Join(t.TempDir(), "layout")
	digest := strings.TrimSpace(must(t, env, "aether", "build", app, "--layout", layout).stdout)
	if err := os.WriteFile(filepath.Join(app, "VERSION"), []byte("2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	layout2 := filepath.Join(t.TempDir(), "layout2")
	digest2 := strings.TrimSpace(must(t, env, "aether", "build", app, "--layout", layout2).stdout)
	if digest2 == digest {
		t.Fatal("a changed source built the same digest")
	}

	for i, r := range regs {
		t.Run(r.Kind, func(t *testing.T) {
			name := fmt.Sprintf("hello-%d", i)
			tag := r.Ref("e2e/" + name + ":v1")
			pinned := strings.TrimSpace(must(t, env, "aether", "push", layout, tag).stdout)
			must(t, env, "aether", "sign", tag, "--key", filepath.Join(keys, "cosign.key"))
			must(t, env, "aether", "attest", tag, "--key", filepath.Join(keys, "cosign.key"), "--sbom", layout)
			must(t, env, "aether", "apps", "create", name)
			must(t, env, "aether", "apps", "trust", name, "--key", filepath.Join(keys, "cosign.pub"))

			res := must(t, env, "aether", "deploy", tag, "--app", name)
			id := strings.TrimSpace(res.stdout)
			for _, want := range []string{"verifying", "resolved " + tag + " to " + digest, "verified " + digest, "signed by cosign.pub"} {
				if !strings.Contains(res.stderr, want) {
					t.Errorf("aether deploy output lacks %q:\n%s", want, res.stderr)
				}
			}
			a, err := cp.client.GetArtifact(context.Background(), digest)
			if err != nil || a.Verification == nil || a.Verification.KeyID != "cosign.pub" ||
				!strings.HasPrefix(a.Verification.SBOMFormat, "CycloneDX") || a.Verification.SBOMComponents < 1 {
				t.Fatalf("artifact record = %+v (%+v), %v", a, a.Verification, err)
			}

			// Redeploying the verified digest: answered from the cache, the
			// registry sees no request at all.
			r.ResetRequests()
			res = must(t, env, "aether", "deploy", pinned, "--app", name)
			if reqs := r.Requests(); len(reqs) != 0 {
				t.Fatalf("redeploy by digest made %d registry requests: %v", len(reqs), reqs)
			}
			if !strings.Contains(res.stderr, "reusing that verification") {
				t.Errorf("redeploy output does not say the verification was reused:\n%s", res.stderr)
			}

			// The tag moves to an unsigned build.
			must(t, env, "aether", "push", layout2, tag)
			var got struct {
				api.Deployment
				Events []api.Event `json:"events"`
			}
			out := must(t, env, "aether", "deployments", "get", id, "--output", "json").stdout
			if err := json.Unmarshal([]byte(out), &got); err != nil || got.Digest != digest || got.Status != api.StatusVerified {
				t.Fatalf("after the tag moved, the deployment = %s (%v); want it still on %s", out, err, digest)
			}
			res = run(t, env, "aether", "deploy", tag, "--app", name)
			if res.code != 3 || !strings.Contains(res.stderr, "unsigned") || !strings.Contains(res.stderr, digest2) {
				t.Fatalf("deploying the moved tag: exit %d\n%s", res.code, res.stderr)
			}
		})
	}
}

// TestStockCosignSignaturesAreAccepted: artifacts signed and attested by
// the stock cosign v3 CLI, in its bundle format and its legacy format,
// with a key cosign generated, are admitted. On both registries.
func TestStockCosignSignaturesAreAccepted(t *testing.T) {
	cosign := testtools.Require(t, testtools.Cosign)
	regs := regtest.All(t)
	cp := startControlPlane(t, "--registries", regs[0].Host+","+regs[1].Host)
	dir := t.TempDir()
	cosignEnv := append(os.Environ(), "HOME="+t.TempDir(), "COSIGN_PASSWORD=stock", "COSIGN_YES=true")
	runCosign := func(args ...string) {
		t.Helper()
		cmd := exec.Command(cosign, args...)
		cmd.Dir, cmd.Env = dir, cosignEnv
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("cosign %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	runCosign("generate-key-pair")
	if err := os.WriteFile(filepath.Join(dir, "sbom.cdx.json"), admissiontest.SBOM, 0o644); err != nil {
		t.Fatal(err)
	}
	pub, err := os.ReadFile(filepath.Join(dir, "cosign.pub"))
	if err != nil {
		t.Fatal(err)
	}
	offline := []string{"--tlog-upload=false", "--use-signing-config=false", "--allow-http-registry", "--yes"}
	for ri, r := range regs {
		for fi, format := range []struct {
			name  string
			extra []string
		}{
			{"bundle", nil},
			{"legacy", []string{"--new-bundle-format=false"}},
		} {
			t.Run(r.Kind+"/"+format.name, func(t *testing.T) {
				name := fmt.Sprintf("stock-%d-%d", ri, fi)
				repo := referrerstest.Repo(t, r, name)
				s := referrerstest.PushArtifact(t, repo, name, "")
				ref := r.Ref(name) + "@" + s.Digest.String()
				runCosign(append(append(append([]string{"sign", "--key", "cosign.key"}, offline...), format.extra...), ref)...)
				runCosign(append(append(append([]string{"attest", "--key", "cosign.key", "--type", "cyclonedx", "--predicate", "sbom.cdx.json"}, offline...), format.extra...), ref)...)
				cp.app(t, name, api.TrustPolicyUpdate{Keys: []api.TrustedKey{{Name: "cosign.pub", PEM: string(pub)}}})
				d, err := cp.client.CreateDeployment(context.Background(), api.DeploymentCreate{App: name, Artifact: ref})
				if err != nil || d.Status != api.StatusVerified || d.Digest != s.Digest.String() {
					t.Fatalf("deploy of a cosign-signed artifact = %+v, %v", d, err)
				}
				a, err := cp.client.GetArtifact(context.Background(), d.Digest)
				if err != nil || a.Verification.KeyID != "cosign.pub" || a.Verification.SBOMComponents != 2 {
					t.Fatalf("artifact record = %+v, %v", a.Verification, err)
				}
			})
		}
	}
}
