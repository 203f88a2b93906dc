package admissiontest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/aetherengine/aether/pkg/artifact"
	"github.com/aetherengine/aether/pkg/signing"
)

// Repositories of the hostile registry, each one attack.
const (
	// HostileMany answers a valid artifact with 10,000 referrers.
	HostileMany = "many/app"
	// HostileHuge announces a 1 GiB manifest and streams it on GET.
	HostileHuge = "huge/app"
	// HostileLiar announces a small manifest on HEAD and streams 1 GiB on GET.
	HostileLiar = "liar/app"
	// HostileDrip answers a valid artifact, then drips its referrers list
	// one byte at a time, forever.
	HostileDrip = "drip/app"
	// HostileRedirect redirects every manifest request to the cloud
	// metadata address.
	HostileRedirect = "redirect/app"
)

// HostileReferrers is how many referrers HostileMany lists.
const HostileReferrers = 10000

// hugeSize is the manifest size HostileHuge and HostileLiar stream.
const hugeSize = 1 << 30

// Hostile is a registry that attacks its clients. Nothing it sends is held
// in memory: the 1 GiB bodies are generated while they are written.
type Hostile struct {
	// Host is 127.0.0.1:PORT.
	Host string
	// Manifest is the valid artifact manifest the well-behaved parts serve.
	Manifest []byte
	Digest   digest.Digest
	// BytesSent counts body bytes written, to show how much a client read.
	BytesSent atomic.Int64
}

// NewHostile starts the hostile registry for the test's duration.
func NewHostile(t testing.TB) *Hostile {
	t.Helper()
	cfg := []byte(`{"schemaVersion":1}`)
	m, err := json.Marshal(ocispec.Manifest{
		Versioned:    specs.Versioned{SchemaVersion: 2},
		MediaType:    ocispec.MediaTypeImageManifest,
		ArtifactType: artifact.ArtifactType,
		Config:       ocispec.Descriptor{MediaType: artifact.ConfigMediaType, Digest: digest.FromBytes(cfg), Size: int64(len(cfg))},
		Layers:       []ocispec.Descriptor{{MediaType: artifact.LayerMediaType, Digest: digest.FromString("layer"), Size: 5}},
	})
	if err != nil {
		t.Fatal(err)
	}
	h := &Hostile{Manifest: m, Digest: digest.FromBytes(m)}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	h.Host = strings.TrimPrefix(srv.URL, "http://")
	return h
}

// Ref returns HOST/repo@DIGEST of the artifact in repo.
func (h *Hostile) Ref(repo string) string { return h.Host + "/" + repo + "@" + h.Digest.String() }

// ServeHTTP routes /v2/<repo>/(manifests|referrers)/<ref>.
func (h *Hostile) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/v2/" {
		w.WriteHeader(http.StatusOK)
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, "/v2/")
	if !ok {
		http.NotFound(w, r)
		return
	}
	var repo, kind string
	for _, k := range []string{"/manifests/", "/referrers/"} {
		if i := strings.Index(rest, k); i > 0 {
			repo, kind = rest[:i], strings.Trim(k, "/")
			break
		}
	}
	switch {
	case repo == HostileRedirect:
		http.Redirect(w, r, "http://169.254.169.254/latest/meta-data/iam/security-credentials/", http.StatusTemporaryRedirect)
	case kind == "manifests" && repo == HostileHuge:
		w.Header().Set("Content-Type", ocispec.MediaTypeImageManifest)
		w.Header().Set("Docker-Content-Digest", h.Digest.String())
		w.Header().Set("Content-Length", fmt.Sprint(hugeSize))
		w.WriteHeader(http.StatusOK)
		if r.Method == http.MethodGet {
			h.stream(w, hugeSize)
		}
	case kind == "manifests" && repo == HostileLiar && r.Method == http.MethodGet:
		w.Header().Set("Content-Type", ocispec.MediaTypeImageManifest)
		w.Header().Set("Docker-Content-Digest", h.Digest.String())
		w.WriteHeader(http.StatusOK) // chunked: no length announced
		h.stream(w, hugeSize)
	case kind == "manifests":
		w.Header().Set("Content-Type", ocispec.MediaTypeImageManifest)
		w.Header().Set("Docker-Content-Digest", h.Digest.String())
		w.Header().Set("Content-Length", fmt.Sprint(len(h.Manifest)))
		w.WriteHeader(http.StatusOK)
		if r.Method == http.MethodGet {
			n, _ := w.Write(h.Manifest)
			h.BytesSent.Add(int64(n))
		}
	case kind == "referrers" && repo == HostileMany:
		w.Header().Set("Content-Type", ocispec.MediaTypeImageIndex)
		w.WriteHeader(http.StatusOK)
		h.manyReferrers(w)
	case kind == "referrers" && repo == HostileDrip:
		w.Header().Set("Content-Type", ocispec.MediaTypeImageIndex)
		w.WriteHeader(http.StatusOK)
		h.drip(w, r)
	case kind == "referrers":
		w.Header().Set("Content-Type", ocispec.MediaTypeImageIndex)
		_, _ = io.WriteString(w, `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}`)
	default:
		http.NotFound(w, r)
	}
}

// stream writes n bytes of JSON-ish filler, generated as it goes.
func (h *Hostile) stream(w io.Writer, n int64) {
	buf := []byte(strings.Repeat(" ", 32<<10))
	for n > 0 {
		chunk := buf
		if int64(len(chunk)) > n {
			chunk = chunk[:n]
		}
		m, err := w.Write(chunk)
		h.BytesSent.Add(int64(m))
		if err != nil {
			return
		}
		n -= int64(m)
	}
}

// manyReferrers writes a referrers index of HostileReferrers signature
// descriptors, one at a time.
func (h *Hostile) manyReferrers(w io.Writer) {
	write := func(s string) bool {
		n, err := io.WriteString(w, s)
		h.BytesSent.Add(int64(n))
		return err == nil
	}
	if !write(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[`) {
		return
	}
	for i := 0; i < HostileReferrers; i++ {
		sep := ","
		if i == 0 {
			sep = ""
		}
		d := digest.FromString(fmt.Sprint("referrer-", i))
		if !write(fmt.Sprintf(`%s{"mediaType":%q,"digest":%q,"size":512,"artifactType":%q}`, sep, ocispec.MediaTypeImageManifest, d, signing.BundleMediaType)) {
			return
		}
	}
	write(`]}`)
}

// drip writes one byte every 200ms until the client goes away.
func (h *Hostile) drip(w http.ResponseWriter, r *http.Request) {
	f, _ := w.(http.Flusher)
	for {
		if _, err := io.WriteString(w, " "); err != nil {
			return
		}
		h.BytesSent.Add(1)
		if f != nil {
			f.Flush()
		}
		select {
		case <-r.Context().Done():
			return
		case <-time.After(200 * time.Millisecond):
		}
	}
}
