package api

import (
	"strings"
	"testing"
)

func TestPinnedRef(t *testing.T) {
	const d = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	tests := []struct{ ref, digest, want string }{
		{"ghcr.io/acme/hello:v1", d, "ghcr.io/acme/hello@" + d},
		{"127.0.0.1:5000/hello:v1", d, "127.0.0.1:5000/hello@" + d},
		{"127.0.0.1:5000/hello", d, "127.0.0.1:5000/hello@" + d},
		{"127.0.0.1:5000/team/hello@" + d, d, "127.0.0.1:5000/team/hello@" + d},
		{"[::1]:5000/hello:v1@" + d, d, "[::1]:5000/hello@" + d},
		{"ghcr.io/acme/hello:v1", "", ""},
	}
	for _, tt := range tests {
		if got := PinnedRef(tt.ref, tt.digest); got != tt.want {
			t.Errorf("PinnedRef(%q) = %q, want %q", tt.ref, got, tt.want)
		}
	}
	if got := (Deployment{ArtifactRef: "r.example/a:1", Digest: d}).Pinned(); got != "r.example/a@"+d {
		t.Errorf("Pinned = %q", got)
	}
}

func FuzzPinnedRef(f *testing.F) {
	for _, s := range []string{"ghcr.io/a/b:v1", "h:1/a@sha256:00", "[::1]:5000/x:y", "", ":", "@", "a/b:c/d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, ref string) {
		repo := Repository(ref)
		if !strings.HasPrefix(ref, repo) || strings.Contains(repo, "@") {
			t.Fatalf("Repository(%q) = %q: not a prefix without a digest", ref, repo)
		}
		if i := strings.LastIndexByte(repo, ':'); i > strings.LastIndexByte(repo, '/') && !strings.Contains(ref[len(repo):], ":") {
			t.Fatalf("Repository(%q) = %q kept a tag", ref, repo)
		}
	})
}
