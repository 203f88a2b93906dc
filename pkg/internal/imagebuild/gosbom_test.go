package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aetherengine/aether/pkg/sbom"
)

// goVersionM builds `go version -m` output: the first line, then the build
// info lines tab-indented, as the go command prints them.
func goVersionM(lines ...string) []byte {
	var b strings.Builder
	b.WriteString("/tmp/bin/aether-fetch: go1.26.8\n")
	for _, l := range lines {
		b.WriteString("\t" + l + "\n")
	}
	return []byte(b.String())
}

var (
	fetchAMD64 = goVersionM(
		"path\tgithub.com/aetherengine/aether/cmd/aether-fetch",
		"mod\tgithub.com/aetherengine/aether\t(devel)\t",
		"dep\tgithub.com/google/go-containerregistry\tv0.22.1\th1:RZuuSYhTvlDvtsK+NkutoCZ//C0X2ebLK8X8l3ULs84=",
		"dep\tgolang.org/x/sys\tv0.49.0\th1:XbzkgYJHdqh/8m2Uu0W/dQv8nktxx4BFHp1M0gROTXA=",
		"dep\texample.com/Old\tv1.0.0",
		"=>\texample.com/new\tv1.1.0\th1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
		"dep\texample.com/amd64only\tv0.1.0\th1:BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB=",
		"build\t-buildmode=exe",
		"build\t-trimpath=true",
		"build\tCGO_ENABLED=0",
		"build\tGOARCH=amd64",
		"build\tGOOS=linux",
		"build\tGOAMD64=v1",
	)
	fetchARM64 = goVersionM(
		"path\tgithub.com/aetherengine/aether/cmd/aether-fetch",
		"mod\tgithub.com/aetherengine/aether\t(devel)\t",
		"dep\tgithub.com/google/go-containerregistry\tv0.22.1\th1:RZuuSYhTvlDvtsK+NkutoCZ//C0X2ebLK8X8l3ULs84=",
		"dep\tgolang.org/x/sys\tv0.49.0\th1:XbzkgYJHdqh/8m2Uu0W/dQv8nktxx4BFHp1M0gROTXA=",
		"dep\texample.com/Old\tv1.0.0",
		"=>\texample.com/new\tv1.1.0\th1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
		"build\t-buildmode=exe",
		"build\tCGO_ENABLED=0",
		"build\tGOARCH=arm64",
		"build\tGOOS=linux",
	)
)

// props flattens a component's properties into name → values.
func props(c map[string]any) map[string][]string {
	out := map[string][]string{}
	ps, _ := c["properties"].([]any)
	for _, p := range ps {
		m := p.(map[string]any)
		out[m["name"].(string)] = append(out[m["name"].(string)], m["value"].(string))
	}
	return out
}

