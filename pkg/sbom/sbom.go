// Package sbom writes and checks CycloneDX SBOMs. FromLockfile describes a
// Node.js app's production dependencies from its npm lockfile (and, when
// given, the installed node_modules); Encode writes it as deterministic
// JSON; Validate checks an untrusted CycloneDX JSON document against the
// official schemas, which are embedded so nothing is fetched.
package sbom

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"

	"github.com/aetherengine/aether/pkg/nodejs"
)

// SpecVersion is the CycloneDX version FromLockfile writes.
const SpecVersion = cdx.SpecVersion1_6

// Property names from the CycloneDX property taxonomy for npm, the ones
// cyclonedx-npm writes too.
const (
	// PropertyPath is a folder the package is installed in, relative to the
	// app (one property per folder when the same name@version is installed
	// at several).
	PropertyPath = "cdx:npm:package:path"
	// PropertyBundled marks a package shipped inside its parent's tarball.
	PropertyBundled = "cdx:npm:package:bundled"
)

// Options says what FromLockfile describes and how.
type Options struct {
	// RootName and RootVersion name the app; they default to the lockfile's.
	RootName, RootVersion string
	// InstalledDir, when set, is the directory holding the node_modules that
	// `npm ci --omit=dev` installed from this lockfile. Licenses missing from
	// the lockfile are then read from each package.json, and optional
	// packages that npm skipped (other platforms: fsevents on Linux) are
	// left out. A required package missing there is an error.
	InstalledDir string
	// Timestamp is metadata.timestamp; pass a fixed time (the build's) for
	// reproducible output. Zero omits it.
	Timestamp time.Time
	// ToolName and ToolVersion describe the generator (default "aether").
	ToolName, ToolVersion string
}

// component gathers one name@version, possibly installed at several paths.
type component struct {
	ref, name, version string
	paths              []string
	required, bundled  bool
	integrity          []string
	resolved           []string
	license            string
	deps               map[string]struct{}
}

// FromLockfile builds a CycloneDX 1.6 SBOM of the packages `npm ci
// --omit=dev` installs from lock: each one a library component (group =
// npm scope, purl, hashes from `integrity`, declared license, distribution
// URL) identified by its purl, so a name@version installed at several paths
// is one component with their dependencies merged. The dependency graph
// follows Node's resolution over the lockfile paths. The output depends
// only on lock and opts: components and every list are sorted, and the
// serial number is derived from the content (see serialNumber).
func FromLockfile(lock *nodejs.Lockfile, opts Options) (*cdx.BOM, error) {
	if lock == nil {
		return nil, errors.New("no lockfile given")
	}
	rootName := firstNonEmpty(opts.RootName, lock.Name)
	rootVersion := firstNonEmpty(opts.RootVersion, lock.Version)
	if rootName == "" {
		return nil, errors.New("the app has no name: set `name` in package.json (and run `npm install --package-lock-only`) or pass a root name")
	}
	rootRef := NpmPURL(rootName, rootVersion)

	inst, err := newInstalled(opts.InstalledDir)
	if err != nil {
		return nil, err
	}
	defer inst.close()
	included := make(map[string]string) // lockfile path -> bom-ref
	comps := make(map[string]*component)
	for _, p := range lock.Production() {
		pkg := lock.Packages[p]
		license := pkg.License
		if inst != nil {
			present, diskLicense, err := inst.lookup(p)
			if err != nil {
				return nil, err
			}
			if !present {
				if pkg.Optional || pkg.DevOptional {
					continue // npm skips optional packages it cannot install here
				}
				return nil, fmt.Errorf("%s (%s@%s) is in the lockfile but not installed in %s: install with `npm ci --omit=dev` from this lockfile", p, lock.PackageName(p), pkg.Version, opts.InstalledDir)
			}
			if license == "" {
				license = diskLicense
			}
		}
		name := lock.PackageName(p)
		ref := NpmPURL(name, pkg.Version)
		if ref == rootRef {
			return nil, fmt.Errorf("%s installs %s@%s, the app itself; npm refuses this, so the lockfile is inconsistent: regenerate it with `npm install --package-lock-only`", p, name, pkg.Version)
		}
		included[p] = ref
		c := comps[ref]
		if c == nil {
			c = &component{ref: ref, name: name, version: pkg.Version, deps: map[string]struct{}{}}
			comps[ref] = c
		}
		c.paths = append(c.paths, p)
		c.required = c.required || !(pkg.Optional || pkg.DevOptional)
		c.bundled = c.bundled || pkg.InBundle
		if pkg.Integrity != "" {
			c.integrity = append(c.integrity, pkg.Integrity)
		}
		if pkg.Resolved != "" {
			c.resolved = append(c.resolved, pkg.Resolved)
		}
		if c.license == "" {
			c.license = license // paths come sorted, so the first path's wins
		}
	}

	// resolveDeps maps a package's runtime dependency names to the bom-refs
	// Node would load; names npm did not install (a skipped optional
	// dependency, an optional peer) have no edge.
	resolveDeps := func(from string, into map[string]struct{}) {
		for _, dep := range lock.Edges(from) {
			if target, ok := lock.Resolve(from, dep); ok {
				if ref, ok := included[target]; ok {
					into[ref] = struct{}{}
				}
			}
		}
	}
	for p, ref := range included {
		resolveDeps(p, comps[ref].deps)
	}
	rootDeps := map[string]struct{}{}
	resolveDeps("", rootDeps)

	refs := make([]string, 0, len(comps))
	for ref := range comps {
		refs = append(refs, ref)
	}
	slices.Sort(refs)

	components := make([]cdx.Component, 0, len(refs))
	dependencies := make([]cdx.Dependency, 0, len(refs)+1)
	dependencies = append(dependencies, dependency(rootRef, rootDeps))
	for _, ref := range refs {
		c := comps[ref]
		components = append(components, c.cdxComponent())
		delete(c.deps, ref)
		dependencies = append(dependencies, dependency(ref, c.deps))
	}

	bom := cdx.NewBOM()
	bom.SpecVersion = SpecVersion
	bom.JSONSchema = "http://cyclonedx.org/schema/bom-1.6.schema.json"
	bom.XMLNS = ""
	bom.Metadata = metadata(rootName, rootVersion, rootRef, lock, opts)
	bom.Components = &components
	bom.Dependencies = &dependencies
	serial, err := serialNumber(bom)
	if err != nil {
		return nil, err
	}
	bom.SerialNumber = serial
	return bom, nil
}

