package localregistry

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// serve opens the registry in dir and serves it until the test ends or
// stop is called.
func serve(t *testing.T, dir string) (host string, stop func()) {
	t.Helper()
	r, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(r)
	stopped := false
	stop = func() {
		if !stopped {
			stopped = true
			srv.Close()
			r.Close()
		}
	}
	t.Cleanup(stop)
	return strings.TrimPrefix(srv.URL, "http://"), stop
}

// TestPersistsAcrossRestart: images, tags, an index, a referrer (through
// the referrers API) and a deleted tag are all as they were after the
// registry is stopped and opened again on the same directory, twice (the
// second start replays the compacted journal).
func TestPersistsAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	host, stop := serve(t, dir)
	repo, err := name.NewRepository(host+"/team/app", name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	img, err := random.Image(1<<16, 2)
	if err != nil {
		t.Fatal(err)
	}
	digest, _ := img.Digest()
	if err := remote.Write(repo.Tag("v1"), img); err != nil {
		t.Fatal(err)
	}
	// The same image under a second tag, then that tag deleted.
	if err := remote.Tag(repo.Tag("gone"), img); err != nil {
		t.Fatal(err)
	}
	if err := remote.Delete(repo.Tag("gone")); err != nil {
		t.Fatal(err)
	}
	// A signature-like referrer of the image.
	sigImg, err := random.Image(256, 1)
	if err != nil {
		t.Fatal(err)
	}
	desc, err := partial.Descriptor(img)
	if err != nil {
		t.Fatal(err)
	}
	referrer := mutate.Subject(mutate.MediaType(sigImg, types.OCIManifestSchema1), *desc).(v1.Image)
	refDigest, _ := referrer.Digest()
	if err := remote.Write(repo.Digest(refDigest.String()), referrer); err != nil {
		t.Fatal(err)
	}
	// An index over the image.
	idx := mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex), mutate.IndexAddendum{Add: img})
	if err := remote.WriteIndex(repo.Tag("index"), idx); err != nil {
		t.Fatal(err)
	}
	idxDigest, _ := idx.Digest()

	check := func(t *testing.T, host string) {
		t.Helper()
		repo, _ := name.NewRepository(host+"/team/app", name.Insecure)
		got, err := remote.Image(repo.Tag("v1"))
		if err != nil {
			t.Fatalf("tag v1: %v", err)
		}
		if d, _ := got.Digest(); d != digest {
			t.Fatalf("tag v1 is %s, want %s", d, digest)
		}
		layers, err := got.Layers()
		if err != nil || len(layers) != 2 {
			t.Fatalf("layers: %d, %v", len(layers), err)
		}
		for _, l := range layers {
			want, _ := l.Digest()
			rc, err := l.Compressed()
			if err != nil {
				t.Fatal(err)
			}
			h, _, err := v1.SHA256(rc)
			rc.Close()
			if err != nil || h != want {
				t.Fatalf("layer %s reads back as %s, %v", want, h, err)
			}
		}
		if _, err := remote.Head(repo.Tag("gone")); err == nil {
			t.Fatal("the deleted tag came back")
		}
		refs, err := remote.Referrers(repo.Digest(digest.String()))
		if err != nil {
			t.Fatal(err)
		}
		im, err := refs.IndexManifest()
		if err != nil {
			t.Fatal(err)
		}
		if len(im.Manifests) != 1 || im.Manifests[0].Digest != refDigest {
			t.Fatalf("referrers = %+v, want %s", im.Manifests, refDigest)
		}
		gotIdx, err := remote.Index(repo.Tag("index"))
		if err != nil {
			t.Fatalf("index: %v", err)
		}
		if d, _ := gotIdx.Digest(); d != idxDigest {
			t.Fatalf("index is %s, want %s", d, idxDigest)
		}
	}
	check(t, host)
	stop()
	host2, stop2 := serve(t, dir)
	check(t, host2)
	stop2()
	host3, _ := serve(t, dir)
	check(t, host3)
}

// TestRefusedPushes: what the registry refuses is neither stored nor
// journaled.
func TestRefusedPushes(t *testing.T) {
	dir := t.TempDir()
	host, _ := serve(t, dir)
	good := []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[]}`)
	cases := []struct {
		name, ref, ctype string
		body             []byte
		status           int
		code             string
	}{
		{"digest mismatch", "sha256:" + strings.Repeat("a", 64), "application/vnd.oci.image.manifest.v1+json", good, 400, "DIGEST_INVALID"},
		{"too large", "big", "application/vnd.oci.image.manifest.v1+json", bytes.Repeat([]byte(" "), DefaultMaxManifestBytes+1), 413, "SIZE_INVALID"},
		{"bad tag", "..", "application/vnd.oci.image.manifest.v1+json", good, 400, "MANIFEST_INVALID"},
		{"no content type", "v1", "", good, 400, "MANIFEST_INVALID"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPut, "http://"+host+"/v2/app/manifests/"+tc.ref, bytes.NewReader(tc.body))
			if tc.ctype != "" {
				req.Header.Set("Content-Type", tc.ctype)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var body bytes.Buffer
			body.ReadFrom(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status || !strings.Contains(body.String(), tc.code) {
				t.Fatalf("PUT = %d %s, want %d %s", resp.StatusCode, body.String(), tc.status, tc.code)
			}
		})
	}
	b, err := os.ReadFile(filepath.Join(dir, "manifests", "journal.jsonl"))
	if err != nil || len(b) != 0 {
		t.Fatalf("journal after refused pushes: %q, %v", b, err)
	}
}

// TestJournalDamage: a torn last line (crash during an append) is
// dropped; a damaged line elsewhere stops Open with a message that says
// what to do, rather than silently losing manifests.
func TestJournalDamage(t *testing.T) {
	valid := `{"op":"delete","repo":"app","ref":"v1"}` + "\n"
	cases := []struct {
		name    string
		journal string
		err     string
	}{
		{"torn last line", valid + `{"op":"put","repo":"app","re`, ""},
		{"damaged line", `{"op":"put"` + "\n" + valid, "journal line 1"},
		{"unknown op", `{"op":"wipe","repo":"app","ref":"v1"}` + "\n", "not put or delete"},
		{"path in repo", `{"op":"delete","repo":"../etc","ref":"v1"}` + "\n", "not valid"},
		{"missing manifest file", `{"op":"put","repo":"app","ref":"v1","digest":"sha256:` + strings.Repeat("b", 64) + `","type":"application/vnd.oci.image.manifest.v1+json"}` + "\n", "cannot restore"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.MkdirAll(filepath.Join(dir, "manifests"), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "manifests", "journal.jsonl"), []byte(tc.journal), 0o600); err != nil {
				t.Fatal(err)
			}
			r, err := Open(dir, Options{})
			if tc.err == "" {
				if err != nil {
					t.Fatal(err)
				}
				r.Close()
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("Open = %v, want an error with %q", err, tc.err)
			}
		})
	}
}
