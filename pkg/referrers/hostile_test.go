package referrers_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/registry/remote"

	"github.com/aetherengine/aether/pkg/referrers"
)

// TestHostileRegistry: a registry that answers with too much is refused
// with ErrTooManyReferrers or ErrTooLarge, after bounded work.
func TestHostileRegistry(t *testing.T) {
	subject := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.FromString("subject"), Size: 100}
	entry := func(i int) string {
		return fmt.Sprintf(`{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":500,"artifactType":"application/vnd.example+json"}`, digest.FromString(fmt.Sprint(i)))
	}
	index := func(n int) string {
		es := make([]string, n)
		for i := range es {
			es[i] = entry(i)
		}
		return `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[` + strings.Join(es, ",") + `]}`
	}
	tests := []struct {
		name     string
		handler  http.HandlerFunc
		wantErr  error
		maxCalls int
	}{
		{
			name: "10,000 referrers in one answer",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", ocispec.MediaTypeImageIndex)
				fmt.Fprint(w, index(10000))
			},
			wantErr:  referrers.ErrTooManyReferrers,
			maxCalls: 1,
		},
		{
			name: "empty pages without end",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", ocispec.MediaTypeImageIndex)
				w.Header().Set("Link", fmt.Sprintf(`<%s?last=x>; rel="next"`, r.URL.Path))
				fmt.Fprint(w, index(0))
			},
			wantErr:  referrers.ErrTooManyReferrers,
			maxCalls: referrers.DefaultMaxPages,
		},
		{
			name: "a referrers answer larger than the metadata bound",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", ocispec.MediaTypeImageIndex)
				fmt.Fprint(w, `{"schemaVersion":2,"manifests":[],"annotations":{"x":"`+strings.Repeat("a", int(referrers.DefaultMaxManifestBytes))+`"}}`)
			},
			// oras-go stops reading at the bound; what it read does not
			// decode. Refused all the same, after reading 4 MiB at most.
			wantErr:  nil,
			maxCalls: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if strings.Contains(r.URL.Path, "/referrers/") {
					calls++
					tt.handler(w, r)
					return
				}
				http.NotFound(w, r)
			}))
			defer srv.Close()
			repo, err := remote.NewRepository(strings.TrimPrefix(srv.URL, "http://") + "/hostile")
			if err != nil {
				t.Fatal(err)
			}
			repo.PlainHTTP = true
			_, err = referrers.List(context.Background(), referrers.Limit(repo), subject, referrers.Options{})
			switch {
			case err == nil:
				t.Fatal("hostile answer accepted")
			case tt.wantErr != nil && !errors.Is(err, tt.wantErr):
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if calls > tt.maxCalls {
				t.Fatalf("%d requests, want at most %d", calls, tt.maxCalls)
			}
		})
	}

	t.Run("a manifest larger than its descriptor says", func(t *testing.T) {
		big := `{"schemaVersion":2,` + strings.Repeat(" ", 1<<20) + `}`
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", ocispec.MediaTypeImageManifest)
			w.Write([]byte(big)) // chunked: no Content-Length to check
			w.(http.Flusher).Flush()
		}))
		defer srv.Close()
		repo, _ := remote.NewRepository(strings.TrimPrefix(srv.URL, "http://") + "/hostile")
		repo.PlainHTTP = true
		d := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.FromString("small"), Size: 100}
		if _, _, err := referrers.FetchManifest(context.Background(), repo, d, 0); err == nil {
			t.Fatal("a manifest larger than announced was accepted")
		}
	})
}
