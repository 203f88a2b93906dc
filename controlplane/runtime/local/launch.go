package local

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// maxCommandArgs bounds the artifact's start command.
const maxCommandArgs = 64

// resolveCommand turns the artifact's start command into an argv whose
// first element is a path: "node" (bare or as a path such as
// /usr/local/bin/node, which is how a container image names it) is the
// configured Node.js binary; another bare name is looked up in the app's
// node_modules/.bin, then PATH; a relative path must stay inside the app.
func resolveCommand(command []string, appDir, node string) ([]string, error) {
	if len(command) == 0 || command[0] == "" {
		return nil, errors.New("the artifact's config has no start command (app.command); rebuild it with `aether build`")
	}
	if len(command) > maxCommandArgs {
		return nil, fmt.Errorf("the start command has %d arguments, at most %d", len(command), maxCommandArgs)
	}
	for _, a := range command {
		if strings.ContainsRune(a, 0) {
			return nil, errors.New("the start command contains a NUL byte")
		}
	}
	argv := append([]string(nil), command...)
	name := argv[0]
	switch {
	case isNode(name):
		p, err := nodePath(node)
		if err != nil {
			return nil, err
		}
		argv[0] = p
	case !strings.ContainsRune(name, '/'):
		p, err := lookPathIn(name, appPath(appDir))
		if err != nil {
			return nil, fmt.Errorf("start command %q: not found in the app's node_modules/.bin or PATH", name)
		}
		argv[0] = p
	case filepath.IsAbs(name):
	default:
		p := filepath.Join(appDir, name)
		if rel, err := filepath.Rel(appDir, p); err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
			return nil, fmt.Errorf("start command %q points outside the app", name)
		}
		argv[0] = p
	}
	return argv, nil
}

// isNode reports whether a command names Node.js.
func isNode(name string) bool {
	b := filepath.Base(name)
	return b == "node" || b == "nodejs"
}

// nodePath finds the Node.js binary: the configured one, else node on PATH.
func nodePath(node string) (string, error) {
	if node == "" {
		node = "node"
	}
	p, err := exec.LookPath(node)
	if err != nil {
		return "", fmt.Errorf("the Node.js binary %q was not found: install Node.js or give its path (--node / AETHER_NODE): %w", node, err)
	}
	return filepath.Abs(p)
}

// appPath is the app's PATH: its node_modules/.bin first, as npm start
// does, then the server's PATH.
func appPath(appDir string) string {
	return filepath.Join(appDir, "node_modules", ".bin") + string(os.PathListSeparator) + os.Getenv("PATH")
}

// lookPathIn is exec.LookPath over a given PATH value.
func lookPathIn(name, path string) (string, error) {
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			continue
		}
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fs.ErrNotExist
}

// passedEnv are the server's variables an app inherits: what a process
// needs to find its home, locale, time zone, temporary directory,
// certificates and proxy. Nothing else leaks from the server (its own
// settings, keys and passwords stay out of the app).
var passedEnv = []string{
	"HOME", "USER", "LOGNAME", "LANG", "LANGUAGE", "TZ", "TMPDIR",
	"SSL_CERT_FILE", "SSL_CERT_DIR", "NODE_EXTRA_CA_CERTS",
	"HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy",
}

// reservedEnv are set by the runtime; the app's own values are ignored.
var reservedEnv = map[string]bool{"PORT": true, "PATH": true}

// buildEnv is the app's environment without PORT: inherited basics, the
// app's PATH, NODE_ENV=production unless the app sets it, then env (the
// app's settings with the deployment's on top). ignored lists the reserved
// names env tried to set.
func buildEnv(appDir string, env map[string]string) (out, ignored []string) {
	vars := map[string]string{"NODE_ENV": "production"}
	for _, k := range passedEnv {
		if v, ok := os.LookupEnv(k); ok {
			vars[k] = v
		}
	}
	for _, k := range os.Environ() {
		if name, v, ok := strings.Cut(k, "="); ok && strings.HasPrefix(name, "LC_") {
			vars[name] = v
		}
	}
	for k, v := range env {
		if reservedEnv[k] {
			ignored = append(ignored, k)
			continue
		}
		vars[k] = v
	}
	vars["PATH"] = appPath(appDir)
	names := make([]string, 0, len(vars))
	for k := range vars {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		out = append(out, k+"="+vars[k])
	}
	sort.Strings(ignored)
	return out, ignored
}

// mergeEnv puts the deployment's variables over the app's.
func mergeEnv(app, deployment map[string]string) map[string]string {
	out := make(map[string]string, len(app)+len(deployment))
	for k, v := range app {
		out[k] = v
	}
	for k, v := range deployment {
		out[k] = v
	}
	return out
}

// nodeVersion runs `node --version` (bounded) and returns it without the v.
func nodeVersion(ctx context.Context, node string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, node, "--version").Output()
	if err != nil {
		return "", err
	}
	v := strings.TrimPrefix(strings.TrimSpace(string(out)), "v")
	if len(v) > 64 {
		v = v[:64]
	}
	return v, nil
}

// major is the major version of "20.20.2".
func major(v string) string {
	m, _, _ := strings.Cut(strings.TrimPrefix(v, "v"), ".")
	return m
}
