package main

import (
	"bytes"
	"crypto/sha1"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"runtime/debug"
	"slices"
	"sort"
	"strings"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"
)

// Bounds on `go version -m` output: the control plane's is ~12 KB with
// ~150 modules.
const (
	maxGoVersionOutput = 4 << 20
	maxGoModules       = 10000
)

// Property names this SBOM writes.
const (
	propGoSum       = "aether:go:sum"       // the module's go.sum hash (h1:…)
	propReplaces    = "aether:go:replaces"  // the module path@version a replace directive swapped out
	propPlatforms   = "aether:go:platforms" // the platforms whose binary links this module, when not all
	propBuildPrefix = "aether:go:build:"    // one per build setting of the binary
	propImagePlat   = "aether:image:platform"
)

// goBinary is one platform's `go version -m` output.
type goBinary struct {
	Platform string
	Output   []byte
}

// parseGoVersionM reads `go version -m BINARY` output: a first line
// "BINARY: goVERSION", then the binary's build info, one tab-indented
// line each, in the format debug.BuildInfo.String writes (which
// debug.ParseBuildInfo reads back).
func parseGoVersionM(out []byte) (*debug.BuildInfo, error) {
	if len(out) > maxGoVersionOutput {
		return nil, fmt.Errorf("go version -m output is %d bytes, over the %d MiB limit", len(out), maxGoVersionOutput>>20)
	}
	first, rest, _ := bytes.Cut(out, []byte("\n"))
	_, goVersion, ok := strings.Cut(string(first), ": ")
	goVersion = strings.TrimSpace(goVersion)
	if !ok || !strings.HasPrefix(goVersion, "go") || strings.ContainsAny(goVersion, " \t") {
		return nil, fmt.Errorf("go version -m output starts with %q, not \"BINARY: goVERSION\" (is it a Go binary?)", truncate(string(first), 80))
	}
	var info strings.Builder
	for line := range strings.SplitSeq(string(rest), "\n") {
		if line == "" {
			continue
		}
		body, ok := strings.CutPrefix(line, "\t")
		if !ok {
			return nil, fmt.Errorf("go version -m output line %q is not tab-indented build info", truncate(line, 80))
		}
		info.WriteString(body)
		info.WriteByte('\n')
	}
	bi, err := debug.ParseBuildInfo(info.String())
	if err != nil {
		return nil, fmt.Errorf("go version -m output: %w", err)
	}
	if bi.Path == "" {
		return nil, errors.New("go version -m output has no path line: the binary carries no module build info (built with -buildinfo=false?)")
	}
	if len(bi.Deps) > maxGoModules {
		return nil, fmt.Errorf("go version -m output lists %d modules, over the limit of %d", len(bi.Deps), maxGoModules)
	}
	bi.GoVersion = goVersion
	return bi, nil
}

// goPURL is the package URL of a Go module (purl-spec golang type);
// subpath names a package inside it.
func goPURL(path, version, subpath string) string {
	segs := strings.Split(path, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(strings.ToLower(s))
	}
	p := "pkg:golang/" + strings.Join(segs, "/")
	if version != "" {
		p += "@" + url.PathEscape(version)
	}
	if subpath != "" {
		p += "#" + subpath
	}
	return p
}

// sbomInput names what the SBOM describes.
type sbomInput struct {
	// Name is the command (aether-fetch); Version the release version.
	Name, Version string
	// Created is metadata.timestamp: the build's fixed time.
	Created time.Time
	// Binaries are the per-platform `go version -m` outputs, at least one.
	Binaries []goBinary
}

// moduleRow is one module seen in one or more binaries.
type moduleRow struct {
	mod       debug.Module // the module linked (after replacement)
	replaces  string
	platforms []string
}

