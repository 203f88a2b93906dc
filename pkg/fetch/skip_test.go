package fetch

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/aetherengine/aether/internal/regtest"
	"github.com/aetherengine/aether/pkg/artifact"
)

// TestSkipLayer: a layer the caller already has is neither downloaded nor
// extracted; the rest is fetched and verified as usual.
func TestSkipLayer(t *testing.T) {
	layers := appLayers()
	a := assemble(t, configFor(layers), layers, nil)
	reg := regtest.InProcess(t)
	ref := push(t, reg.Host, "apps/hello", "v1", a)
	reg.ResetRequests()
	dest := newDest(t)
	var asked []string
	res, err := Fetch(context.Background(), ref, dest, Options{SkipLayer: func(l v1.Descriptor) bool {
		asked = append(asked, l.Annotations[artifact.AnnotationLayerRole])
		return l.Annotations[artifact.AnnotationLayerRole] == artifact.RoleDependencies
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(asked) != 2 || len(res.LayerResults) != 2 || !res.LayerResults[0].Skipped || res.LayerResults[1].Skipped ||
		res.LayerResults[0].Role != artifact.RoleDependencies || res.LayerResults[0].Digest != sha(a.Layers[0]).String() {
		t.Fatalf("asked %v, layer results %+v", asked, res.LayerResults)
	}
	if _, err := os.Stat(filepath.Join(dest, "server.js")); err != nil {
		t.Fatalf("app layer not extracted: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dest, "node_modules")); !os.IsNotExist(err) {
		t.Fatalf("the skipped dependency layer was extracted: %v", err)
	}
	for _, q := range reg.Requests() {
		if q.Path == "/v2/apps/hello/blobs/"+sha(a.Layers[0]).String() {
			t.Fatalf("the skipped layer was downloaded: %+v", q)
		}
	}
}
