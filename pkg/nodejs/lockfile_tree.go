package nodejs

import (
	"sort"
	"strings"
)

// Production returns, sorted, the lockfile paths that `npm ci --omit=dev`
// installs, without the root "" and without links.
//
// npm (arborist) marks each package by how the root reaches it: `dev` when
// only through devDependencies, `optional` when only through
// optionalDependencies, and `devOptional` when only through a mix of the two
// (so it is needed if either kind is installed); `peer` when through a
// peerDependency. --omit=dev drops a package only when it is `dev`, or
// `devOptional` while optional dependencies are omitted too; optional and
// peer dependencies are installed by default. So everything but `dev: true`
// is kept. Optional packages for other platforms (fsevents on Linux) are in
// this list although npm skips them at install time: only the installed
// tree can tell, see sbom.Options.InstalledDir.
func (l *Lockfile) Production() []string {
	paths := make([]string, 0, len(l.Packages))
	for p, pkg := range l.Packages {
		if p == "" || pkg.Dev || pkg.Link {
			continue
		}
		paths = append(paths, p)
	}
	sort.Strings(paths)
	return paths
}

// Resolve finds the lockfile path that `require(depName)` from the package
// at fromPath loads, with Node's node_modules lookup: from fromPath up to
// the root, try DIR/node_modules/depName, skipping directories that are
// themselves named node_modules. So node_modules/a/node_modules/b requiring
// c tries node_modules/a/node_modules/b/node_modules/c,
// node_modules/a/node_modules/c, then node_modules/c.
func (l *Lockfile) Resolve(fromPath, depName string) (string, bool) {
	if depName == "" {
		return "", false
	}
	dir := fromPath
	for {
		if dir != "node_modules" && !strings.HasSuffix(dir, "/node_modules") {
			var cand string
			if dir == "" {
				cand = "node_modules/" + depName
			} else {
				cand = dir + "/node_modules/" + depName
			}
			if _, ok := l.Packages[cand]; ok {
				return cand, true
			}
		}
		if dir == "" {
			return "", false
		}
		if i := strings.LastIndexByte(dir, '/'); i >= 0 {
			dir = dir[:i]
		} else {
			dir = ""
		}
	}
}

// Edges returns the names a package at path requires at run time in a
// production install: its dependencies, optionalDependencies and
// peerDependencies (devDependencies of installed packages are never
// installed; the root's are omitted by --omit=dev). Sorted, without
// duplicates.
func (l *Lockfile) Edges(path string) []string {
	p, ok := l.Packages[path]
	if !ok {
		return nil
	}
	seen := make(map[string]struct{}, len(p.Dependencies)+len(p.OptionalDependencies)+len(p.PeerDependencies))
	for _, m := range []map[string]string{p.Dependencies, p.OptionalDependencies, p.PeerDependencies} {
		for name := range m {
			seen[name] = struct{}{}
		}
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
