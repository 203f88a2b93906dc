package nodejs

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Bounds on a lockfile. The biggest real-world lockfiles are a few MiB with
// a few thousand packages; these leave two orders of magnitude of headroom
// while keeping a hostile file from exhausting memory.
const (
	// MaxLockfileBytes is the largest lockfile ParseLockfile accepts.
	MaxLockfileBytes = 64 << 20
	// MaxLockfilePackages is the most entries of `packages` ParseLockfile accepts.
	MaxLockfilePackages = 200_000
)

// ErrUnsupportedLockfile marks a lockfile that is valid for npm but uses a
// feature aether cannot build yet (workspaces, linked local packages,
// lockfile v1). Callers tell the user what to change rather than retry.
var ErrUnsupportedLockfile = errors.New("unsupported lockfile")

// Lockfile is a parsed package-lock.json or npm-shrinkwrap.json of
// lockfileVersion 2 or 3: the flat `packages` map npm >= 7 writes, which
// records every installed folder by its path.
type Lockfile struct {
	// Name and Version are the root project's, from the lockfile's top level.
	Name, Version string
	// LockfileVersion is 2 or 3.
	LockfileVersion int
	// Packages maps a lockfile path ("node_modules/a/node_modules/@s/b") to
	// what npm installs there; "" is the root project.
	Packages map[string]LockPackage
}

// LockPackage is one entry of the lockfile's `packages` map.
type LockPackage struct {
	// Name is set only when the folder name differs from the package name
	// (an alias, `"x": "npm:y@1"`) and on the root entry.
	Name    string
	Version string
	// Resolved is where npm fetched it (a tarball URL, git URL, or for a
	// link the target folder); absent when npm omits registry URLs.
	Resolved string
	// Integrity is the Subresource Integrity string of the tarball.
	Integrity string
	// License is the package's license, normalised to one string (old
	// object and array forms become "TYPE" or "(A OR B)").
	License string

	// The flags below are npm's (arborist's) reachability marks; see
	// Production for what they mean for an install.
	Dev, Optional, DevOptional, Peer bool
	// Link is a symlink to another folder (workspaces, `file:` dependencies).
	Link bool
	// InBundle is shipped inside its parent's tarball (bundleDependencies).
	InBundle bool
	// HasInstallScript says the package runs install scripts.
	HasInstallScript bool

	Dependencies, OptionalDependencies, PeerDependencies, DevDependencies map[string]string
	// PeerDependenciesMeta marks peer dependencies as optional.
	PeerDependenciesMeta map[string]PeerDependencyMeta
	// OS and CPU restrict the platforms the package installs on.
	OS, CPU []string
}

// PeerDependencyMeta is an entry of peerDependenciesMeta.
type PeerDependencyMeta struct {
	Optional bool `json:"optional"`
}

// rawPackage is LockPackage as JSON, with the fields whose shape varies.
type rawPackage struct {
	Name                 string                        `json:"name"`
	Version              string                        `json:"version"`
	Resolved             string                        `json:"resolved"`
	Integrity            string                        `json:"integrity"`
	License              LicenseField                  `json:"license"`
	Dev                  bool                          `json:"dev"`
	Optional             bool                          `json:"optional"`
	DevOptional          bool                          `json:"devOptional"`
	Peer                 bool                          `json:"peer"`
	Link                 bool                          `json:"link"`
	InBundle             bool                          `json:"inBundle"`
	HasInstallScript     bool                          `json:"hasInstallScript"`
	Dependencies         map[string]string             `json:"dependencies"`
	OptionalDependencies map[string]string             `json:"optionalDependencies"`
	PeerDependencies     map[string]string             `json:"peerDependencies"`
	DevDependencies      map[string]string             `json:"devDependencies"`
	PeerDependenciesMeta map[string]PeerDependencyMeta `json:"peerDependenciesMeta"`
	OS                   stringList                    `json:"os"`
	CPU                  stringList                    `json:"cpu"`
	Workspaces           json.RawMessage               `json:"workspaces"`
}

