package admission

import (
	"testing"
	"time"

	"github.com/aetherengine/aether/pkg/api"
)

func TestCache(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	key := func(digest string, version int64) cacheKey {
		return cacheKey{Repository: "r/app", Digest: digest, App: "web", PolicyVersion: version, PolicyHash: "h"}
	}
	c := NewCache(2)
	c.Put(key("a", 1), api.Artifact{Digest: "a"}, "sum a", t0.Add(time.Hour))
	tests := []struct {
		name string
		k    cacheKey
		at   time.Time
		want bool
	}{
		{"same digest and policy", key("a", 1), t0, true},
		{"another policy version", key("a", 2), t0, false},
		{"another policy content", cacheKey{Repository: "r/app", Digest: "a", App: "web", PolicyVersion: 1, PolicyHash: "other"}, t0, false},
		{"another app", cacheKey{Repository: "r/app", Digest: "a", App: "api", PolicyVersion: 1, PolicyHash: "h"}, t0, false},
		{"another repository", cacheKey{Repository: "r/other", Digest: "a", App: "web", PolicyVersion: 1, PolicyHash: "h"}, t0, false},
		{"just before expiry", key("a", 1), t0.Add(time.Hour - time.Nanosecond), true},
		{"at expiry", key("a", 1), t0.Add(time.Hour), false},
		{"after expiry it is gone", key("a", 1), t0, false},
	}
	for _, tt := range tests {
		_, _, ok := c.Get(tt.k, tt.at)
		if ok != tt.want {
			t.Errorf("%s: hit = %v, want %v", tt.name, ok, tt.want)
		}
	}
	// Least recently used goes first.
	c.Put(key("x", 1), api.Artifact{Digest: "x"}, "", t0.Add(time.Hour))
	c.Put(key("y", 1), api.Artifact{Digest: "y"}, "", t0.Add(time.Hour))
	c.Get(key("x", 1), t0)
	c.Put(key("z", 1), api.Artifact{Digest: "z"}, "", t0.Add(time.Hour))
	if _, _, ok := c.Get(key("y", 1), t0); ok {
		t.Error("least recently used entry y survived")
	}
	if a, _, ok := c.Get(key("x", 1), t0); !ok || a.Digest != "x" {
		t.Error("recently used entry x evicted")
	}
	if c.Len() != 2 {
		t.Errorf("Len = %d, want 2", c.Len())
	}
}

func TestPolicyHelpers(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	past, soon, later := now.Add(-time.Hour), now.Add(time.Hour), now.Add(48*time.Hour)
	p := api.TrustPolicy{Keys: []api.TrustedKey{{Name: "old", RetiresAt: &past}, {Name: "b", RetiresAt: &later}, {Name: "a", RetiresAt: &soon}, {Name: "c"}}}
	if got := nextRetirement(p, now); !got.Equal(soon) {
		t.Errorf("nextRetirement = %v, want %v", got, soon)
	}
	if got := nextRetirement(api.TrustPolicy{}, now); !got.IsZero() {
		t.Errorf("nextRetirement of no keys = %v", got)
	}
	q := p
	q.BuilderID = "x"
	if policyHash(p) == policyHash(q) || policyHash(p) != policyHash(p) {
		t.Error("policyHash does not follow the policy's content")
	}
	if DefaultKeyName("not pem") != "key" || len(DefaultKeyName(testPEM)) != len("key-")+12 {
		t.Errorf("DefaultKeyName = %q", DefaultKeyName(testPEM))
	}
}

const testPEM = `-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE8nXRh950IZbRj8Ra/N9sbqOPZrfM
5/KAQN0/KjHcorm/J5yctVd7iEcnessRQjU917hmKO6JWVGHpDguIyakZA==
-----END PUBLIC KEY-----
`
