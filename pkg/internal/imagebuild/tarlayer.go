package main

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// file is one entry of a layer: a directory (Data nil, Dir true) or a
// regular file. Ownership is numeric; names are absolute in the image.
type file struct {
	Name     string
	Dir      bool
	Mode     int64
	UID, GID int
	Data     []byte
}

// layerFromFiles writes files as a reproducible tar (sorted by name, every
// mtime the build's fixed time, no user or group names, no access or
// change times) and wraps it as a gzip OCI layer. go-containerregistry
// compresses with a zeroed gzip header, so the same tar gives the same
// layer digest.
func layerFromFiles(files []file, mtime time.Time) (v1.Layer, error) {
	b, err := tarFiles(files, mtime)
	if err != nil {
		return nil, err
	}
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(b)), nil
	}, tarball.WithMediaType(types.OCILayer))
}

// tarFiles is the uncompressed tar of files.
func tarFiles(files []file, mtime time.Time) ([]byte, error) {
	sorted := make([]file, len(files))
	for i, f := range files {
		f.Name = strings.TrimPrefix(path.Clean("/"+f.Name), "/")
		if f.Name == "" {
			return nil, fmt.Errorf("layer entry %q has no name", files[i].Name)
		}
		sorted[i] = f
	}
	// A parent sorts before its children: it is their prefix.
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for i, f := range sorted {
		name := f.Name
		if i > 0 && sorted[i-1].Name == name {
			return nil, fmt.Errorf("layer entry /%s appears twice", name)
		}
		h := &tar.Header{
			Name:    name,
			Mode:    f.Mode,
			Uid:     f.UID,
			Gid:     f.GID,
			ModTime: mtime.UTC().Truncate(time.Second),
			Format:  tar.FormatPAX,
		}
		if f.Dir {
			h.Typeflag = tar.TypeDir
			h.Name += "/"
		} else {
			h.Typeflag = tar.TypeReg
			h.Size = int64(len(f.Data))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, fmt.Errorf("layer entry %s: %w", name, err)
		}
		if !f.Dir {
			if _, err := tw.Write(f.Data); err != nil {
				return nil, fmt.Errorf("layer entry %s: %w", name, err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
