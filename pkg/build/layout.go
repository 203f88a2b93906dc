package build

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	ggcrv1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	ggcrlayout "github.com/google/go-containerregistry/pkg/v1/layout"
	digest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/aetherengine/aether/pkg/artifact"
	"github.com/aetherengine/aether/pkg/layer"
	"github.com/aetherengine/aether/pkg/nodejs"
)

// layoutWriter builds a new OCI layout (go-containerregistry's layout
// package) in a temporary sibling directory and swaps it into place on
// commit, so a failed build leaves the previous layout untouched.
type layoutWriter struct {
	final string
	tmp   string
	path  ggcrlayout.Path
	done  bool
}

func newLayoutWriter(final string) (*layoutWriter, error) {
	parent := filepath.Dir(final)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, fmt.Errorf("creating layout directory: %w", err)
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(final)+".tmp-")
	if err != nil {
		return nil, err
	}
	p, err := ggcrlayout.Write(tmp, empty.Index)
	if err != nil {
		os.RemoveAll(tmp)
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(tmp, "blobs", "sha256"), 0o755); err != nil {
		os.RemoveAll(tmp)
		return nil, err
	}
	return &layoutWriter{final: final, tmp: tmp, path: p}, nil
}

func (w *layoutWriter) blobPath(d digest.Digest) string {
	return filepath.Join(w.tmp, "blobs", d.Algorithm().String(), d.Encoded())
}

// writeLayer streams a layer into the layout and names it by its digest.
func (w *layoutWriter) writeLayer(ctx context.Context, entries []layer.Entry, opts layer.Options) (*layer.Result, error) {
	f, err := os.CreateTemp(filepath.Join(w.tmp, "blobs", "sha256"), ".layer-")
	if err != nil {
		return nil, err
	}
	defer os.Remove(f.Name())
	res, err := layer.Write(ctx, f, entries, opts)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	return res, os.Rename(f.Name(), w.blobPath(res.Digest))
}