func metadata(name, version, ref string, lock *nodejs.Lockfile, opts Options) *cdx.Metadata {
	scope, base := splitScope(name)
	app := cdx.Component{
		Type: cdx.ComponentTypeApplication, BOMRef: ref, Group: scope, Name: base,
		Version: version, PackageURL: ref,
		Licenses: licenseChoices(lock.Packages[""].License),
	}
	tool := cdx.Component{Type: cdx.ComponentTypeApplication, Name: firstNonEmpty(opts.ToolName, "aether"), Version: opts.ToolVersion}
	md := &cdx.Metadata{
		Lifecycles: &[]cdx.Lifecycle{{Phase: cdx.LifecyclePhaseBuild}},
		Tools:      &cdx.ToolsChoice{Components: &[]cdx.Component{tool}},
		Component:  &app,
	}
	if !opts.Timestamp.IsZero() {
		md.Timestamp = opts.Timestamp.UTC().Format(time.RFC3339)
	}
	return md
}

func (c *component) cdxComponent() cdx.Component {
	scope, base := splitScope(c.name)
	out := cdx.Component{
		Type: cdx.ComponentTypeLibrary, BOMRef: c.ref, Group: scope, Name: base,
		Version: c.version, PackageURL: c.ref, Licenses: licenseChoices(c.license),
	}
	if !c.required {
		out.Scope = cdx.ScopeOptional
	}
	var hashes []cdx.Hash
	for _, sri := range c.integrity {
		hashes = append(hashes, integrityHashes(sri)...)
	}
	if hashes = sortHashes(hashes); len(hashes) > 0 {
		out.Hashes = &hashes
	}
	var refs []cdx.ExternalReference
	for _, r := range c.resolved {
		if ext, ok := externalReference(r); ok {
			refs = append(refs, ext)
		}
	}
	slices.SortFunc(refs, func(a, b cdx.ExternalReference) int {
		return strings.Compare(string(a.Type)+" "+a.URL, string(b.Type)+" "+b.URL)
	})
	refs = slices.CompactFunc(refs, func(a, b cdx.ExternalReference) bool { return a.Type == b.Type && a.URL == b.URL })
	if len(refs) > 0 {
		out.ExternalReferences = &refs
	}
	props := make([]cdx.Property, 0, len(c.paths)+1)
	if c.bundled {
		props = append(props, cdx.Property{Name: PropertyBundled, Value: "true"})
	}
	for _, p := range c.paths {
		props = append(props, cdx.Property{Name: PropertyPath, Value: p})
	}
	out.Properties = &props
	return out
}

// externalReference turns a lockfile `resolved` into a distribution
// (tarball) or vcs (git) reference. Credentials a private registry or git
// URL may carry are dropped, since an SBOM is published: all user info of
// an http(s) URL (tokens often sit in the user name), the password of
// others (keeping ssh's "git@"). Anything that is not an absolute URL with
// a host (a local path) is left out.
func externalReference(resolved string) (cdx.ExternalReference, bool) {
	u, err := url.Parse(resolved)
	if err != nil || u.Scheme == "" || u.Opaque != "" || u.Host == "" {
		return cdx.ExternalReference{}, false
	}
	if _, hasPassword := u.User.Password(); hasPassword || strings.HasSuffix(u.Scheme, "http") || strings.HasSuffix(u.Scheme, "https") {
		if hasPassword && !strings.HasSuffix(u.Scheme, "http") && !strings.HasSuffix(u.Scheme, "https") {
			u.User = url.User(u.User.Username())
		} else {
			u.User = nil
		}
	}
	typ := cdx.ERTypeDistribution
	if strings.HasPrefix(u.Scheme, "git") {
		typ = cdx.ERTypeVCS
	}
	return cdx.ExternalReference{Type: typ, URL: u.String()}, true
}

func dependency(ref string, deps map[string]struct{}) cdx.Dependency {
	d := cdx.Dependency{Ref: ref}
	if len(deps) > 0 {
		list := make([]string, 0, len(deps))
		for r := range deps {
			list = append(list, r)
		}
		slices.Sort(list)
		d.Dependencies = &list
	}
	return d
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
