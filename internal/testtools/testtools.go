// Package testtools installs the stock CLIs the interop tests run (crane,
// oras, cosign, the distribution registry, helm) with `go install`, once, into
// a cache directory that survives between runs.
//
// The directory is $AETHER_TOOLS_DIR, else $XDG_CACHE_HOME/aether-e2e/bin,
// else ~/.cache/aether-e2e/bin. A file lock serialises concurrent installs
// from parallel test binaries.
package testtools

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Tool is a CLI installed from a Go module at a pinned version.
type Tool struct {
	// Name is the binary's name.
	Name string
	// Package is the `go install` package path.
	Package string
	// Version is the pinned module version.
	Version string
}

// The pinned tools.
var (
	Crane        = Tool{"crane", "github.com/google/go-containerregistry/cmd/crane", "v0.22.1"}
	ORAS         = Tool{"oras", "oras.land/oras/cmd/oras", "v1.3.6"}
	Cosign       = Tool{"cosign", "github.com/sigstore/cosign/v3/cmd/cosign", "v3.1.3"}
	Distribution = Tool{"registry", "github.com/distribution/distribution/v3/cmd/registry", "v3.1.2"}
	Helm         = Tool{"helm", "helm.sh/helm/v3/cmd/helm", "v3.22.0"}
)

// Dir is the cache directory for installed tools.
func Dir() string {
	if d := os.Getenv("AETHER_TOOLS_DIR"); d != "" {
		return d
	}
	base := os.Getenv("XDG_CACHE_HOME")
	if base == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			home = os.TempDir()
		}
		base = filepath.Join(home, ".cache")
	}
	return filepath.Join(base, "aether-e2e", "bin")
}

// Path returns the path of the tool's binary for its pinned version,
// installing it first when it is not cached. The binary is named
// NAME-VERSION so a version bump reinstalls.
func Path(ctx context.Context, tool Tool) (string, error) {
	dir := Dir()
	bin := filepath.Join(dir, tool.Name+"-"+tool.Version)
	if fileExists(bin) {
		return bin, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	lock, err := os.OpenFile(filepath.Join(dir, ".install.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", err
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN) //nolint:errcheck
	// Another process may have installed it while we waited for the lock.
	if fileExists(bin) {
		return bin, nil
	}
	tmp, err := os.MkdirTemp(dir, ".install-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	cmd := exec.CommandContext(ctx, "go", "install", tool.Package+"@"+tool.Version)
	cmd.Env = append(os.Environ(), "GOBIN="+tmp, "CGO_ENABLED=0", "GOFLAGS=-buildvcs=false")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go install %s@%s: %v\n%s", tool.Package, tool.Version, err, strings.TrimSpace(string(out)))
	}
	if err := os.Rename(filepath.Join(tmp, tool.Name), bin); err != nil {
		return "", err
	}
	return bin, nil
}

// Require returns the tool's path or fails the test. Installing a tool cold
// can take minutes (cosign: ~4 min on 2 cores); it is logged so a slow first
// run is explained.
func Require(t testing.TB, tool Tool) string {
	t.Helper()
	bin := filepath.Join(Dir(), tool.Name+"-"+tool.Version)
	if !fileExists(bin) {
		t.Logf("installing %s %s into %s (first run only)", tool.Name, tool.Version, Dir())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	p, err := Path(ctx, tool)
	if err != nil {
		t.Fatalf("cannot install %s: %v", tool.Name, err)
	}
	return p
}

func fileExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}