func TestGoModulesSBOM(t *testing.T) {
	created := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	in := sbomInput{Name: "aether-fetch", Version: "v1.0.0", Created: created, Binaries: []goBinary{
		{Platform: "linux/amd64", Output: fetchAMD64}, {Platform: "linux/arm64", Output: fetchARM64},
	}}
	bom, err := goModulesSBOM(in)
	if err != nil {
		t.Fatal(err)
	}
	data, err := sbom.Encode(bom)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := sbom.Validate(data)
	if err != nil {
		t.Fatalf("the SBOM does not validate: %v\n%s", err, data)
	}
	if sum.SpecVersion != "1.6" || sum.RootName != "aether-fetch" || sum.RootVersion != "v1.0.0" || sum.Components != 5 {
		t.Errorf("summary %+v: want 1.6, aether-fetch v1.0.0, 5 components (stdlib + 4 modules)", sum)
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	md := doc["metadata"].(map[string]any)
	if md["timestamp"] != "2026-03-04T05:06:07Z" {
		t.Errorf("timestamp %v", md["timestamp"])
	}
	main := md["component"].(map[string]any)
	if main["purl"] != "pkg:golang/github.com/aetherengine/aether@v1.0.0#cmd/aether-fetch" {
		t.Errorf("main purl %v", main["purl"])
	}
	mp := props(main)
	if strings.Join(mp[propImagePlat], ",") != "linux/amd64,linux/arm64" || mp[propBuildPrefix+"CGO_ENABLED"][0] != "0" {
		t.Errorf("main properties %v", mp)
	}
	if _, ok := mp[propBuildPrefix+"GOARCH"]; ok {
		t.Error("the SBOM of a multi-platform image names one GOARCH")
	}
	byName := map[string]map[string]any{}
	for _, c := range doc["components"].([]any) {
		m := c.(map[string]any)
		byName[m["name"].(string)] = m
	}
	tests := []struct {
		name, purl string
		props      map[string]string
	}{
		{"stdlib", "pkg:golang/stdlib@go1.26.8", nil},
		{"github.com/google/go-containerregistry", "pkg:golang/github.com/google/go-containerregistry@v0.22.1",
			map[string]string{propGoSum: "h1:RZuuSYhTvlDvtsK+NkutoCZ//C0X2ebLK8X8l3ULs84="}},
		{"example.com/new", "pkg:golang/example.com/new@v1.1.0", map[string]string{propReplaces: "example.com/Old@v1.0.0"}},
		{"example.com/amd64only", "pkg:golang/example.com/amd64only@v0.1.0", map[string]string{propPlatforms: "linux/amd64"}},
		{"golang.org/x/sys", "pkg:golang/golang.org/x/sys@v0.49.0", map[string]string{propPlatforms: ""}},
	}
	for _, tc := range tests {
		c := byName[tc.name]
		if c == nil {
			t.Errorf("no component %s", tc.name)
			continue
		}
		if c["purl"] != tc.purl || c["bom-ref"] != tc.purl || c["type"] != "library" {
			t.Errorf("%s: purl %v bom-ref %v type %v", tc.name, c["purl"], c["bom-ref"], c["type"])
		}
		got := props(c)
		for k, v := range tc.props {
			if strings.Join(got[k], ",") != v {
				t.Errorf("%s: property %s = %q, want %q", tc.name, k, got[k], v)
			}
		}
	}
	deps := doc["dependencies"].([]any)
	if len(deps) != 1 || len(deps[0].(map[string]any)["dependsOn"].([]any)) != 5 {
		t.Errorf("dependencies %v", deps)
	}
	again, err := goModulesSBOM(in)
	if err != nil {
		t.Fatal(err)
	}
	data2, _ := sbom.Encode(again)
	if string(data) != string(data2) {
		t.Error("two SBOMs of the same binaries differ")
	}
	if !strings.HasPrefix(bom.SerialNumber, "urn:uuid:") {
		t.Errorf("serial %q", bom.SerialNumber)
	}
}

func TestParseGoVersionMErrors(t *testing.T) {
	tests := []struct {
		name string
		out  []byte
		want string
	}{
		{"empty", nil, "not \"BINARY: goVERSION\""},
		{"not Go", []byte("/bin/sh: could not read Go build info from /bin/sh: not a Go executable\n"), "not \"BINARY: goVERSION\""},
		{"no build info", []byte("/x: go1.26.8\n"), "no module build info"},
		{"unindented", []byte("/x: go1.26.8\npath\tx\n"), "not tab-indented"},
		{"bad line", []byte("/x: go1.26.8\n\tpath\tx\n\tdep\ta\tb\tc\td\n"), "go version -m output"},
		{"huge", append([]byte("/x: go1.26.8\n"), make([]byte, maxGoVersionOutput)...), "over the 4 MiB limit"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseGoVersionM(tc.out)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
	if _, err := goModulesSBOM(sbomInput{Name: "x"}); err == nil {
		t.Error("an SBOM of no binaries")
	}
	other := []byte(strings.Replace(string(fetchARM64), "cmd/aether-fetch", "cmd/aether", 1))
	if _, err := goModulesSBOM(sbomInput{Name: "x", Binaries: []goBinary{{"linux/amd64", fetchAMD64}, {"linux/arm64", other}}}); err == nil || !strings.Contains(err.Error(), "not the same command") {
		t.Errorf("binaries of two commands: %v", err)
	}
}

// FuzzParseGoVersionM checks that any output either fails with an error
// or gives build info whose SBOM encodes and validates.
//
// The seeds are small: the fuzzer minimizes every new input it finds, and
// on a whole `go version -m` listing that takes its full minute.
func FuzzParseGoVersionM(f *testing.F) {
	f.Add([]byte("/x: go1.26.8\n\tpath\tx/cmd/y\n\tmod\tx\t(devel)\t\n\tdep\ta.io/b\tv1.0.0\th1:AA=\n\tbuild\tCGO_ENABLED=0\n"))
	f.Add([]byte("/x: go1\n\tpath\tx\n\tdep\ta\tb\n\t=>\tc\td\te\n"))
	f.Add([]byte("/x: go1.26.8\n\tpath\tx\n\tdep\ta\tv1\n\tdep\ta\tv1\n"))
	f.Fuzz(func(t *testing.T, out []byte) {
		bi, err := parseGoVersionM(out)
		if err != nil {
			return
		}
		if bi.Path == "" || !strings.HasPrefix(bi.GoVersion, "go") {
			t.Fatalf("accepted build info without path or go version: %+v", bi)
		}
		bom, err := goModulesSBOM(sbomInput{Name: "x", Version: "v1", Binaries: []goBinary{{"linux/amd64", out}}})
		if err != nil {
			t.Fatalf("parsed but no SBOM: %v", err)
		}
		if _, err := sbom.Encode(bom); err != nil {
			t.Fatal(err)
		}
	})
}