// goModulesSBOM describes an image's command as a CycloneDX 1.6 BOM: the
// command as metadata.component, and every Go module its binaries link
// (the standard library included) as a library component. Modules linked
// on some platforms only say which. The serial number is derived from the
// content, so the same binaries give the same bytes.
func goModulesSBOM(in sbomInput) (*cdx.BOM, error) {
	if len(in.Binaries) == 0 {
		return nil, errors.New("no binaries to describe")
	}
	rows := map[string]*moduleRow{}
	var first *debug.BuildInfo
	for _, b := range in.Binaries {
		bi, err := parseGoVersionM(b.Output)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", b.Platform, err)
		}
		if first == nil {
			first = bi
		} else if bi.Path != first.Path || bi.GoVersion != first.GoVersion {
			return nil, fmt.Errorf("%s binary is %s built by %s, the %s one %s built by %s: not the same command", b.Platform, bi.Path, bi.GoVersion, in.Binaries[0].Platform, first.Path, first.GoVersion)
		}
		mods := append([]*debug.Module{{Path: "stdlib", Version: bi.GoVersion}}, bi.Deps...)
		for _, d := range mods {
			m, replaces := *d, ""
			if d.Replace != nil {
				m, replaces = *d.Replace, d.Path+"@"+d.Version
			}
			key := m.Path + "@" + m.Version
			r := rows[key]
			if r == nil {
				r = &moduleRow{mod: m, replaces: replaces}
				rows[key] = r
			}
			if !slices.Contains(r.platforms, b.Platform) {
				r.platforms = append(r.platforms, b.Platform)
			}
		}
	}
	all := make([]string, len(in.Binaries))
	for i, b := range in.Binaries {
		all[i] = b.Platform
	}
	sort.Strings(all)

	mainRef := goPURL(first.Main.Path, in.Version, strings.TrimPrefix(strings.TrimPrefix(first.Path, first.Main.Path), "/"))
	mainProps := []cdx.Property{}
	for _, p := range all {
		mainProps = append(mainProps, cdx.Property{Name: propImagePlat, Value: p})
	}
	for _, s := range first.Settings {
		switch s.Key {
		case "GOOS", "GOARCH", "GOAMD64", "GOARM64", "GOARM":
			continue // per platform; the platforms are listed above
		}
		mainProps = append(mainProps, cdx.Property{Name: propBuildPrefix + s.Key, Value: s.Value})
	}
	comps := make([]cdx.Component, 0, len(rows))
	refs := make([]string, 0, len(rows))
	for _, r := range rows {
		var ref string
		if r.mod.Path == "stdlib" {
			ref = "pkg:golang/stdlib@" + url.PathEscape(r.mod.Version)
		} else {
			ref = goPURL(r.mod.Path, r.mod.Version, "")
		}
		c := cdx.Component{
			BOMRef:     ref,
			Type:       cdx.ComponentTypeLibrary,
			Name:       r.mod.Path,
			Version:    r.mod.Version,
			PackageURL: ref,
			Scope:      cdx.ScopeRequired,
		}
		var props []cdx.Property
		if r.mod.Sum != "" {
			props = append(props, cdx.Property{Name: propGoSum, Value: r.mod.Sum})
		}
		if r.replaces != "" {
			props = append(props, cdx.Property{Name: propReplaces, Value: r.replaces})
		}
		if len(r.platforms) < len(all) {
			sort.Strings(r.platforms)
			for _, p := range r.platforms {
				props = append(props, cdx.Property{Name: propPlatforms, Value: p})
			}
		}
		if len(props) > 0 {
			c.Properties = &props
		}
		comps = append(comps, c)
		refs = append(refs, ref)
	}
	sort.Slice(comps, func(i, j int) bool { return comps[i].BOMRef < comps[j].BOMRef })
	sort.Strings(refs)

	bom := cdx.NewBOM()
	bom.SpecVersion = cdx.SpecVersion1_6
	bom.JSONSchema = "http://cyclonedx.org/schema/bom-1.6.schema.json"
	bom.Version = 1
	bom.Metadata = &cdx.Metadata{
		Tools: &cdx.ToolsChoice{Components: &[]cdx.Component{{
			Type: cdx.ComponentTypeApplication, Name: "aether-imagebuild", Version: in.Version,
		}}},
		Component: &cdx.Component{
			BOMRef:     mainRef,
			Type:       cdx.ComponentTypeApplication,
			Name:       in.Name,
			Version:    in.Version,
			PackageURL: mainRef,
			Properties: &mainProps,
		},
	}
	if !in.Created.IsZero() {
		bom.Metadata.Timestamp = in.Created.UTC().Format(time.RFC3339)
	}
	bom.Components = &comps
	bom.Dependencies = &[]cdx.Dependency{{Ref: mainRef, Dependencies: &refs}}
	serial, err := serialNumber(bom)
	if err != nil {
		return nil, err
	}
	bom.SerialNumber = serial
	return bom, nil
}

// serialNamespace is the UUIDv5 namespace of aether SBOM serial numbers,
// the one pkg/sbom uses: uuid5(NAMESPACE_URL, "urn:aetherengine:sbom").
var serialNamespace = [16]byte{0xcc, 0x52, 0x66, 0xa3, 0x35, 0x42, 0x53, 0x85, 0x93, 0x5b, 0x49, 0xfa, 0x49, 0xa4, 0xe1, 0x79}

// serialNumber derives the BOM's urn:uuid from its content (a random one
// would make two builds of the same binaries differ).
func serialNumber(bom *cdx.BOM) (string, error) {
	body, err := json.Marshal(bom)
	if err != nil {
		return "", fmt.Errorf("encoding the CycloneDX SBOM: %w", err)
	}
	h := sha1.New()
	h.Write(serialNamespace[:])
	h.Write(body)
	var u [16]byte
	copy(u[:], h.Sum(nil))
	u[6] = u[6]&0x0f | 0x50 // version 5
	u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
	return fmt.Sprintf("urn:uuid:%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16]), nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
