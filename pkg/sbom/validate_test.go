package sbom

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	cdx "github.com/CycloneDX/cyclonedx-go"
)

// fixtureBOM is the SBOM of the real fixture lockfile.
func fixtureBOM(t testing.TB) *cdx.BOM {
	t.Helper()
	bom, err := FromLockfile(loadLock(t, "testdata/express-app/package-lock.json"), Options{Timestamp: fixedTime})
	if err != nil {
		t.Fatal(err)
	}
	return bom
}

func encodeVersion(t *testing.T, bom *cdx.BOM, v cdx.SpecVersion) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := cdx.NewBOMEncoder(&buf, cdx.BOMFileFormatJSON).EncodeVersion(bom, v); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// mutate decodes data, lets fn change the document, and encodes it again.
func mutate(t *testing.T, data []byte, fn func(doc map[string]any)) []byte {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	fn(doc)
	out, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func firstComponent(doc map[string]any) map[string]any {
	return doc["components"].([]any)[0].(map[string]any)
}

func TestValidateAccepts(t *testing.T) {
	bom := fixtureBOM(t)
	ours, err := Encode(bom)
	if err != nil {
		t.Fatal(err)
	}
	stock, err := os.ReadFile("testdata/express-app/cyclonedx-npm.cdx.json")
	if err != nil {
		t.Fatal(err)
	}
	n := len(*bom.Components)
	tests := []struct {
		name       string
		data       []byte
		spec       string
		components int
	}{
		{"ours, 1.6", ours, "1.6", n},
		{"ours as 1.5", encodeVersion(t, bom, cdx.SpecVersion1_5), "1.5", n},
		{"ours as 1.7", encodeVersion(t, bom, cdx.SpecVersion1_7), "1.7", n},
		// cyclonedx-npm nests packages installed under another's
		// node_modules inside it; those count too.
		{"stock cyclonedx-npm, nested components", stock, "1.6", n - 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Validate(tt.data)
			if err != nil {
				t.Fatal(err)
			}
			if s.SpecVersion != tt.spec || s.Components != tt.components || s.RootName != "sbom-fixture" || s.RootVersion != "1.2.3" {
				t.Errorf("summary %+v, want spec %s with %d components", s, tt.spec, tt.components)
			}
		})
	}
}

func TestValidateRejects(t *testing.T) {
	bom := fixtureBOM(t)
	ours, err := Encode(bom)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		data []byte
		want []string // substrings of the error
	}{
		{"garbage", []byte("this is not JSON"), []string{"not valid JSON", "at byte 2"}},
		{"empty", nil, []string{"not valid JSON"}},
		{"truncated", ours[:len(ours)/2], []string{"ends early"}},
		{"trailing data", append(bytes.Clone(ours), "{}"...), []string{"not valid JSON"}},
		{"top-level array", []byte(`[{"bomFormat":"CycloneDX"}]`), []string{"not a JSON object"}},
		{"wrong bomFormat", mutate(t, ours, func(d map[string]any) { d["bomFormat"] = "SPDX" }), []string{`bomFormat is "SPDX"`}},
		{"missing bomFormat", mutate(t, ours, func(d map[string]any) { delete(d, "bomFormat") }), []string{"bomFormat is missing"}},
		{"spec 1.4 document", encodeVersion(t, bom, cdx.SpecVersion1_4), []string{"specVersion 1.4 is older than 1.5"}},
		{"spec 1.2", mutate(t, ours, func(d map[string]any) { d["specVersion"] = "1.2" }), []string{"older than 1.5"}},
		{"unknown spec", mutate(t, ours, func(d map[string]any) { d["specVersion"] = "2.0" }), []string{`specVersion "2.0" is not one`}},
		{"numeric spec", mutate(t, ours, func(d map[string]any) { d["specVersion"] = 1.6 }), []string{"specVersion is a number"}},
		{"component type", mutate(t, ours, func(d map[string]any) { firstComponent(d)["type"] = "banana" }), []string{"/components/0/type", "1.6 schema"}},
		{"component without name", mutate(t, ours, func(d map[string]any) { delete(firstComponent(d), "name") }), []string{"/components/0", "name"}},
		{"hash content", mutate(t, ours, func(d map[string]any) {
			firstComponent(d)["hashes"] = []any{map[string]any{"alg": "SHA-512", "content": "zz"}}
		}), []string{"/components/0/hashes/0/content"}},
		{"unknown license id", mutate(t, ours, func(d map[string]any) {
			firstComponent(d)["licenses"] = []any{map[string]any{"license": map[string]any{"id": "Not-A-License"}}}
		}), []string{"/components/0/licenses/0"}},
		{"serial number", mutate(t, ours, func(d map[string]any) { d["serialNumber"] = "42" }), []string{"/serialNumber"}},
		{"timestamp", mutate(t, ours, func(d map[string]any) { d["metadata"].(map[string]any)["timestamp"] = "yesterday" }), []string{"/metadata/timestamp"}},
		{"many violations", mutate(t, ours, func(d map[string]any) {
			for _, c := range d["components"].([]any) {
				c.(map[string]any)["type"] = "banana"
			}
		}), []string{"/components/0/type", "violations in all"}},
		{"oversized", append(bytes.Repeat([]byte(" "), MaxSBOMBytes), ours...), []string{"over the 32 MiB limit"}},
		{"too many values", []byte(`{"bomFormat":"CycloneDX","specVersion":"1.6","components":[` + strings.Repeat("1,", MaxSBOMValues) + `1]}`), []string{"more than 1000000 JSON values"}},
		{"too deep", []byte(`{"bomFormat":"CycloneDX","specVersion":"1.6","components":` + strings.Repeat("[", MaxSBOMDepth) + strings.Repeat("]", MaxSBOMDepth) + `}`), []string{"nested deeper than 128"}},
		{"brackets in strings do not count", mutate(t, ours, func(d map[string]any) {
			d["serialNumber"] = strings.Repeat("[", MaxSBOMDepth+1) + `\"` + strings.Repeat(",", 10)
		}), []string{"/serialNumber"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Validate(tt.data)
			if err == nil {
				t.Fatalf("accepted: %+v", s)
			}
			t.Logf("error: %.400s", err)
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error does not wrap ErrInvalid: %v", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not contain %q: %v", w, err)
				}
			}
		})
	}
}
