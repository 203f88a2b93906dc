package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/aetherengine/aether/internal/exampleapp"

	"github.com/aetherengine/aether/internal/regtest"
)

// run executes the CLI in-process and returns exit code, stdout, stderr.
func run(t testing.TB, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Execute(context.Background(), args, Streams{In: strings.NewReader(""), Out: &out, Err: &errb})
	return code, out.String(), errb.String()
}

func exampleCopy(t testing.TB) string {
	t.Helper()
	if _, err := exec.LookPath("npm"); err != nil {
		t.Skip("npm is not installed: the CLI tests build examples/hello for real")
	}
	return exampleapp.Copy(t, "hello")
}

var digestLine = regexp.MustCompile(`^sha256:[0-9a-f]{64}\n$`)

func TestBuildAndPushCommands(t *testing.T) {
	dir := exampleCopy(t)
	cache := t.TempDir()
	t.Setenv("AETHER_CACHE_DIR", cache)

	code, stdout, stderr := run(t, "build", dir)
	if code != 0 {
		t.Fatalf("build exit %d: %s", code, stderr)
	}
	if !digestLine.MatchString(stdout) {
		t.Fatalf("build stdout = %q, want the digest alone", stdout)
	}
	for _, want := range []string{"Built hello@1.0.0", "dependencies", "cache miss", "sbom", "layout"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("build summary lacks %q:\n%s", want, stderr)
		}
	}
	digest := strings.TrimSpace(stdout)

	code, stdout, stderr = run(t, "build", dir, "--output", "json")
	if code != 0 {
		t.Fatalf("build --output json exit %d: %s", code, stderr)
	}
	var res struct {
		Digest string
		Cache  struct{ Hit bool }
		Layers []struct{ Role, Digest string }
	}
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("--output json is not JSON: %v\n%s", err, stdout)
	}
	if res.Digest != digest || !res.Cache.Hit || len(res.Layers) != 2 {
		t.Fatalf("json result %+v", res)
	}

	reg := regtest.InProcess(t)
	code, stdout, stderr = run(t, "push", dir, reg.Ref("acme/hello:v1"))
	if code != 0 {
		t.Fatalf("push exit %d: %s", code, stderr)
	}
	if stdout != reg.Ref("acme/hello")+"@"+digest+"\n" {
		t.Fatalf("push stdout = %q, want REPO@DIGEST alone", stdout)
	}
	code, stdout, stderr = run(t, "push", filepath.Join(dir, ".aether", "layout"), reg.Ref("acme/hello:v1"), "-o", "json")
	if code != 0 {
		t.Fatalf("push of the layout exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, `"status": "exists"`) || strings.Contains(stdout, `"status": "uploaded"`) {
		t.Fatalf("re-push should skip every blob:\n%s", stdout)
	}
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"build", "a", "b"}, ExitUsage, "accepts at most 1 arg"},
		{[]string{"build", "--output", "yaml"}, ExitUsage, "--output must be text or json"},
		{[]string{"push"}, ExitUsage, "accepts between 1 and 2 arg(s)"},
		{[]string{"push", t.TempDir(), "not a ref!"}, ExitUsage, "invalid reference"},
		{[]string{"nope"}, ExitUsage, "unknown command"},
		{[]string{"build", t.TempDir()}, ExitError, "no package.json"},
	}
	for _, tt := range tests {
		code, _, stderr := run(t, tt.args...)
		if code != tt.code || !strings.Contains(stderr, tt.want) {
			t.Errorf("aether %v: exit %d, stderr %q; want exit %d and %q", tt.args, code, stderr, tt.code, tt.want)
		}
	}
}
