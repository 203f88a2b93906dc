package main

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/aetherengine/aether/internal/regtest"
	"github.com/aetherengine/aether/pkg/sbom"
)

// hostPlatform is linux on this machine's architecture: the one platform
// whose build is usually in the Go build cache already.
var hostPlatform = v1.Platform{OS: "linux", Architecture: runtime.GOARCH}

// layerFiles reads a layer's tar into name → header (and content for
// regular files).
func layerFiles(t *testing.T, l v1.Layer) (map[string]*tar.Header, map[string][]byte) {
	t.Helper()
	rc, err := l.Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	hdrs, data := map[string]*tar.Header{}, map[string][]byte{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		n := strings.TrimSuffix(h.Name, "/")
		hdrs[n] = h
		if h.Typeflag == tar.TypeReg {
			b, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			data[n] = b
		}
	}
	return hdrs, data
}

// TestReproducibleImage builds the fetch image twice, into two layouts,
// and checks that the index digests (and the layouts' index.json) are
// equal, and that the second build pushed to a real registry has that
// digest there too. Only the fetch image, for one platform, keeps it
// fast; `make images` builds the whole matrix.
func TestReproducibleImage(t *testing.T) {
	reg := regtest.InProcess(t)
	ctx := context.Background()
	created := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var digests []v1.Hash
	var indexes [][]byte
	var outs []string
	for i := range 2 {
		out := t.TempDir()
		o := options{
			Repo: "../../..", Out: out, GoBin: "go", SBOM: true,
			Release:   release{Version: "v0.0.0-test", Revision: "0123456789abcdef", Source: "https://example.com/aether", Created: created},
			Platforms: []v1.Platform{hostPlatform},
			CABundle:  "/etc/ssl/certs/ca-certificates.crt",
			Images:    []string{"aether-fetch"},
		}
		if i == 1 {
			o.Push = reg.Host + "/test"
			o.PushedFile = filepath.Join(out, "pushed.txt")
		}
		var log bytes.Buffer
		res, err := build(ctx, o, &log)
		if err != nil {
			t.Fatalf("build %d: %v\n%s", i+1, err, log.String())
		}
		t.Logf("build %d: %s", i+1, strings.TrimSpace(log.String()))
		if len(res) != 1 || res[0].Name != "aether-fetch" {
			t.Fatalf("build %d results: %+v", i+1, res)
		}
		digests = append(digests, res[0].Digest)
		b, err := os.ReadFile(filepath.Join(res[0].Layout, "index.json"))
		if err != nil {
			t.Fatal(err)
		}
		indexes = append(indexes, b)
		outs = append(outs, out)
		if i == 1 {
			want := reg.Host + "/test/aether-fetch@" + res[0].Digest.String()
			if res[0].Pushed != want {
				t.Errorf("pushed %q, want %q", res[0].Pushed, want)
			}
			pf, err := os.ReadFile(o.PushedFile)
			if err != nil || string(pf) != "aether-fetch "+want+"\n" {
				t.Errorf("pushed file = %q, %v", pf, err)
			}
			tag, err := name.ParseReference(reg.Host + "/test/aether-fetch:v0.0.0-test")
			if err != nil {
				t.Fatal(err)
			}
			remoteIdx, err := remote.Index(tag, remote.WithContext(ctx))
			if err != nil {
				t.Fatal(err)
			}
			if d, _ := remoteIdx.Digest(); d != res[0].Digest {
				t.Errorf("registry has %s under the tag, build said %s", d, res[0].Digest)
			}
		}
	}
	if digests[0] != digests[1] {
		t.Fatalf("two builds gave different index digests: %s and %s", digests[0], digests[1])
	}
	if !bytes.Equal(indexes[0], indexes[1]) {
		t.Errorf("two builds wrote different index.json:\n%s\n%s", indexes[0], indexes[1])
	}
	sb := [2][]byte{}
	for i, out := range outs {
		b, err := os.ReadFile(filepath.Join(out, "aether-fetch.cdx.json"))
		if err != nil {
			t.Fatal(err)
		}
		sb[i] = b
	}
	if !bytes.Equal(sb[0], sb[1]) {
		t.Error("two builds wrote different SBOMs")
	}
	sum, err := sbom.Validate(sb[0])
	if err != nil {
		t.Fatal(err)
	}
	if sum.RootName != "aether-fetch" || sum.RootVersion != "v0.0.0-test" || sum.Components < 2 {
		t.Errorf("SBOM summary %+v: want root aether-fetch v0.0.0-test with modules", sum)
	}
	if !bytes.Contains(sb[0], []byte(`"pkg:golang/github.com/google/go-containerregistry@v0.22.1"`)) {
		t.Error("the fetch SBOM does not list go-containerregistry v0.22.1, which aether-fetch links")
	}
	t.Logf("index digest, both builds: %s", digests[0])
	checkImage(t, filepath.Join(outs[0], "aether-fetch"), "aether-fetch", created)
}

