// Package nodejs knows Node.js apps: it detects one in a directory, reads its
// package.json and package-lock.json, finds its start command, and installs
// its production dependencies with `npm ci` into a cache.
package nodejs

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Bounds on what is read from an app directory.
const (
	maxPackageJSON = 8 << 20
	maxLockfile    = 64 << 20
)

// DefaultPort is the port an app is assumed to listen on when nothing says
// otherwise.
const DefaultPort = 3000

// Lockfile names npm writes. npm-shrinkwrap.json takes precedence, as in npm.
const (
	LockfileName   = "package-lock.json"
	ShrinkwrapName = "npm-shrinkwrap.json"
)

// unsupportedLockfiles maps other package managers' lockfiles to advice.
var unsupportedLockfiles = []struct{ name, tool string }{
	{"yarn.lock", "yarn"},
	{"pnpm-lock.yaml", "pnpm"},
	{"bun.lockb", "bun"},
	{"bun.lock", "bun"},
}

// App is a detected Node.js app.
type App struct {
	// Dir is the app's directory (absolute).
	Dir string
	// Package is the parsed package.json.
	Package PackageJSON
	// PackageJSONBytes is package.json as read.
	PackageJSONBytes []byte
	// LockfilePath is the lockfile used (package-lock.json or
	// npm-shrinkwrap.json).
	LockfilePath string
	// LockfileBytes is the lockfile as read.
	LockfileBytes []byte
}

// PackageJSON is the part of package.json aether reads.
type PackageJSON struct {
	Name                 string            `json:"name"`
	Version              string            `json:"version"`
	Main                 string            `json:"main"`
	Scripts              map[string]string `json:"scripts"`
	Dependencies         map[string]string `json:"dependencies"`
	DevDependencies      map[string]string `json:"devDependencies"`
	OptionalDependencies map[string]string `json:"optionalDependencies"`
	Workspaces           json.RawMessage   `json:"workspaces"`
	Engines              map[string]string `json:"engines"`
}

// DetectError explains why a directory is not a buildable Node.js app.
type DetectError struct {
	Dir    string
	Reason string
	Hint   string
}

func (e *DetectError) Error() string {
	msg := fmt.Sprintf("%s: %s", e.Dir, e.Reason)
	if e.Hint != "" {
		msg += "; " + e.Hint
	}
	return msg
}

// Detect reads the Node.js app in dir. It requires package.json and an npm
// lockfile, and refuses other package managers' lockfiles with advice.
func Detect(dir string) (*App, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	fi, err := os.Stat(abs)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, &DetectError{Dir: dir, Reason: "no such directory"}
		}
		return nil, err
	}
	if !fi.IsDir() {
		return nil, &DetectError{Dir: dir, Reason: "not a directory", Hint: "pass the app's directory (the one with package.json)"}
	}
	pkgBytes, err := readBounded(filepath.Join(abs, "package.json"), maxPackageJSON)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &DetectError{Dir: dir, Reason: "no package.json: not a Node.js app", Hint: "run aether in the app's directory, or create one with `npm init`"}
	}
	if err != nil {
		return nil, fmt.Errorf("reading package.json: %w", err)
	}
	var pkg PackageJSON
	if err := json.Unmarshal(pkgBytes, &pkg); err != nil {
		return nil, &DetectError{Dir: dir, Reason: "package.json is not valid JSON: " + jsonErrorLocation(pkgBytes, err), Hint: "fix package.json (`npm pkg get` shows what npm reads)"}
	}
	if len(pkg.Workspaces) > 0 && string(pkg.Workspaces) != "null" {
		return nil, &DetectError{Dir: dir, Reason: "npm workspaces are not supported yet", Hint: "build each workspace package as its own app"}
	}
	app := &App{Dir: abs, Package: pkg, PackageJSONBytes: pkgBytes}
	for _, name := range []string{ShrinkwrapName, LockfileName} {
		p := filepath.Join(abs, name)
		b, err := readBounded(p, maxLockfile)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", name, err)
		}
		app.LockfilePath, app.LockfileBytes = p, b
		return app, nil
	}
	for _, u := range unsupportedLockfiles {
		if _, err := os.Stat(filepath.Join(abs, u.name)); err == nil {
			return nil, &DetectError{Dir: dir, Reason: fmt.Sprintf("found %s, but only npm's package-lock.json is supported for now", u.name),
				Hint: fmt.Sprintf("create one with `npm install --package-lock-only` (it reads package.json, not %s), commit it, and build again", u.tool)}
		}
	}
	return nil, &DetectError{Dir: dir, Reason: "no package-lock.json", Hint: "run `npm install` (or `npm install --package-lock-only`) to create it and commit it: builds install exactly what the lockfile pins"}
}

// StartCommand returns the app's start command as argv: override if given,
// else scripts.start, else main, else the first of server.js, index.js,
// app.js that exists. A command with shell syntax runs under sh -c.
func (a *App) StartCommand(override string) ([]string, error) {
	if s := strings.TrimSpace(override); s != "" {
		return commandArgv(s), nil
	}
	if s := strings.TrimSpace(a.Package.Scripts["start"]); s != "" {
		return commandArgv(s), nil
	}
	if m := strings.TrimSpace(a.Package.Main); m != "" {
		return []string{"node", m}, nil
	}
	for _, f := range []string{"server.js", "index.js", "app.js"} {
		if _, err := os.Stat(filepath.Join(a.Dir, f)); err == nil {
			return []string{"node", f}, nil
		}
	}
	return nil, &DetectError{Dir: a.Dir, Reason: "no start command", Hint: `add "scripts": {"start": "node server.js"} or "main" to package.json, or pass --start "node server.js"`}
}

// commandArgv splits a simple command on spaces; anything with shell syntax
// (quotes, operators, variables, redirections) is run with sh -c.
func commandArgv(s string) []string {
	if strings.ContainsAny(s, "'\"`$&|;<>(){}*?[]~\\\n\t#=") {
		return []string{"sh", "-c", s}
	}
	return strings.Fields(s)
}

func readBounded(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%s is larger than %d MiB", filepath.Base(path), max>>20)
	}
	return b, nil
}

// jsonErrorLocation renders a JSON syntax error with its line and column.
func jsonErrorLocation(data []byte, err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		line, col := 1, 1
		for _, c := range data[:min(int(se.Offset), len(data))] {
			if c == '\n' {
				line, col = line+1, 1
			} else {
				col++
			}
		}
		return fmt.Sprintf("line %d, column %d: %v", line, col, se)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("field %q should be %s, not %s", te.Field, te.Type, te.Value)
	}
	return err.Error()
}
