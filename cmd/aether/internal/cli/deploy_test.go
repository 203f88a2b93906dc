package cli

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aetherengine/aether/controlplane/admission/admissiontest"
	"github.com/aetherengine/aether/controlplane/config"
	"github.com/aetherengine/aether/controlplane/server"
	"github.com/aetherengine/aether/internal/regtest"
	"github.com/aetherengine/aether/pkg/api"
	"github.com/aetherengine/aether/pkg/clientconfig"
	"github.com/aetherengine/aether/pkg/referrers/referrerstest"
)

// TestDeployCommand drives `aether apps trust` and `aether deploy` against
// a real control plane whose admission reads a real registry: a signed
// artifact is deployed and its events printed; an unsigned one exits 3
// with its reason; --output json carries the same; a directory that is not
// an app is refused.
func TestDeployCommand(t *testing.T) {
	reg := regtest.InProcess(t)
	cfg := config.Defaults()
	cfg.Database = "sqlite://" + filepath.Join(t.TempDir(), "aether.db")
	cfg.BootstrapAdminKey = testAdminKey
	cfg.Registries = reg.Host
	h, err := server.Build(context.Background(), cfg, server.Deps{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Notice: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(func() { srv.Close(); h.Store.Close() })
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv(clientconfig.EnvServer, srv.URL)
	t.Setenv(clientconfig.EnvAPIKey, testAdminKey)

	k := admissiontest.NewKey(t)
	dir := t.TempDir()
	pub := filepath.Join(dir, "team.pub")
	if err := os.WriteFile(pub, []byte(k.PEM), 0o644); err != nil {
		t.Fatal(err)
	}
	repo := referrerstest.Repo(t, reg, "hello")
	signed := referrerstest.PushArtifact(t, repo, "signed", "v1")
	admissiontest.Sign(t, repo, signed, k)
	admissiontest.AttestSBOM(t, repo, signed, k, nil)
	unsigned := referrerstest.PushArtifact(t, repo, "unsigned", "v2")

	if code, out, errs := runCLI(t, "", "apps", "create", "hello"); code != 0 {
		t.Fatalf("apps create: %d %s %s", code, out, errs)
	}
	code, out, errs := runCLI(t, "", "apps", "trust", "hello", "--key", pub, "--retire", "team.pub=2999-01-01")
	if code != 0 || !strings.Contains(out, "team.pub") || !strings.Contains(out, "retires 2999-01-01") || !strings.Contains(errs, "now v1") {
		t.Fatalf("apps trust: %d\n%s\n%s", code, out, errs)
	}
	if code, out, _ := runCLI(t, "", "apps", "trust", "hello"); code != 0 || !strings.Contains(out, "Requires:  sbom") {
		t.Fatalf("apps trust (show): %d %s", code, out)
	}
	if code, _, errs := runCLI(t, "", "apps", "trust", "hello", "--key", pub, "--retire", "nobody=2025-01-01"); code != ExitUsage || !strings.Contains(errs, "no --key is named nobody") {
		t.Fatalf("retiring an unknown key: %d %s", code, errs)
	}

	code, out, errs = runCLI(t, "", "deploy", reg.Ref("hello:v1"), "--app", "hello")
	t.Logf("aether deploy:\n%s%s", errs, out)
	if code != 0 || !strings.HasPrefix(out, "dep_") {
		t.Fatalf("deploy signed: %d\nstdout %s\nstderr %s", code, out, errs)
	}
	for _, want := range []string{"pending", "verifying", "resolved " + reg.Ref("hello:v1") + " to " + signed.Digest.String(), "verified", "signed by team.pub", "no runtime"} {
		if !strings.Contains(errs, want) {
			t.Errorf("deploy output lacks %q:\n%s", want, errs)
		}
	}

	code, out, errs = runCLI(t, "", "deploy", reg.Ref("hello:v2"), "--app", "hello")
	if code != ExitVerify || !strings.Contains(errs, "unsigned") || !strings.Contains(errs, "failed (unsigned)") || !strings.HasPrefix(out, "dep_") {
		t.Fatalf("deploy unsigned: %d\nstdout %s\nstderr %s", code, out, errs)
	}

	code, out, _ = runCLI(t, "", "deploy", reg.Ref("hello")+"@"+unsigned.Digest.String(), "--app", "hello", "--output", "json")
	var res deployOutput
	if code != ExitVerify || json.Unmarshal([]byte(out), &res) != nil || res.Error == nil || res.Error.Code != api.ReasonUnsigned ||
		res.Deployment.Status != api.StatusFailed || res.Deployment.Digest != unsigned.Digest.String() || len(res.Events) != 3 {
		t.Fatalf("deploy --output json: %d %s", code, out)
	}

	if code, _, errs := runCLI(t, "", "deploy", dir, "--app", "hello"); code != ExitUsage || !strings.Contains(errs, "without package.json") {
		t.Fatalf("deploy of a directory that is not an app: %d %s", code, errs)
	}
	if code, _, errs := runCLI(t, "", "deploy", reg.Ref("hello"), "--app", "hello"); code != ExitUsage || !strings.Contains(errs, "no tag or digest") {
		t.Fatalf("deploy without tag: %d %s", code, errs)
	}
}