// ParseLockfile parses and checks a lockfile of version 2 or 3. It refuses
// input over MaxLockfileBytes or with more than MaxLockfilePackages entries,
// lockfile v1 (no `packages` map), and features aether does not support yet
// (workspaces and linked local packages: ErrUnsupportedLockfile).
func ParseLockfile(data []byte) (*Lockfile, error) {
	if len(data) > MaxLockfileBytes {
		return nil, fmt.Errorf("lockfile is %d MiB, over the %d MiB limit: is it really a package-lock.json?", len(data)>>20, MaxLockfileBytes>>20)
	}
	l := &Lockfile{}
	dec := json.NewDecoder(bytes.NewReader(data))
	var sawPackages bool
	err := walkObject(dec, func(key string) error {
		switch key {
		case "name":
			return decodeValue(dec, &l.Name, "name")
		case "version":
			return decodeValue(dec, &l.Version, "version")
		case "lockfileVersion":
			return decodeValue(dec, &l.LockfileVersion, "lockfileVersion")
		case "packages":
			sawPackages = true
			return l.decodePackages(dec)
		default:
			return skipValue(dec)
		}
	})
	if err == nil {
		if _, terr := dec.Token(); terr != io.EOF {
			err = errors.New("unexpected data after the top-level object")
		}
	}
	var se *semanticError
	if errors.As(err, &se) {
		return nil, se.err
	}
	if err != nil {
		return nil, fmt.Errorf("lockfile is not a valid package-lock.json: %s", describeJSONError(data, dec, err))
	}
	switch {
	case l.LockfileVersion == 0:
		return nil, errors.New("lockfile has no lockfileVersion: is it a package-lock.json written by npm?")
	case l.LockfileVersion == 1:
		return nil, fmt.Errorf("%w: lockfileVersion 1 (written by npm 6 or older) has no `packages` map; regenerate it with npm >= 7: `npm install --package-lock-only`", ErrUnsupportedLockfile)
	case l.LockfileVersion > 3:
		return nil, fmt.Errorf("%w: lockfileVersion %d is newer than this aether understands (2 and 3); write a v3 lockfile with `npm install --package-lock-only --lockfile-version 3`", ErrUnsupportedLockfile, l.LockfileVersion)
	case l.LockfileVersion < 0:
		return nil, fmt.Errorf("lockfileVersion %d is not valid", l.LockfileVersion)
	case !sawPackages:
		return nil, fmt.Errorf("lockfile (lockfileVersion %d) has no `packages` map; regenerate it with `npm install --package-lock-only`", l.LockfileVersion)
	}
	if root, ok := l.Packages[""]; ok {
		if l.Name == "" {
			l.Name = root.Name
		}
		if l.Version == "" {
			l.Version = root.Version
		}
	}
	return l, nil
}

// decodePackages reads the `packages` object one entry at a time, so that
// the count bound holds before the memory for the entries is spent.
func (l *Lockfile) decodePackages(dec *json.Decoder) error {
	if l.Packages == nil {
		l.Packages = make(map[string]LockPackage)
	}
	n := 0
	return walkObject(dec, func(key string) error {
		n++
		if n > MaxLockfilePackages {
			return &semanticError{fmt.Errorf("lockfile has more than %d packages, over aether's limit: is it really one app's package-lock.json?", MaxLockfilePackages)}
		}
		var raw rawPackage
		if err := decodeValue(dec, &raw, fmt.Sprintf("packages[%q]", key)); err != nil {
			return err
		}
		if err := checkEntry(key, &raw); err != nil {
			return &semanticError{err}
		}
		l.Packages[key] = LockPackage{
			Name: raw.Name, Version: raw.Version, Resolved: raw.Resolved, Integrity: raw.Integrity,
			License: string(raw.License),
			Dev:     raw.Dev, Optional: raw.Optional, DevOptional: raw.DevOptional, Peer: raw.Peer,
			Link: raw.Link, InBundle: raw.InBundle, HasInstallScript: raw.HasInstallScript,
			Dependencies: raw.Dependencies, OptionalDependencies: raw.OptionalDependencies,
			PeerDependencies: raw.PeerDependencies, DevDependencies: raw.DevDependencies,
			PeerDependenciesMeta: raw.PeerDependenciesMeta,
			OS:                   raw.OS, CPU: raw.CPU,
		}
		return nil
	})
}

