package referrers_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/aetherengine/aether/internal/regtest"
	"github.com/aetherengine/aether/internal/testtools"
	"github.com/aetherengine/aether/pkg/referrers"
	"github.com/aetherengine/aether/pkg/referrers/referrerstest"
)

const (
	typeSig  = "application/vnd.example.sig.v1+json"
	typeSBOM = "application/vnd.example.sbom.v1+json"
)

func TestAttachListFilter(t *testing.T) {
	ctx := context.Background()
	for _, r := range regtest.All(t) {
		t.Run(r.Kind, func(t *testing.T) {
			repo := referrers.Limit(referrerstest.Repo(t, r, "app"))
			subject := referrerstest.PushArtifact(t, repo, "one", "v1")
			other := referrerstest.PushArtifact(t, repo, "two", "v2")

			if got, err := referrers.List(ctx, repo, subject, referrers.Options{}); err != nil || len(got) != 0 {
				t.Fatalf("before attach: List = %v, %v; want none", got, err)
			}
			sig, err := referrers.Attach(ctx, repo, subject, typeSig,
				[]referrers.Blob{{MediaType: "application/json", Data: []byte(`{"sig":1}`), Annotations: map[string]string{"k": "v"}}},
				map[string]string{"dev.example.kind": "signature"})
			if err != nil {
				t.Fatal(err)
			}
			sbom, err := referrers.Attach(ctx, repo, subject, typeSBOM,
				[]referrers.Blob{{MediaType: "application/vnd.cyclonedx+json", Data: []byte(`{"bomFormat":"CycloneDX"}`)}}, nil)
			if err != nil {
				t.Fatal(err)
			}

			tests := []struct {
				name   string
				filter string
				want   []ocispec.Descriptor
			}{
				{"all", "", []ocispec.Descriptor{sig, sbom}},
				{"signatures", typeSig, []ocispec.Descriptor{sig}},
				{"sboms", typeSBOM, []ocispec.Descriptor{sbom}},
				{"unknown type", "application/vnd.example.none", nil},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					got, err := referrers.List(ctx, repo, subject, referrers.Options{ArtifactType: tt.filter})
					if err != nil {
						t.Fatal(err)
					}
					if !sameDigests(got, tt.want) {
						t.Fatalf("List(%q) = %v, want %v", tt.filter, digests(got), digests(tt.want))
					}
					for _, d := range got {
						if tt.filter != "" && d.ArtifactType != tt.filter {
							t.Errorf("referrer %s has artifactType %q, want %q", d.Digest, d.ArtifactType, tt.filter)
						}
					}
				})
			}

			// The referrer reads back as an OCI 1.1 manifest with the
			// empty config, the subject and our blob.
			m, _, err := referrers.FetchManifest(ctx, repo, sig, 0)
			if err != nil {
				t.Fatal(err)
			}
			if m.ArtifactType != typeSig || m.Config.MediaType != ocispec.MediaTypeEmptyJSON ||
				m.Subject == nil || m.Subject.Digest != subject.Digest || m.Subject.Size != subject.Size ||
				m.Annotations["dev.example.kind"] != "signature" || m.Annotations[ocispec.AnnotationCreated] == "" {
				t.Fatalf("referrer manifest = %+v", m)
			}
			if len(m.Layers) != 1 || m.Layers[0].Annotations["k"] != "v" {
				t.Fatalf("layers = %+v", m.Layers)
			}
			blob, err := referrers.FetchBlob(ctx, repo, m.Layers[0], 0)
			if err != nil || string(blob) != `{"sig":1}` {
				t.Fatalf("FetchBlob = %q, %v", blob, err)
			}

			// Another digest in the same repository has no referrers.
			if got, err := referrers.List(ctx, repo, other, referrers.Options{}); err != nil || len(got) != 0 {
				t.Fatalf("other subject: List = %v, %v; want none", digests(got), err)
			}

			// Without the referrers API the referrers live in the
			// sha256-<hex> fallback index; with it, there is no such tag.
			_, err = repo.Resolve(ctx, "sha256-"+subject.Digest.Encoded())
			if r.ReferrersAPI && err == nil {
				t.Error("registry with the referrers API got a fallback tag")
			}
			if !r.ReferrersAPI && err != nil {
				t.Errorf("fallback registry has no sha256-<hex> index tag: %v", err)
			}
		})
	}
}

func TestListBound(t *testing.T) {
	ctx := context.Background()
	for _, r := range regtest.All(t) {
		t.Run(r.Kind, func(t *testing.T) {
			repo := referrers.Limit(referrerstest.Repo(t, r, "bound"))
			subject := referrerstest.PushArtifact(t, repo, "bound", "")
			const max = 3
			for i := 0; i < max+1; i++ {
				if _, err := referrers.Attach(ctx, repo, subject, typeSig,
					[]referrers.Blob{{MediaType: "application/json", Data: fmt.Appendf(nil, `{"n":%d}`, i)}}, nil); err != nil {
					t.Fatal(err)
				}
				got, err := referrers.List(ctx, repo, subject, referrers.Options{MaxReferrers: max})
				switch {
				case i < max && (err != nil || len(got) != i+1):
					t.Fatalf("%d attached: List = %d, %v; want %d", i+1, len(got), err, i+1)
				case i == max && !errors.Is(err, referrers.ErrTooManyReferrers):
					t.Fatalf("%d attached, bound %d: err = %v, want ErrTooManyReferrers", i+1, max, err)
				}
			}
		})
	}
}

