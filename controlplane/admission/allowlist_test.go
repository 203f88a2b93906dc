package admission

import (
	"strings"
	"testing"
)

func TestAllowListMatching(t *testing.T) {
	l, err := ParseAllowList(" ghcr.io, *.corp.example , 127.0.0.1:5000,http://10.0.0.5:5000, [::1]:5001, Harbor.Example.com.:443,localhost")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		registry       string
		allowed, plain bool
	}{
		{"ghcr.io", true, false},
		{"GHCR.IO", true, false},
		{"ghcr.io:8443", true, false}, // no port in the entry: any port
		{"evilghcr.io", false, false},
		{"ghcr.io.evil.com", false, false},
		{"registry.corp.example", true, false},
		{"a.b.corp.example:5000", true, false},
		{"corp.example", false, false}, // the wildcard needs a subdomain
		{"xcorp.example", false, false},
		{"127.0.0.1:5000", true, false},
		{"127.0.0.1:5001", false, false},
		{"127.0.0.1", false, false},
		{"10.0.0.5:5000", true, true},
		{"[::1]:5001", true, false},
		{"harbor.example.com", true, false}, // no port: 443
		{"harbor.example.com:443", true, false},
		{"harbor.example.com:444", false, false},
		{"localhost:41234", true, false},
		{"169.254.169.254", false, false},
		{"", false, false},
	}
	for _, tt := range tests {
		ok, plain := l.Allows(tt.registry)
		if ok != tt.allowed || plain != tt.plain {
			t.Errorf("Allows(%q) = %v, %v; want %v, %v", tt.registry, ok, plain, tt.allowed, tt.plain)
		}
	}

	explicit := []struct {
		host, port string
		want       bool
	}{
		{"127.0.0.1", "5000", true},
		{"127.0.0.1", "6000", false},
		{"::1", "5001", true},
		{"[::1]", "5001", true},
		{"10.0.0.5", "5000", true},
		{"localhost", "1", true},
		{"ghcr.io", "443", true},
		{"registry.corp.example", "443", false}, // wildcards are never explicit
		{"169.254.169.254", "80", false},
	}
	for _, tt := range explicit {
		if got := l.Explicit(tt.host, tt.port); got != tt.want {
			t.Errorf("Explicit(%s, %s) = %v, want %v", tt.host, tt.port, got, tt.want)
		}
	}

	star, _ := ParseAllowList("*")
	if ok, _ := star.Allows("anything.example:1234"); !ok || star.Explicit("127.0.0.1", "80") {
		t.Error("* must allow any registry and make none explicit")
	}
	var empty AllowList
	if ok, _ := empty.Allows("ghcr.io"); ok || !empty.Empty() {
		t.Error("an empty list must allow nothing")
	}
	if l.String() == "" || !strings.Contains(l.String(), "*.corp.example") {
		t.Errorf("String() = %q", l.String())
	}
}

func TestAllowListErrors(t *testing.T) {
	for _, bad := range []string{
		"ghcr.io/acme", "user@ghcr.io", "gh*cr.io", "*.", "*.-bad", "host:99999", "host:0", "host:x", "bad host",
		"a..b", ":5000",
	} {
		if _, err := ParseAllowList(bad); err == nil {
			t.Errorf("ParseAllowList(%q) accepted", bad)
		} else if !strings.Contains(err.Error(), "registries:") {
			t.Errorf("error %q does not say which setting", err)
		}
	}
	if _, err := ParseAllowList(strings.Repeat("a.example,", maxAllowEntries+1)); err == nil {
		t.Error("more entries than the bound accepted")
	}
	if l, err := ParseAllowList(" , ,"); err != nil || !l.Empty() {
		t.Errorf("blank list = %v, %v", l, err)
	}
}

// FuzzAllowList: parsing never panics, and what parses matches
// consistently (an explicit host is always allowed).
func FuzzAllowList(f *testing.F) {
	for _, s := range []string{"ghcr.io", "*.corp.example,127.0.0.1:5000", "http://[::1]:5000", "*", "a:b:c", "[", "*.x:1"} {
		f.Add(s, "127.0.0.1", "5000")
	}
	f.Fuzz(func(t *testing.T, list, host, port string) {
		l, err := ParseAllowList(list)
		if err != nil {
			return
		}
		if l.Explicit(host, port) && port != "" && !strings.ContainsAny(host, ":[]") {
			if ok, _ := l.Allows(host + ":" + port); !ok {
				t.Fatalf("%q: %s:%s explicit but not allowed", list, host, port)
			}
		}
	})
}
