package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// versionVar is the -X target that carries the release version.
const versionVar = "github.com/aetherengine/aether/pkg/version.Version"

// compiler cross-compiles the project's commands the same way every time.
type compiler struct {
	// GoBin is the go command.
	GoBin string
	// RepoDir is the module root the packages are built in.
	RepoDir string
	// Version goes into pkg/version.Version.
	Version string
}

// buildEnv is the environment of a reproducible cross-compile for p: the
// caller's (for GOCACHE, GOPATH, GOPROXY…) without anything that changes
// the output, then the target fixed. GOAMD64/GOARM64 are pinned to the
// baseline so the host's tuning never leaks into an image.
func buildEnv(environ []string, p v1.Platform) []string {
	drop := map[string]bool{
		"GOOS": true, "GOARCH": true, "GOARM": true, "GOAMD64": true, "GOARM64": true,
		"CGO_ENABLED": true, "GOFLAGS": true, "GOEXPERIMENT": true, "GO386": true,
	}
	env := make([]string, 0, len(environ)+8)
	for _, kv := range environ {
		k, _, _ := strings.Cut(kv, "=")
		if !drop[k] {
			env = append(env, kv)
		}
	}
	env = append(env, "CGO_ENABLED=0", "GOOS="+p.OS, "GOARCH="+p.Architecture)
	switch p.Architecture {
	case "amd64":
		env = append(env, "GOAMD64=v1")
	case "arm64":
		env = append(env, "GOARM64=v8.0")
	}
	return env
}

// ldflags strips symbols and the build id (it hashes the build's inputs
// and paths; dropping it is what -trimpath alone does not) and sets the
// version.
func (c compiler) ldflags() string {
	return fmt.Sprintf("-s -w -buildid= -X %s=%s", versionVar, c.Version)
}

// Compile builds ./cmd/<name> for p into dir and returns the binary's path.
func (c compiler) Compile(ctx context.Context, name string, p v1.Platform, dir string) (string, error) {
	out := filepath.Join(dir, p.OS+"-"+p.Architecture, name)
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return "", err
	}
	cmd := exec.CommandContext(ctx, c.GoBin, "build", "-trimpath", "-buildvcs=false",
		"-ldflags", c.ldflags(), "-o", out, "./cmd/"+name)
	cmd.Dir = c.RepoDir
	cmd.Env = buildEnv(os.Environ(), p)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build ./cmd/%s for %s: %v\n%s", name, p, err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

// GoVersionM is `go version -m BINARY`: the binary's embedded build info,
// which the SBOM is made from.
func (c compiler) GoVersionM(ctx context.Context, binary string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, c.GoBin, "version", "-m", binary)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go version -m %s: %v: %s", binary, err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}