// checkImage opens the layout and checks what a cluster will run: the
// index's one platform, its config (user, entrypoint, labels), its
// annotations, and the files of both layers.
func checkImage(t *testing.T, dir, cmd string, created time.Time) {
	t.Helper()
	root, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	rm, err := root.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(rm.Manifests) != 1 || rm.Manifests[0].Annotations[annRefName] != "v0.0.0-test" {
		t.Fatalf("layout index.json: %+v", rm.Manifests)
	}
	idx, err := root.ImageIndex(rm.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{
		annCreated: created.Format(time.RFC3339), annRevision: "0123456789abcdef", annVersion: "v0.0.0-test",
		annSource: "https://example.com/aether", annTitle: cmd, annBaseSource: builtinBaseName, annBaseName: "",
	} {
		if got := im.Annotations[k]; got != want {
			t.Errorf("index annotation %s = %q, want %q", k, got, want)
		}
	}
	if !strings.Contains(im.Annotations[annCASource], "ca-certificates") || !strings.HasPrefix(im.Annotations[annCADigest], "sha256:") {
		t.Errorf("index does not record the CA bundle's provenance: %v", im.Annotations)
	}
	if len(im.Manifests) != 1 || im.Manifests[0].Platform == nil || !im.Manifests[0].Platform.Equals(hostPlatform) {
		t.Fatalf("index manifests %+v, want one for %s", im.Manifests, hostPlatform)
	}
	img, err := idx.Image(im.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(m.Annotations[annBaseDigest], "sha256:") {
		t.Errorf("image manifest has no base digest annotation: %v", m.Annotations)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cf.Config.User != "65532:65532" {
		t.Errorf("user %q, want 65532:65532", cf.Config.User)
	}
	if got := strings.Join(cf.Config.Entrypoint, " "); got != "/usr/local/bin/"+cmd {
		t.Errorf("entrypoint %q", got)
	}
	if !cf.Created.Time.Equal(created) || cf.Config.Labels[annVersion] != "v0.0.0-test" {
		t.Errorf("created %s, labels %v", cf.Created, cf.Config.Labels)
	}
	layers, err := img.Layers()
	if err != nil || len(layers) != 2 {
		t.Fatalf("layers: %d, %v", len(layers), err)
	}
	baseHdrs, baseData := layerFiles(t, layers[0])
	ca, err := os.ReadFile("/etc/ssl/certs/ca-certificates.crt")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(baseData["etc/ssl/certs/ca-certificates.crt"], ca) {
		t.Error("the image's CA bundle is not this machine's")
	}
	if !strings.Contains(string(baseData["etc/passwd"]), "nonroot:x:65532:65532:") || !strings.Contains(string(baseData["etc/group"]), "nonroot:x:65532:") {
		t.Errorf("passwd/group lack the nonroot user:\n%s%s", baseData["etc/passwd"], baseData["etc/group"])
	}
	if h := baseHdrs["tmp"]; h == nil || h.Mode != 0o1777 || h.Typeflag != tar.TypeDir {
		t.Errorf("/tmp header %+v, want a 1777 directory", h)
	}
	if h := baseHdrs["home/nonroot"]; h == nil || h.Uid != 65532 || h.Mode != 0o700 {
		t.Errorf("/home/nonroot header %+v", h)
	}
	binHdrs, binData := layerFiles(t, layers[1])
	bh := binHdrs["usr/local/bin/"+cmd]
	if bh == nil || bh.Mode != 0o755 || len(binData["usr/local/bin/"+cmd]) < 1<<20 {
		t.Fatalf("binary entry %+v (%d bytes)", bh, len(binData["usr/local/bin/"+cmd]))
	}
	if !bytes.HasPrefix(binData["usr/local/bin/"+cmd], []byte("\x7fELF")) {
		t.Error("the binary is not an ELF executable")
	}
	for n, h := range binHdrs {
		if !h.ModTime.Equal(created) || h.Uid != 0 || h.Uname != "" {
			t.Errorf("%s: mtime %s uid %d uname %q, want the fixed time and root without names", n, h.ModTime, h.Uid, h.Uname)
		}
	}
}