// linkBlob places an existing blob file (from the cache) into the layout:
// a hard link when the cache is on the same filesystem, else a copy.
func (w *layoutWriter) linkBlob(src string, d digest.Digest) error {
	dst := w.blobPath(d)
	if err := os.Link(src, dst); err == nil || os.IsExist(err) {
		return nil
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.CreateTemp(filepath.Dir(dst), ".copy-")
	if err != nil {
		return err
	}
	defer os.Remove(out.Name())
	verifier := d.Verifier()
	if _, err := io.Copy(io.MultiWriter(out, verifier), in); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	if !verifier.Verified() {
		return fmt.Errorf("cached blob %s does not match its digest %s: remove the cache entry %s and build again", src, d, filepath.Dir(src))
	}
	return os.Rename(out.Name(), dst)
}

// writeBlob stores a small blob and returns its descriptor.
func (w *layoutWriter) writeBlob(mediaType string, data []byte) (ocispec.Descriptor, error) {
	d := digest.FromBytes(data)
	h, err := ggcrv1.NewHash(d.String())
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	if err := w.path.WriteBlob(h, io.NopCloser(bytes.NewReader(data))); err != nil {
		return ocispec.Descriptor{}, err
	}
	return ocispec.Descriptor{MediaType: mediaType, Digest: d, Size: int64(len(data))}, nil
}

// writeArtifact writes the config and manifest and records the manifest in
// index.json, tagged artifact.LayoutTag.
func (w *layoutWriter) writeArtifact(cfg artifact.Config, deps, app *layer.Result, pkg nodejs.PackageJSON) (manifest, config ocispec.Descriptor, err error) {
	cfgJSON, err := marshalConfig(cfg)
	if err != nil {
		return manifest, config, err
	}
	config, err = w.writeBlob(artifact.ConfigMediaType, cfgJSON)
	if err != nil {
		return manifest, config, err
	}
	layerDesc := func(r *layer.Result, role, title string) ocispec.Descriptor {
		return ocispec.Descriptor{
			MediaType: artifact.LayerMediaType,
			Digest:    r.Digest,
			Size:      r.Size,
			Annotations: map[string]string{
				ocispec.AnnotationTitle:       title,
				artifact.AnnotationLayerRole:  role,
				artifact.AnnotationORASUnpack: "true",
				artifact.AnnotationORASDigest: r.DiffID.String(),
			},
		}
	}
	annotations := map[string]string{artifact.AnnotationDepsKey: cfg.Build.DepsKey}
	if pkg.Name != "" {
		annotations[artifact.AnnotationAppName] = pkg.Name
	}
	if pkg.Version != "" {
		annotations[artifact.AnnotationAppVersion] = pkg.Version
	}
	m := ocispec.Manifest{
		Versioned:    specs.Versioned{SchemaVersion: 2},
		MediaType:    artifact.ManifestMediaType,
		ArtifactType: artifact.ArtifactType,
		Config:       config,
		Layers: []ocispec.Descriptor{
			layerDesc(deps, artifact.RoleDependencies, artifact.TitleDependencies),
			layerDesc(app, artifact.RoleApp, artifact.TitleApp),
		},
		Annotations: annotations,
	}
	mJSON, err := json.Marshal(m)
	if err != nil {
		return manifest, config, err
	}
	manifest, err = w.writeBlob(artifact.ManifestMediaType, mJSON)
	if err != nil {
		return manifest, config, err
	}
	manifest.ArtifactType = artifact.ArtifactType
	return manifest, config, w.appendIndex(manifest, artifact.LayoutTag)
}

// writeSBOM writes the SBOM as a referrer of subject (OCI 1.1 subject field).
func (w *layoutWriter) writeSBOM(subject ocispec.Descriptor, bom []byte) (manifest, blob digest.Digest, err error) {
	emptyCfg, err := w.writeBlob(ocispec.MediaTypeEmptyJSON, ocispec.DescriptorEmptyJSON.Data)
	if err != nil {
		return "", "", err
	}
	emptyCfg.Data = ocispec.DescriptorEmptyJSON.Data
	b, err := w.writeBlob(artifact.SBOMMediaType, bom)
	if err != nil {
		return "", "", err
	}
	b.Annotations = map[string]string{ocispec.AnnotationTitle: "sbom.cdx.json"}
	subj := ocispec.Descriptor{MediaType: subject.MediaType, Digest: subject.Digest, Size: subject.Size}
	m := ocispec.Manifest{
		Versioned:    specs.Versioned{SchemaVersion: 2},
		MediaType:    ocispec.MediaTypeImageManifest,
		ArtifactType: artifact.SBOMArtifactType,
		Config:       emptyCfg,
		Layers:       []ocispec.Descriptor{b},
		Subject:      &subj,
	}
	mJSON, err := json.Marshal(m)
	if err != nil {
		return "", "", err
	}
	md, err := w.writeBlob(ocispec.MediaTypeImageManifest, mJSON)
	if err != nil {
		return "", "", err
	}
	md.ArtifactType = artifact.SBOMArtifactType
	return md.Digest, b.Digest, w.appendIndex(md, "")
}

func (w *layoutWriter) appendIndex(d ocispec.Descriptor, tag string) error {
	h, err := ggcrv1.NewHash(d.Digest.String())
	if err != nil {
		return err
	}
	desc := ggcrv1.Descriptor{MediaType: "application/vnd.oci.image.manifest.v1+json", Size: d.Size, Digest: h, ArtifactType: d.ArtifactType}
	if tag != "" {
		desc.Annotations = map[string]string{ocispec.AnnotationRefName: tag}
	}
	return w.path.AppendDescriptor(desc)
}

// commit swaps the new layout into place.
func (w *layoutWriter) commit() error {
	var old string
	if _, err := os.Stat(w.final); err == nil {
		old = w.final + ".old-" + strings.ReplaceAll(time.Now().Format("150405.000000000"), ".", "")
		if err := os.Rename(w.final, old); err != nil {
			return fmt.Errorf("replacing layout %s: %w", w.final, err)
		}
	}
	if err := os.Rename(w.tmp, w.final); err != nil {
		if old != "" {
			_ = os.Rename(old, w.final)
		}
		return fmt.Errorf("writing layout %s: %w", w.final, err)
	}
	w.done = true
	if old != "" {
		_ = os.RemoveAll(old)
	}
	return nil
}

func (w *layoutWriter) abort() {
	if !w.done {
		_ = os.RemoveAll(w.tmp)
	}
}

func digestOf(b []byte) string { return digest.FromBytes(b).String() }
