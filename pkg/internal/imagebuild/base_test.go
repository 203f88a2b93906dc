package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/aetherengine/aether/internal/regtest"
)

var (
	amd64 = v1.Platform{OS: "linux", Architecture: "amd64"}
	arm64 = v1.Platform{OS: "linux", Architecture: "arm64"}
	s390x = v1.Platform{OS: "linux", Architecture: "s390x"}
)

func testCA(t *testing.T) caBundle {
	t.Helper()
	ca, err := loadCABundle(context.Background(), "/etc/ssl/certs/ca-certificates.crt")
	if err != nil {
		t.Skipf("this machine has no CA bundle to build the base from: %v", err)
	}
	return ca
}

// baseIndex is the built-in base for amd64 and arm64 as one index.
func baseIndex(t *testing.T, ca caBundle, created time.Time) v1.ImageIndex {
	t.Helper()
	var adds []mutate.IndexAddendum
	for _, p := range []v1.Platform{amd64, arm64} {
		img, err := staticBase(ca, p, created)
		if err != nil {
			t.Fatal(err)
		}
		p := p
		adds = append(adds, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &p}})
	}
	return mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex), adds...)
}

func TestStaticBaseReproducible(t *testing.T) {
	ca := testCA(t)
	created := time.Unix(1700000000, 0).UTC()
	digest := func(p v1.Platform, c time.Time) v1.Hash {
		img, err := staticBase(ca, p, c)
		if err != nil {
			t.Fatal(err)
		}
		d, err := img.Digest()
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	if digest(amd64, created) != digest(amd64, created) {
		t.Error("the built-in base's digest changes between two builds")
	}
	if digest(amd64, created) == digest(arm64, created) {
		t.Error("amd64 and arm64 bases have the same digest: the config does not name the platform")
	}
	if digest(amd64, created) == digest(amd64, created.Add(time.Second)) {
		t.Error("the base ignores the build time")
	}
	// The one layer is the same bytes for every platform: pushed once.
	layer := func(p v1.Platform) v1.Hash {
		img, _ := staticBase(ca, p, created)
		ls, err := img.Layers()
		if err != nil || len(ls) != 1 {
			t.Fatalf("layers %d %v", len(ls), err)
		}
		d, _ := ls[0].Digest()
		return d
	}
	if layer(amd64) != layer(arm64) {
		t.Error("the base layer differs between platforms")
	}
	img, _ := staticBase(ca, arm64, created)
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cf.Config.User != "65532:65532" || cf.Architecture != "arm64" || cf.OS != "linux" || !cf.Created.Time.Equal(created) {
		t.Errorf("base config %+v", cf)
	}
}

func TestBaseSources(t *testing.T) {
	ctx := context.Background()
	ca := testCA(t)
	created := time.Unix(0, 0).UTC()
	idx := baseIndex(t, ca, created)

	// An OCI layout, the way `crane pull --format=oci` or our own build
	// writes one: index.json → one multi-platform index.
	dir := t.TempDir()
	lp, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := lp.AppendIndex(idx); err != nil {
		t.Fatal(err)
	}
	// A single-platform layout without platform descriptors: matched by
	// its config.
	single := t.TempDir()
	slp, err := layout.Write(single, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	amdImg, _ := staticBase(ca, amd64, created)
	if err := slp.AppendImage(amdImg); err != nil {
		t.Fatal(err)
	}
	// A registry.
	reg := regtest.InProcess(t)
	ref, err := name.ParseReference(reg.Ref("base/static:1"))
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.WriteIndex(ref, idx, remote.WithContext(ctx)); err != nil {
		t.Fatal(err)
	}
	want := map[string]v1.Hash{}
	for _, p := range []v1.Platform{amd64, arm64} {
		img, _ := staticBase(ca, p, created)
		want[p.String()], _ = img.Digest()
	}

	tests := []struct {
		name     string
		base     string
		platform v1.Platform
		wantErr  string
	}{
		{"builtin amd64", "", amd64, ""},
		{"builtin arm64", "", arm64, ""},
		{"layout amd64", dir, amd64, ""},
		{"layout arm64", dir, arm64, ""},
		{"layout lacks platform", dir, s390x, "no image for the platform linux/s390x"},
		{"single-platform layout", single, amd64, ""},
		{"single-platform layout, other arch", single, arm64, "no image for the platform linux/arm64"},
		{"registry amd64", reg.Ref("base/static:1"), amd64, ""},
		{"registry arm64", reg.Ref("base/static:1"), arm64, ""},
		{"registry lacks platform", reg.Ref("base/static:1"), s390x, "s390x"},
		{"registry lacks tag", reg.Ref("base/static:nope"), amd64, "base " + reg.Host},
		{"neither", "Not A Reference!", amd64, "neither an OCI layout directory"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			bs, err := newBaseSource(ctx, tc.base, "/etc/ssl/certs/ca-certificates.crt", created)
			if err == nil {
				// Only a registry base has a reference for
				// org.opencontainers.image.base.name.
				if isRef := strings.HasPrefix(tc.base, reg.Host); isRef != (bs.Ref != "") || (isRef && bs.Ref != tc.base) {
					t.Errorf("base %q: Ref %q", tc.base, bs.Ref)
				}
				var img v1.Image
				img, err = bs.Image(ctx, tc.platform)
				if err == nil {
					d, _ := img.Digest()
					if d != want[tc.platform.String()] {
						t.Errorf("base image %s, want %s", d, want[tc.platform.String()])
					}
				}
			}
			if tc.wantErr == "" && err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestLoadCABundle(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "x.crt")
	if err := os.WriteFile(notPEM, []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.crt")
	if err := os.WriteFile(big, make([]byte, maxCABundle+1), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ path, want string }{
		{filepath.Join(dir, "missing.crt"), "--ca-bundle"},
		{notPEM, "no PEM certificate"},
		{big, "over the 8 MiB limit"},
	} {
		if _, err := loadCABundle(context.Background(), tc.path); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.path, err, tc.want)
		}
	}
	ca := testCA(t)
	if !strings.Contains(ca.Source, "ca-certificates") && !strings.HasPrefix(ca.Source, "file ") {
		t.Errorf("provenance %q", ca.Source)
	}
}
