package sbom

import (
	"bufio"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"

	"github.com/aetherengine/aether/pkg/nodejs"
)

var fixedTime = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

func loadLock(t testing.TB, path string) *nodejs.Lockfile {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	l, err := nodejs.ParseLockfile(data)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	s := bufio.NewScanner(f)
	for s.Scan() {
		if l := strings.TrimSpace(s.Text()); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// installTree writes a node_modules skeleton: a package.json (with the
// given extra fields) for each lockfile path, as npm would have installed.
func installTree(t *testing.T, lock *nodejs.Lockfile, paths []string, extra map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for _, p := range paths {
		pj := map[string]any{"name": lock.PackageName(p), "version": lock.Packages[p].Version}
		if e, ok := extra[p]; ok {
			if err := json.Unmarshal([]byte(e), &pj); err != nil {
				t.Fatal(err)
			}
		}
		b, _ := json.Marshal(pj)
		d := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "package.json"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// encodeAndValidate encodes bom, checks it passes Validate, and decodes it
// again, so that tests look at what consumers see.
func encodeAndValidate(t *testing.T, bom *cdx.BOM) (*cdx.BOM, []byte) {
	t.Helper()
	data, err := Encode(bom)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Validate(data); err != nil {
		t.Fatalf("generated SBOM is invalid: %v", err)
	}
	var back cdx.BOM
	if err := cdx.NewBOMDecoder(strings.NewReader(string(data)), cdx.BOMFileFormatJSON).Decode(&back); err != nil {
		t.Fatal(err)
	}
	return &back, data
}

func paths(c cdx.Component) []string {
	var out []string
	if c.Properties != nil {
		for _, p := range *c.Properties {
			if p.Name == PropertyPath {
				out = append(out, p.Value)
			}
		}
	}
	return out
}

// reference is the stock cyclonedx-npm SBOM of the fixture, flattened:
// purl -> component, and purl -> dependency purls.
type reference struct {
	components map[string]cdx.Component
	deps       map[string][]string
	root       string
}

func loadReference(t *testing.T) reference {
	t.Helper()
	f, err := os.Open("testdata/express-app/cyclonedx-npm.cdx.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var bom cdx.BOM
	if err := cdx.NewBOMDecoder(f, cdx.BOMFileFormatJSON).Decode(&bom); err != nil {
		t.Fatal(err)
	}
	ref := reference{components: map[string]cdx.Component{}, deps: map[string][]string{}}
	purlOf := map[string]string{bom.Metadata.Component.BOMRef: bom.Metadata.Component.PackageURL}
	ref.root = bom.Metadata.Component.PackageURL
	var walk func([]cdx.Component)
	walk = func(cs []cdx.Component) {
		for _, c := range cs {
			purlOf[c.BOMRef] = c.PackageURL
			ref.components[c.PackageURL] = c
			if c.Components != nil {
				walk(*c.Components)
			}
		}
	}
	walk(*bom.Components)
	for _, d := range *bom.Dependencies {
		var list []string
		if d.Dependencies != nil {
			for _, r := range *d.Dependencies {
				list = append(list, purlOf[r])
			}
		}
		slices.Sort(list)
		ref.deps[purlOf[d.Ref]] = list
	}
	return ref
}

// TestRealLockfile compares the SBOM of a lockfile npm wrote with what npm
// installed from it and with the SBOM the stock cyclonedx-npm tool wrote for
// that installed tree.
func TestRealLockfile(t *testing.T) {
	lock := loadLock(t, "testdata/express-app/package-lock.json")
	installedPaths := readLines(t, "testdata/express-app/npm-ci-omit-dev.txt")
	dir := installTree(t, lock, installedPaths, nil)
	bom, err := FromLockfile(lock, Options{InstalledDir: dir, Timestamp: fixedTime, ToolVersion: "test"})
	if err != nil {
		t.Fatal(err)
	}
	got, data := encodeAndValidate(t, bom)
	want := loadReference(t)

	t.Run("every installed package once, no dev package", func(t *testing.T) {
		var all []string
		for _, c := range *got.Components {
			for _, p := range paths(c) {
				if lock.Packages[p].Dev {
					t.Errorf("%s is a dev package", p)
				}
				all = append(all, p)
			}
		}
		slices.Sort(all)
		if !slices.Equal(all, installedPaths) {
			t.Errorf("component paths differ from what npm ci --omit=dev installed:\n got %v\nwant %v", all, installedPaths)
		}
	})
	t.Run("same components as cyclonedx-npm", func(t *testing.T) {
		var purls, wantPurls []string
		for _, c := range *got.Components {
			purls = append(purls, c.PackageURL)
			if c.BOMRef != c.PackageURL {
				t.Errorf("bom-ref %q is not the purl %q", c.BOMRef, c.PackageURL)
			}
			w, ok := want.components[c.PackageURL]
			if !ok {
				continue
			}
			if c.Group != w.Group || c.Name != w.Name || c.Version != w.Version {
				t.Errorf("%s: group/name/version %q %q %q, cyclonedx-npm %q %q %q", c.PackageURL, c.Group, c.Name, c.Version, w.Group, w.Name, w.Version)
			}
			if lic, wlic := licenseText(c.Licenses), licenseText(w.Licenses); lic != wlic {
				t.Errorf("%s: license %s, cyclonedx-npm %s", c.PackageURL, lic, wlic)
			}
		}
		for p := range want.components {
			wantPurls = append(wantPurls, p)
		}
		slices.Sort(wantPurls)
		if !slices.Equal(purls, wantPurls) {
			t.Errorf("purls differ:\n got %v\nwant %v", purls, wantPurls)
		}
		if got.Metadata.Component.PackageURL != want.root {
			t.Errorf("root purl %q, cyclonedx-npm %q", got.Metadata.Component.PackageURL, want.root)
		}
	})
	t.Run("same dependency graph as cyclonedx-npm", func(t *testing.T) {
		if len(*got.Dependencies) != len(want.deps) {
			t.Errorf("%d dependency entries, cyclonedx-npm %d", len(*got.Dependencies), len(want.deps))
		}
		for _, d := range *got.Dependencies {
			var list []string
			if d.Dependencies != nil {
				list = *d.Dependencies
			}
			if !slices.IsSorted(list) {
				t.Errorf("%s: dependsOn not sorted", d.Ref)
			}
			if w := want.deps[d.Ref]; !slices.Equal(list, w) {
				t.Errorf("%s depends on\n %v\ncyclonedx-npm says\n %v", d.Ref, list, w)
			}
		}
	})
	t.Run("hashes are the lockfile integrity", func(t *testing.T) {
		for _, c := range *got.Components {
			p := paths(c)[0]
			integrity := lock.Packages[p].Integrity
			if c.Hashes == nil || len(*c.Hashes) != 1 {
				t.Errorf("%s: hashes %v for integrity %q", c.PackageURL, c.Hashes, integrity)
				continue
			}
			h := (*c.Hashes)[0]
			raw, err := hex.DecodeString(h.Value)
			if err != nil || h.Algorithm != cdx.HashAlgoSHA512 || "sha512-"+base64.StdEncoding.EncodeToString(raw) != integrity {
				t.Errorf("%s: hash %s %s does not match integrity %q", c.PackageURL, h.Algorithm, h.Value, integrity)
			}
		}
	})
	t.Run("metadata", func(t *testing.T) {
		md := got.Metadata
		if md.Timestamp != "2025-01-02T03:04:05Z" || md.Component.Type != cdx.ComponentTypeApplication || md.Component.Name != lock.Name || md.Component.Version != lock.Version {
			t.Errorf("metadata %+v / %+v", md, md.Component)
		}
		if md.Tools == nil || md.Tools.Components == nil || (*md.Tools.Components)[0].Name != "aether" || (*md.Tools.Components)[0].Version != "test" {
			t.Errorf("tools %+v", md.Tools)
		}
		if !strings.HasPrefix(got.SerialNumber, "urn:uuid:") || got.SpecVersion != cdx.SpecVersion1_6 {
			t.Errorf("serial %q spec %v", got.SerialNumber, got.SpecVersion)
		}
	})
	t.Run("summary", func(t *testing.T) {
		s, err := Validate(data)
		if err != nil {
			t.Fatal(err)
		}
		if s.Components != len(want.components) || s.RootName != lock.Name || s.RootVersion != lock.Version || s.SerialNumber != got.SerialNumber || s.SpecVersion != "1.6" {
			t.Errorf("summary %+v", s)
		}
	})
	t.Run("without the installed tree, optional packages of other platforms stay", func(t *testing.T) {
		bom, err := FromLockfile(lock, Options{Timestamp: fixedTime})
		if err != nil {
			t.Fatal(err)
		}
		got, _ := encodeAndValidate(t, bom)
		prod := lock.Production()
		n := 0
		for _, c := range *got.Components {
			n += len(paths(c))
			if p := paths(c)[0]; lock.Packages[p].Optional != (c.Scope == cdx.ScopeOptional) {
				t.Errorf("%s: scope %q, lockfile optional=%v", c.PackageURL, c.Scope, lock.Packages[p].Optional)
			}
		}
		if n != len(prod) {
			t.Errorf("%d paths described, Production has %d", n, len(prod))
		}
	})
}

// licenseText renders licenses for comparison, as a set (cyclonedx-npm
// repeats a license that package.json gives both as `license` and in the
// legacy `licenses`).
func licenseText(l *cdx.Licenses) string {
	if l == nil {
		return "none"
	}
	var parts []string
	for _, c := range *l {
		switch {
		case c.Expression != "":
			parts = append(parts, "expr:"+c.Expression)
		case c.License != nil && c.License.ID != "":
			parts = append(parts, "id:"+c.License.ID)
		case c.License != nil:
			parts = append(parts, "name:"+c.License.Name)
		}
	}
	slices.Sort(parts)
	return strings.Join(slices.Compact(parts), ",")
}

func TestDeterministic(t *testing.T) {
	raw, err := os.ReadFile("testdata/express-app/package-lock.json")
	if err != nil {
		t.Fatal(err)
	}
	// The same lockfile with its keys in another order (Go sorts map keys,
	// npm does not) must give the same bytes.
	var generic map[string]any
	if err := json.Unmarshal(raw, &generic); err != nil {
		t.Fatal(err)
	}
	reordered, err := json.Marshal(generic)
	if err != nil {
		t.Fatal(err)
	}
	gen := func(data []byte, ts time.Time) []byte {
		l, err := nodejs.ParseLockfile(data)
		if err != nil {
			t.Fatal(err)
		}
		bom, err := FromLockfile(l, Options{Timestamp: ts, ToolVersion: "1.0.0"})
		if err != nil {
			t.Fatal(err)
		}
		out, err := Encode(bom)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	first := gen(raw, fixedTime)
	for i, data := range [][]byte{raw, raw, reordered, reordered} {
		if got := gen(data, fixedTime); string(got) != string(first) {
			t.Fatalf("run %d differs from the first", i)
		}
	}
	other := gen(raw, fixedTime.Add(time.Second))
	var a, b struct{ SerialNumber string }
	_ = json.Unmarshal(first, &a)
	_ = json.Unmarshal(other, &b)
	if a.SerialNumber == b.SerialNumber {
		t.Error("different content, same serial number")
	}
}
