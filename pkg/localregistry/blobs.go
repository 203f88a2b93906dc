package localregistry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	ggcr "github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// diskBlobs stores blobs as DIR/sha256/HEX. It does what
// ggcr.NewDiskBlobHandler does, differently in three ways: Stat reads the
// file's size instead of hashing the whole blob again (the registry
// verified the digest while the blob was uploaded, and every puller
// verifies it again), so a push of an unchanged 100 MB dependency layer
// costs a stat, not a second read; a failed upload leaves no temporary
// file; and a blob is synced to disk before it becomes visible, so a
// manifest recorded after it never points at a blob a crash lost.
type diskBlobs struct{ dir string }

var (
	_ ggcr.BlobStatHandler   = diskBlobs{}
	_ ggcr.BlobPutHandler    = diskBlobs{}
	_ ggcr.BlobDeleteHandler = diskBlobs{}
)

func (b diskBlobs) path(h v1.Hash) (string, error) {
	if h.Algorithm != "sha256" || len(h.Hex) != 64 {
		return "", fmt.Errorf("%w: unsupported digest %s", ggcr.ErrNotFound, h)
	}
	return filepath.Join(b.dir, h.Algorithm, h.Hex), nil
}

// Stat returns the blob's size.
func (b diskBlobs) Stat(_ context.Context, _ string, h v1.Hash) (int64, error) {
	p, err := b.path(h)
	if err != nil {
		return 0, err
	}
	fi, err := os.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, ggcr.ErrNotFound
	}
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

// Get opens the blob.
func (b diskBlobs) Get(_ context.Context, _ string, h v1.Hash) (io.ReadCloser, error) {
	p, err := b.path(h)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ggcr.ErrNotFound
	}
	return f, err
}

// Put stores the blob. rc verifies size and digest as it is read and
// fails at its end on a mismatch; that error is returned as it is, which
// the registry answers with DIGEST_INVALID.
func (b diskBlobs) Put(_ context.Context, _ string, h v1.Hash, rc io.ReadCloser) error {
	defer rc.Close()
	p, err := b.path(h)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(p), ".upload-*")
	if err != nil {
		return err
	}
	committed := false
	defer func() {
		if !committed {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err := io.Copy(f, rc); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), p); err != nil {
		return err
	}
	committed = true
	return nil
}

// Delete removes the blob.
func (b diskBlobs) Delete(_ context.Context, _ string, h v1.Hash) error {
	p, err := b.path(h)
	if err != nil {
		return err
	}
	err = os.Remove(p)
	if errors.Is(err, fs.ErrNotExist) {
		return ggcr.ErrNotFound
	}
	return err
}