// checkEntry refuses paths that could escape the install directory and the
// features aether cannot package yet.
func checkEntry(key string, raw *rawPackage) error {
	const workspaces = "workspaces are not supported yet: aether packages one app's node_modules, and a workspace link would point outside it; build the workspace package as its own app (its own package-lock.json, `npm install --package-lock-only` in its folder)"
	if key == "" {
		if len(raw.Workspaces) > 0 && string(raw.Workspaces) != "null" {
			return fmt.Errorf("%w: the root package.json declares workspaces; %s", ErrUnsupportedLockfile, workspaces)
		}
		return nil
	}
	if err := checkRelativePath(key); err != nil {
		return fmt.Errorf("packages[%q]: %v", key, err)
	}
	if raw.Link {
		return fmt.Errorf("%w: packages[%q] is a link to %q (a workspace or `file:` dependency); %s", ErrUnsupportedLockfile, key, raw.Resolved, workspaces)
	}
	if !strings.HasPrefix(key, "node_modules/") {
		return fmt.Errorf("%w: packages[%q] is a package folder outside node_modules (a workspace or `file:` dependency); %s", ErrUnsupportedLockfile, key, workspaces)
	}
	if _, err := splitLockPath(key); err != nil {
		return fmt.Errorf("packages[%q]: %v", key, err)
	}
	return nil
}

// checkRelativePath accepts only clean, relative, slash-separated paths, so
// that joining one to an install directory can never leave it.
func checkRelativePath(p string) error {
	if strings.ContainsAny(p, "\\\x00") {
		return errors.New("path contains a backslash or NUL")
	}
	if strings.HasPrefix(p, "/") {
		return errors.New("path is absolute")
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return errors.New("path is not clean (empty, `.` or `..` segment)")
		}
	}
	return nil
}

// splitLockPath splits "node_modules/a/node_modules/@s/b" into the folder
// names ["a", "@s/b"] and checks that the path has exactly that shape.
func splitLockPath(p string) ([]string, error) {
	segs := strings.Split(p, "/")
	var names []string
	for i := 0; i < len(segs); {
		if segs[i] != "node_modules" || i+1 >= len(segs) {
			return nil, errors.New("not a node_modules path (node_modules/NAME or node_modules/@SCOPE/NAME, nested)")
		}
		name := segs[i+1]
		i += 2
		if strings.HasPrefix(name, "@") {
			if len(name) == 1 || i >= len(segs) {
				return nil, fmt.Errorf("scope %q has no package name after it", name)
			}
			name += "/" + segs[i]
			i++
		}
		if strings.HasPrefix(name, ".") || strings.HasPrefix(segs[i-1], ".") {
			return nil, fmt.Errorf("package folder %q starts with a dot", name)
		}
		names = append(names, name)
	}
	return names, nil
}

// PackageName is the npm package name installed at a lockfile path: the
// entry's name when it is set (aliases), else the folder name after the last
// node_modules/. For the root "" it is the project's name.
func (l *Lockfile) PackageName(path string) string {
	if p, ok := l.Packages[path]; ok && p.Name != "" {
		return p.Name
	}
	if path == "" {
		return l.Name
	}
	if i := strings.LastIndex(path, "node_modules/"); i >= 0 {
		return path[i+len("node_modules/"):]
	}
	return path
}
