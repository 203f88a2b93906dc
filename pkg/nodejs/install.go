package nodejs

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Toolchain is the Node.js and npm that install dependencies. Native addons
// are built for its version and platform, so both are part of the cache key.
type Toolchain struct {
	// Node is the path of the node binary.
	Node string
	// NPM is the path of the npm binary.
	NPM string
	// Version is Node's version without "v" (e.g. "20.20.2").
	Version string
	// Platform is "os/arch" in Go/OCI terms (e.g. "linux/amd64").
	Platform string
}

// MajorMinor returns "20.20" for "20.20.2".
func (t *Toolchain) MajorMinor() string {
	parts := strings.SplitN(t.Version, ".", 3)
	if len(parts) < 2 {
		return t.Version
	}
	return parts[0] + "." + parts[1]
}

// ProbeToolchain finds node and npm (node from the given path, else $PATH)
// and asks node for its version and platform.
func ProbeToolchain(ctx context.Context, node string) (*Toolchain, error) {
	if node == "" {
		node = "node"
	}
	nodePath, err := exec.LookPath(node)
	if err != nil {
		return nil, fmt.Errorf("node not found (%s): install Node.js, the same major.minor version your pods run, or pass --node PATH", node)
	}
	npmPath := filepath.Join(filepath.Dir(nodePath), "npm")
	if _, err := os.Stat(npmPath); err != nil {
		if npmPath, err = exec.LookPath("npm"); err != nil {
			return nil, fmt.Errorf("npm not found next to %s or in PATH: install npm (it comes with Node.js)", nodePath)
		}
	}
	probe := exec.CommandContext(ctx, nodePath, "-p", `process.versions.node + " " + process.platform + " " + process.arch`)
	// The probe only prints constants: skip what slows node's start (extra
	// CA bundles are parsed at start-up: ~150 ms with a system bundle).
	probe.Env = withoutEnv(os.Environ(), "NODE_EXTRA_CA_CERTS", "NODE_OPTIONS")
	out, err := probe.Output()
	if err != nil {
		return nil, fmt.Errorf("running %s: %v", nodePath, err)
	}
	f := strings.Fields(string(out))
	if len(f) != 3 {
		return nil, fmt.Errorf("unexpected output from %s: %q", nodePath, out)
	}
	return &Toolchain{Node: nodePath, NPM: npmPath, Version: f[0], Platform: goOS(f[1]) + "/" + goArch(f[2])}, nil
}

// withoutEnv returns env without the named variables.
func withoutEnv(env []string, names ...string) []string {
	out := env[:0:0]
	for _, kv := range env {
		drop := false
		for _, n := range names {
			if strings.HasPrefix(kv, n+"=") {
				drop = true
			}
		}
		if !drop {
			out = append(out, kv)
		}
	}
	return out
}

func goOS(p string) string {
	if p == "win32" {
		return "windows"
	}
	return p
}

func goArch(a string) string {
	switch a {
	case "x64":
		return "amd64"
	case "ia32":
		return "386"
	}
	return a
}

// DepsKey is the dependency cache key: the lockfile's SHA-256, Node's
// major.minor and the platform. Equal keys give interchangeable trees.
func DepsKey(lockfile []byte, tc *Toolchain) string {
	sum := sha256.Sum256(lockfile)
	return fmt.Sprintf("%s-node%s-%s", hex.EncodeToString(sum[:])[:32], tc.MajorMinor(), strings.ReplaceAll(tc.Platform, "/", "-"))
}

// InstallError carries npm's output when `npm ci` fails.
type InstallError struct {
	Err    error
	Output string
}

func (e *InstallError) Error() string {
	return fmt.Sprintf("npm ci --omit=dev failed: %v\n%s\nfix the lockfile (`npm install` updates it) or the registry access (.npmrc), then build again", e.Err, e.Output)
}

// InstallProduction runs `npm ci --omit=dev` for app into dir, which gets
// dir/node_modules. Only package.json (without its scripts: the root's
// lifecycle scripts expect the full source tree), the lockfile and .npmrc
// are copied, so the result depends on nothing else in the app. Dependencies'
// own install scripts run, as they do with npm.
func (t *Toolchain) InstallProduction(ctx context.Context, app *App, dir string) error {
	var pkg map[string]json.RawMessage
	if err := json.Unmarshal(app.PackageJSONBytes, &pkg); err != nil {
		return err
	}
	delete(pkg, "scripts")
	clean, err := json.MarshalIndent(pkg, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "package.json"), clean, 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, filepath.Base(app.LockfilePath)), app.LockfileBytes, 0o644); err != nil {
		return err
	}
	if rc, err := os.ReadFile(filepath.Join(app.Dir, ".npmrc")); err == nil {
		if err := os.WriteFile(filepath.Join(dir, ".npmrc"), rc, 0o600); err != nil {
			return err
		}
	}
	cmd := exec.CommandContext(ctx, t.NPM, "ci", "--omit=dev", "--no-audit", "--no-fund", "--loglevel=error")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"npm_config_update_notifier=false",
		"NODE_ENV=production",
		// npm runs with this node, so native addons match the cache key.
		"PATH="+filepath.Dir(t.Node)+string(os.PathListSeparator)+os.Getenv("PATH"),
	)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return &InstallError{Err: err, Output: tail(out.String(), 30)}
	}
	nm := filepath.Join(dir, "node_modules")
	if _, err := os.Stat(nm); errors.Is(err, os.ErrNotExist) {
		// No dependencies: an empty node_modules keeps the layer well formed.
		return os.Mkdir(nm, 0o755)
	}
	return nil
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
