package localregistry

import (
	"bytes"
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"testing"

	ggcr "github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// BenchmarkBlobStat measures what a push of an unchanged 32 MiB
// dependency layer costs the registry (HEAD → Stat): this package's
// handler against go-containerregistry's disk handler, which hashes the
// whole blob on every Stat. Report the ratio of the two ns/op.
func BenchmarkBlobStat(b *testing.B) {
	dir := b.TempDir()
	blob := make([]byte, 32<<20)
	if _, err := rand.Read(blob); err != nil {
		b.Fatal(err)
	}
	h, _, err := v1.SHA256(bytes.NewReader(blob))
	if err != nil {
		b.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "sha256"), 0o700); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "sha256", h.Hex), blob, 0o600); err != nil {
		b.Fatal(err)
	}
	handlers := []struct {
		name string
		h    ggcr.BlobStatHandler
	}{
		{"localregistry", diskBlobs{dir: dir}},
		{"ggcr-disk", ggcr.NewDiskBlobHandler(dir).(ggcr.BlobStatHandler)},
	}
	for _, hd := range handlers {
		b.Run(hd.name, func(b *testing.B) {
			for b.Loop() {
				n, err := hd.h.Stat(context.Background(), "app", h)
				if err != nil || n != int64(len(blob)) {
					b.Fatalf("Stat = %d, %v", n, err)
				}
			}
		})
	}
}