func TestFetchBounds(t *testing.T) {
	ctx := context.Background()
	r := regtest.InProcess(t)
	repo := referrerstest.Repo(t, r, "fetch")
	subject := referrerstest.PushArtifact(t, repo, "fetch", "")
	data := make([]byte, 1000)
	ref, err := referrers.Attach(ctx, repo, subject, typeSig, []referrers.Blob{{MediaType: "application/octet-stream", Data: data}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	m, raw, err := referrers.FetchManifest(ctx, repo, ref, 0)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		fetch   func() error
		wantErr error
	}{
		{"manifest within bound", func() error { _, _, err := referrers.FetchManifest(ctx, repo, ref, int64(len(raw))); return err }, nil},
		{"manifest over bound", func() error { _, _, err := referrers.FetchManifest(ctx, repo, ref, int64(len(raw))-1); return err }, referrers.ErrTooLarge},
		{"blob within bound", func() error { _, err := referrers.FetchBlob(ctx, repo, m.Layers[0], 1000); return err }, nil},
		{"blob over bound", func() error { _, err := referrers.FetchBlob(ctx, repo, m.Layers[0], 999); return err }, referrers.ErrTooLarge},
		{"index fetched as manifest", func() error {
			d := ref
			d.MediaType = ocispec.MediaTypeImageIndex
			_, _, err := referrers.FetchManifest(ctx, repo, d, 0)
			return err
		}, referrers.ErrInvalidManifest},
		{"descriptor that lies about size", func() error {
			d := m.Layers[0]
			d.Size = 10
			_, err := referrers.FetchBlob(ctx, repo, d, 0)
			return err
		}, errAny},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.fetch()
			switch {
			case tt.wantErr == nil && err != nil:
				t.Fatalf("err = %v, want nil", err)
			case tt.wantErr == errAny && err == nil:
				t.Fatal("err = nil, want an error")
			case tt.wantErr != nil && tt.wantErr != errAny && !errors.Is(err, tt.wantErr):
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

var errAny = errors.New("any error")

// TestORASDiscover checks that the stock oras CLI sees what we attach, on
// both referrers paths.
func TestORASDiscover(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping stock-CLI interop in -short mode")
	}
	oras := testtools.Require(t, testtools.ORAS)
	ctx := context.Background()
	for _, r := range regtest.All(t) {
		t.Run(r.Kind, func(t *testing.T) {
			repo := referrerstest.Repo(t, r, "discover")
			subject := referrerstest.PushArtifact(t, repo, "discover", "")
			ref, err := referrers.Attach(ctx, repo, subject, typeSig, []referrers.Blob{{MediaType: "application/json", Data: []byte(`{}`)}}, nil)
			if err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(oras, "discover", "--plain-http", "--format", "json", r.Ref("discover")+"@"+subject.Digest.String()).Output()
			if err != nil {
				t.Fatalf("oras discover: %v\n%s", err, stderrOf(err))
			}
			var tree struct {
				Referrers []struct {
					Digest       string `json:"digest"`
					ArtifactType string `json:"artifactType"`
				} `json:"referrers"`
			}
			if err := json.Unmarshal(out, &tree); err != nil {
				t.Fatalf("oras discover output: %v\n%s", err, out)
			}
			// go-containerregistry's registry reports config.mediaType as
			// artifactType (the empty config here); oras shows what the
			// registry says, so only the fallback index carries ours.
			wantType := typeSig
			if r.Kind == regtest.KindInProcess {
				wantType = ocispec.MediaTypeEmptyJSON
			}
			if len(tree.Referrers) != 1 || tree.Referrers[0].Digest != ref.Digest.String() || tree.Referrers[0].ArtifactType != wantType {
				t.Fatalf("oras discover listed %s, want %s (%s)", out, ref.Digest, wantType)
			}
		})
	}
}

func stderrOf(err error) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return string(ee.Stderr)
	}
	return ""
}

func digests(ds []ocispec.Descriptor) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.Digest.String()
	}
	return out
}

func sameDigests(a, b []ocispec.Descriptor) bool {
	if len(a) != len(b) {
		return false
	}
	seen := map[string]int{}
	for _, d := range a {
		seen[d.Digest.String()]++
	}
	for _, d := range b {
		seen[d.Digest.String()]--
	}
	for _, n := range seen {
		if n != 0 {
			return false
		}
	}
	return true
}
