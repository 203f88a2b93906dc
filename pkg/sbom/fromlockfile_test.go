package sbom

import (
	"crypto/sha1"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"slices"
	"strings"
	"testing"

	cdx "github.com/CycloneDX/cyclonedx-go"

	"github.com/aetherengine/aether/pkg/nodejs"
)

// sri returns the SRI string and hex digest npm would record for content.
func sri(content string) (integrity, hexSum string) {
	sum := sha512.Sum512([]byte(content))
	return "sha512-" + base64.StdEncoding.EncodeToString(sum[:]), hex.EncodeToString(sum[:])
}

func byRef(bom *cdx.BOM) (map[string]cdx.Component, map[string][]string) {
	comps := map[string]cdx.Component{}
	for _, c := range *bom.Components {
		comps[c.BOMRef] = c
	}
	deps := map[string][]string{}
	for _, d := range *bom.Dependencies {
		if d.Dependencies != nil {
			deps[d.Ref] = *d.Dependencies
		} else {
			deps[d.Ref] = nil
		}
	}
	return comps, deps
}

func TestFromLockfile(t *testing.T) {
	integA, hexA := sri("a")
	integB, hexB := sri("b")
	sha1Sum := sha1.Sum([]byte("a"))
	lockOf := func(packages string) []byte {
		return []byte(`{"name":"app","version":"1.0.0","lockfileVersion":3,"packages":{` + packages + `}}`)
	}
	tests := []struct {
		name string
		lock []byte
		opts Options
		// installed, when not nil, is the node_modules skeleton to write:
		// lockfile path -> extra package.json fields.
		installed map[string]string
		wantErr   string
		check     func(t *testing.T, comps map[string]cdx.Component, deps map[string][]string, bom *cdx.BOM)
	}{
		{
			name: "scoped package, alias, hashes",
			lock: lockOf(`"": {"name": "app", "version": "1.0.0", "dependencies": {"@s/x": "1", "old": "npm:lodash@3.0.0"}},
				"node_modules/@s/x": {"version": "1.0.0", "integrity": "` + integA + `", "license": "MIT"},
				"node_modules/old": {"name": "lodash", "version": "3.0.0", "integrity": "` + integB + ` sha1-` + base64.StdEncoding.EncodeToString(sha1Sum[:]) + `"}`),
			check: func(t *testing.T, comps map[string]cdx.Component, deps map[string][]string, bom *cdx.BOM) {
				x := comps["pkg:npm/%40s/x@1.0.0"]
				if x.Group != "@s" || x.Name != "x" || x.PackageURL != "pkg:npm/%40s/x@1.0.0" || x.Type != cdx.ComponentTypeLibrary {
					t.Errorf("scoped component %+v", x)
				}
				if x.Hashes == nil || !slices.Equal(*x.Hashes, []cdx.Hash{{Algorithm: cdx.HashAlgoSHA512, Value: hexA}}) {
					t.Errorf("hashes %v", x.Hashes)
				}
				old, ok := comps["pkg:npm/lodash@3.0.0"]
				if !ok || old.Name != "lodash" || old.Group != "" {
					t.Fatalf("alias not described as the real package: %v", comps)
				}
				want := []cdx.Hash{{Algorithm: cdx.HashAlgoSHA1, Value: hex.EncodeToString(sha1Sum[:])}, {Algorithm: cdx.HashAlgoSHA512, Value: hexB}}
				if old.Hashes == nil || !slices.Equal(*old.Hashes, want) {
					t.Errorf("alias hashes %v, want %v", old.Hashes, want)
				}
				if got := deps["pkg:npm/app@1.0.0"]; !slices.Equal(got, []string{"pkg:npm/%40s/x@1.0.0", "pkg:npm/lodash@3.0.0"}) {
					t.Errorf("root deps %v", got)
				}
			},
		},
		{
			name: "same name@version at two paths is one component with merged dependencies",
			lock: lockOf(`"": {"dependencies": {"a": "1", "b": "1"}},
				"node_modules/a": {"version": "1.0.0", "dependencies": {"c": "2"}},
				"node_modules/a/node_modules/c": {"version": "2.0.0", "dependencies": {"d": "1"}},
				"node_modules/b": {"version": "1.0.0", "dependencies": {"c": "2"}},
				"node_modules/b/node_modules/c": {"version": "2.0.0", "dependencies": {"e": "1"}},
				"node_modules/c": {"version": "1.0.0"},
				"node_modules/d": {"version": "1.0.0"},
				"node_modules/e": {"version": "1.0.0"}`),
			check: func(t *testing.T, comps map[string]cdx.Component, deps map[string][]string, bom *cdx.BOM) {
				c2 := comps["pkg:npm/c@2.0.0"]
				if got := paths(c2); !slices.Equal(got, []string{"node_modules/a/node_modules/c", "node_modules/b/node_modules/c"}) {
					t.Errorf("paths %v", got)
				}
				if len(comps) != 6 || len(deps) != 7 {
					t.Errorf("%d components, %d dependency entries", len(comps), len(deps))
				}
				if got := deps["pkg:npm/c@2.0.0"]; !slices.Equal(got, []string{"pkg:npm/d@1.0.0", "pkg:npm/e@1.0.0"}) {
					t.Errorf("merged deps %v", got)
				}
				if got := deps["pkg:npm/a@1.0.0"]; !slices.Equal(got, []string{"pkg:npm/c@2.0.0"}) {
					t.Errorf("a's c resolved to %v, want the nested 2.0.0", got)
				}
				if got := deps["pkg:npm/app@1.0.0"]; !slices.Equal(got, []string{"pkg:npm/a@1.0.0", "pkg:npm/b@1.0.0"}) {
					t.Errorf("root deps %v (c@1 is installed but not a root dependency)", got)
				}
			},
		},
		{
			name: "dev excluded, optional, devOptional and peer kept",
			lock: lockOf(`"": {"dependencies": {"p": "1"}, "devDependencies": {"d": "1"}, "optionalDependencies": {"o": "1"}},
				"node_modules/p": {"version": "1.0.0", "peerDependencies": {"peer": "1"}, "optionalDependencies": {"o": "1"}},
				"node_modules/peer": {"version": "1.0.0", "peer": true},
				"node_modules/o": {"version": "1.0.0", "optional": true},
				"node_modules/d": {"version": "1.0.0", "dev": true, "dependencies": {"dov": "1"}},
				"node_modules/dov": {"version": "1.0.0", "devOptional": true}`),
			check: func(t *testing.T, comps map[string]cdx.Component, deps map[string][]string, bom *cdx.BOM) {
				if _, ok := comps["pkg:npm/d@1.0.0"]; ok {
					t.Error("dev package described")
				}
				if comps["pkg:npm/o@1.0.0"].Scope != cdx.ScopeOptional || comps["pkg:npm/dov@1.0.0"].Scope != cdx.ScopeOptional || comps["pkg:npm/p@1.0.0"].Scope != "" {
					t.Errorf("scopes: o %q dov %q p %q", comps["pkg:npm/o@1.0.0"].Scope, comps["pkg:npm/dov@1.0.0"].Scope, comps["pkg:npm/p@1.0.0"].Scope)
				}
				if got := deps["pkg:npm/p@1.0.0"]; !slices.Equal(got, []string{"pkg:npm/o@1.0.0", "pkg:npm/peer@1.0.0"}) {
					t.Errorf("p deps %v", got)
				}
				if got := deps["pkg:npm/app@1.0.0"]; !slices.Equal(got, []string{"pkg:npm/o@1.0.0", "pkg:npm/p@1.0.0"}) {
					t.Errorf("root deps %v (devDependencies must not appear)", got)
				}
			},
		},
		{
			name: "installed tree: skipped optional left out, license read from package.json",
			lock: lockOf(`"": {"dependencies": {"a": "1", "b": "1", "c": "1", "d": "1"}, "optionalDependencies": {"fsevents": "2"}},
				"node_modules/a": {"version": "1.0.0"},
				"node_modules/b": {"version": "1.0.0"},
				"node_modules/c": {"version": "1.0.0"},
				"node_modules/d": {"version": "1.0.0", "license": "ISC"},
				"node_modules/fsevents": {"version": "2.3.3", "optional": true, "os": ["darwin"]}`),
			installed: map[string]string{
				"node_modules/a": `{"license": "Apache-2.0"}`,
				"node_modules/b": `{"licenses": [{"type": "MIT"}, {"type": "BSD-3-Clause"}]}`,
				"node_modules/c": `{"license": {"type": "SEE LICENSE IN LICENSE.md"}}`,
				"node_modules/d": `{"license": "MIT"}`,
			},
			check: func(t *testing.T, comps map[string]cdx.Component, deps map[string][]string, bom *cdx.BOM) {
				if _, ok := comps["pkg:npm/fsevents@2.3.3"]; ok {
					t.Error("fsevents is not installed but described")
				}
				if got := deps["pkg:npm/app@1.0.0"]; slices.Contains(got, "pkg:npm/fsevents@2.3.3") {
					t.Error("edge to a package that is not installed")
				}
				for ref, want := range map[string]string{
					"pkg:npm/a@1.0.0": "id:Apache-2.0",
					"pkg:npm/b@1.0.0": "expr:(MIT OR BSD-3-Clause)",
					"pkg:npm/c@1.0.0": "name:SEE LICENSE IN LICENSE.md",
					"pkg:npm/d@1.0.0": "id:ISC", // the lockfile wins
				} {
					if got := licenseText(comps[ref].Licenses); got != want {
						t.Errorf("%s: license %s, want %s", ref, got, want)
					}
				}
			},
		},
		{
			name:      "installed tree missing a required package",
			lock:      lockOf(`"": {}, "node_modules/a": {"version": "1.0.0"}, "node_modules/b": {"version": "2.0.0"}`),
			installed: map[string]string{"node_modules/a": `{}`},
			wantErr:   "node_modules/b (b@2.0.0) is in the lockfile but not installed",
		},
		{
			name: "bundled packages and external references",
			lock: lockOf(`"": {"dependencies": {"a": "1", "g": "1", "l": "1"}},
				"node_modules/a": {"version": "1.0.0", "resolved": "https://user:s3cret@npm.example.test/a/-/a-1.0.0.tgz", "dependencies": {"inner": "1"}},
				"node_modules/a/node_modules/inner": {"version": "0.1.0", "inBundle": true},
				"node_modules/g": {"version": "1.0.0", "resolved": "git+ssh://git@git.example.test/org/g.git#0123456789abcdef"},
				"node_modules/l": {"version": "1.0.0", "resolved": "https://tok3n@npm.example.test/l.tgz"}`),
			check: func(t *testing.T, comps map[string]cdx.Component, deps map[string][]string, bom *cdx.BOM) {
				inner := comps["pkg:npm/inner@0.1.0"]
				if inner.Properties == nil || !slices.Contains(*inner.Properties, cdx.Property{Name: PropertyBundled, Value: "true"}) {
					t.Errorf("bundled property missing: %v", inner.Properties)
				}
				for ref, want := range map[string]cdx.ExternalReference{
					"pkg:npm/a@1.0.0": {Type: cdx.ERTypeDistribution, URL: "https://npm.example.test/a/-/a-1.0.0.tgz"},
					"pkg:npm/g@1.0.0": {Type: cdx.ERTypeVCS, URL: "git+ssh://git@git.example.test/org/g.git#0123456789abcdef"},
					"pkg:npm/l@1.0.0": {Type: cdx.ERTypeDistribution, URL: "https://npm.example.test/l.tgz"},
				} {
					c := comps[ref]
					if c.ExternalReferences == nil || !slices.Equal(*c.ExternalReferences, []cdx.ExternalReference{want}) {
						t.Errorf("%s: external references %v, want %v", ref, c.ExternalReferences, want)
					}
				}
				if got := deps["pkg:npm/a@1.0.0"]; !slices.Equal(got, []string{"pkg:npm/inner@0.1.0"}) {
					t.Errorf("a deps %v", got)
				}
			},
		},
		{
			name: "root name and version from options, scoped app",
			lock: lockOf(`"": {"name": "ignored"}`),
			opts: Options{RootName: "@org/svc", RootVersion: "2.0.0-rc.1+build.5"},
			check: func(t *testing.T, comps map[string]cdx.Component, deps map[string][]string, bom *cdx.BOM) {
				c := bom.Metadata.Component
				if c.Group != "@org" || c.Name != "svc" || c.PackageURL != "pkg:npm/%40org/svc@2.0.0-rc.1%2Bbuild.5" || c.BOMRef != c.PackageURL {
					t.Errorf("root %+v", c)
				}
				if _, ok := deps[c.BOMRef]; !ok || len(comps) != 0 {
					t.Errorf("deps %v comps %v", deps, comps)
				}
			},
		},
		{
			name:    "no app name",
			lock:    []byte(`{"lockfileVersion":3,"packages":{"":{}}}`),
			wantErr: "the app has no name",
		},
		{
			name:    "app installs itself",
			lock:    lockOf(`"": {"name": "app", "version": "1.0.0"}, "node_modules/app": {"version": "1.0.0"}`),
			wantErr: "the app itself",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lock, err := nodejs.ParseLockfile(tt.lock)
			if err != nil {
				t.Fatal(err)
			}
			opts := tt.opts
			opts.Timestamp = fixedTime
			if tt.installed != nil {
				var ps []string
				for p := range tt.installed {
					ps = append(ps, p)
				}
				opts.InstalledDir = installTree(t, lock, ps, tt.installed)
			}
			bom, err := FromLockfile(lock, opts)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			back, _ := encodeAndValidate(t, bom)
			comps, deps := byRef(back)
			// Every dependency entry points at described components only.
			for ref, list := range deps {
				if _, ok := comps[ref]; !ok && ref != back.Metadata.Component.BOMRef {
					t.Errorf("dependency entry for unknown %s", ref)
				}
				for _, d := range list {
					if _, ok := comps[d]; !ok {
						t.Errorf("%s depends on undescribed %s", ref, d)
					}
				}
			}
			tt.check(t, comps, deps, back)
		})
	}
}

func TestFromLockfileInstalledDirMissing(t *testing.T) {
	lock, err := nodejs.ParseLockfile([]byte(`{"name":"app","lockfileVersion":3,"packages":{"":{}}}`))
	if err != nil {
		t.Fatal(err)
	}
	_, err = FromLockfile(lock, Options{InstalledDir: t.TempDir() + "/nope"})
	if err == nil || !strings.Contains(err.Error(), "installed dependencies") {
		t.Fatalf("err = %v", err)
	}
	if _, err := FromLockfile(nil, Options{}); err == nil {
		t.Fatal("nil lockfile accepted")
	}
}
