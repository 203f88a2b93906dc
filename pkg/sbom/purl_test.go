package sbom

import (
	"net/url"
	"strings"
	"testing"
)

func TestNpmPURL(t *testing.T) {
	tests := []struct {
		name, version, want string
	}{
		{"express", "4.19.2", "pkg:npm/express@4.19.2"},
		{"@types/node", "20.11.0", "pkg:npm/%40types/node@20.11.0"},
		{"JSONStream", "1.3.5", "pkg:npm/JSONStream@1.3.5"},
		{"a", "1.0.0-beta.1+exp.sha.5114f85", "pkg:npm/a@1.0.0-beta.1%2Bexp.sha.5114f85"},
		{"a", "", "pkg:npm/a"},
		{"@s/a.b_c~d-e", "1", "pkg:npm/%40s/a.b_c~d-e@1"},
		{"weird name", "1:2", "pkg:npm/weird%20name@1:2"},
		{"ünï", "1", "pkg:npm/%C3%BCn%C3%AF@1"},
		{"@", "1", "pkg:npm/%40@1"},
		{"@s/", "1", "pkg:npm/%40s%2F@1"},
		{"a/b", "1", "pkg:npm/a%2Fb@1"},
	}
	for _, tt := range tests {
		got := NpmPURL(tt.name, tt.version)
		if got != tt.want {
			t.Errorf("NpmPURL(%q, %q) = %q, want %q", tt.name, tt.version, got, tt.want)
		}
		// Decoding the components gives the input back.
		rest := strings.TrimPrefix(got, "pkg:npm/")
		if tt.version != "" {
			i := strings.LastIndexByte(rest, '@')
			v, err := url.PathUnescape(rest[i+1:])
			if err != nil || v != tt.version {
				t.Errorf("%s: version decodes to %q", got, v)
			}
			rest = rest[:i]
		}
		var segs []string
		for _, s := range strings.Split(rest, "/") {
			d, err := url.PathUnescape(s)
			if err != nil {
				t.Fatal(err)
			}
			segs = append(segs, d)
		}
		if n := strings.Join(segs, "/"); n != tt.name {
			t.Errorf("%s: name decodes to %q, want %q", got, n, tt.name)
		}
	}
}
