package sbom

import (
	"fmt"
	"strings"
	"testing"

	cdx "github.com/CycloneDX/cyclonedx-go"
)

func TestLicenseChoices(t *testing.T) {
	deep := strings.Repeat("(", 100) + "MIT" + strings.Repeat(")", 100)
	tests := []struct {
		in, want string
	}{
		{"MIT", "id:MIT"},
		{"mit", "id:MIT"},
		{" Apache-2.0 ", "id:Apache-2.0"},
		{"GPL-2.0+", "id:GPL-2.0+"}, // a deprecated id that is in the list as such
		{"LGPL-2.1-only+", "expr:LGPL-2.1-only+"},
		{"(MIT OR Apache-2.0)", "expr:(MIT OR Apache-2.0)"},
		{"MIT AND (BSD-2-Clause OR ISC)", "expr:MIT AND (BSD-2-Clause OR ISC)"},
		{"Apache-2.0 WITH LLVM-exception", "expr:Apache-2.0 WITH LLVM-exception"},
		{"LicenseRef-Proprietary", "expr:LicenseRef-Proprietary"},
		{"DocumentRef-spdx-tool-1.2:LicenseRef-MIT-Style-2", "expr:DocumentRef-spdx-tool-1.2:LicenseRef-MIT-Style-2"},
		{"SEE LICENSE IN LICENSE.md", "name:SEE LICENSE IN LICENSE.md"},
		{"UNLICENSED", "name:UNLICENSED"},
		{"BSD", "name:BSD"},
		{"MIT and Apache-2.0", "name:MIT and Apache-2.0"},
		{"(MIT", "name:(MIT"},
		{"MIT OR", "name:MIT OR"},
		{"MIT WITH Nonsense-exception", "name:MIT WITH Nonsense-exception"},
		{"LicenseRef-", "name:LicenseRef-"},
		{"()", "name:()"},
		{deep, "name:" + deep},
		{"", "none"},
	}
	bom := cdx.NewBOM()
	bom.SpecVersion = SpecVersion
	var comps []cdx.Component
	for i, tt := range tests {
		l := licenseChoices(tt.in)
		comps = append(comps, cdx.Component{Type: cdx.ComponentTypeLibrary, Name: fmt.Sprint("c", i), Licenses: l})
		if got := licenseText(l); got != tt.want {
			t.Errorf("licenseChoices(%q) = %s, want %s", tt.in, got, tt.want)
		}
		if l != nil {
			for _, c := range *l {
				if c.License != nil && c.License.Acknowledgement != cdx.LicenseAcknowledgementDeclared || c.Expression != "" && *c.Acknowledgement != cdx.LicenseAcknowledgementDeclared {
					t.Errorf("%q: not marked declared", tt.in)
				}
			}
		}
	}
	// Whatever the input, the result is valid CycloneDX.
	bom.Components = &comps
	data, err := Encode(bom)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Validate(data); err != nil {
		t.Fatal(err)
	}
}
