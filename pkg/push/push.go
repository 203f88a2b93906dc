// Package push copies an artifact from an OCI layout to any OCI registry
// with oras-go: blobs the registry already has are skipped, uploads are
// streamed from disk (memory stays bounded whatever the layer size), and a
// copy interrupted by a transient failure is retried, skipping what landed.
package push

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content/oci"

	"github.com/aetherengine/aether/pkg/artifact"
	"github.com/aetherengine/aether/pkg/registry"
)

// Blob statuses.
const (
	StatusUploaded = "uploaded"
	StatusExists   = "exists"
)

// Options configure a push.
type Options struct {
	Registry registry.Options
	// Concurrency is the number of blobs uploaded at once (default 3).
	Concurrency int
	// Attempts is how many times a copy interrupted by a transient error is
	// tried in all (default 3).
	Attempts int
	// OnBlob, when set, is called when a blob starts (bar creation) and
	// returns a function that receives bytes read so far; may be nil.
	OnBlob func(desc ocispec.Descriptor, label string) func(n int64)
	// OnBlobDone, when set, is called when a blob is uploaded or skipped.
	OnBlobDone func(desc ocispec.Descriptor, label, status string)
	Log        *slog.Logger
}

// BlobResult says what happened to one blob or manifest.
type BlobResult struct {
	Digest    string `json:"digest"`
	MediaType string `json:"mediaType"`
	Size      int64  `json:"size"`
	// Label names the blob for people: "node_modules", "app", "config",
	// "manifest".
	Label  string `json:"label"`
	Status string `json:"status"`
}

// Result describes a push.
type Result struct {
	// Reference is REPOSITORY@DIGEST, what to deploy or sign.
	Reference  string       `json:"reference"`
	Repository string       `json:"repository"`
	Tag        string       `json:"tag"`
	Digest     string       `json:"digest"`
	MediaType  string       `json:"mediaType"`
	Size       int64        `json:"size"`
	Blobs      []BlobResult `json:"blobs"`
	// UploadedBytes and SkippedBytes sum the blobs uploaded and skipped.
	UploadedBytes int64 `json:"uploadedBytes"`
	SkippedBytes  int64 `json:"skippedBytes"`
	Attempts      int   `json:"attempts"`
	DurationMS    int64 `json:"durationMs"`
}

// IsLayout reports whether dir is an OCI image layout.
func IsLayout(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, "oci-layout"))
	return err == nil
}

// Push copies the artifact tagged artifact.LayoutTag in the layout at
// layoutDir to ref (REGISTRY/REPO[:TAG]; the tag defaults to "latest").
func Push(ctx context.Context, layoutDir, ref string, opts Options) (*Result, error) {
	start := time.Now()
	r, err := registry.ParseReference(ref)
	if err != nil {
		return nil, err
	}
	tag := r.Reference
	if tag == "" {
		tag = "latest"
	} else if err := r.ValidateReferenceAsDigest(); err == nil {
		return nil, fmt.Errorf("push to %q: give a tag (REPO:TAG) or none, not a digest: the digest is computed from the artifact", ref)
	}
	if !IsLayout(layoutDir) {
		return nil, fmt.Errorf("%s is not an OCI layout (no oci-layout file): run `aether build` first, or pass the app directory", layoutDir)
	}
	src, err := oci.NewFromFS(ctx, os.DirFS(layoutDir))
	if err != nil {
		return nil, fmt.Errorf("reading layout %s: %w", layoutDir, err)
	}
	root, err := src.Resolve(ctx, artifact.LayoutTag)
	if err != nil {
		return nil, fmt.Errorf("layout %s has no artifact tagged %q: run `aether build` again (%v)", layoutDir, artifact.LayoutTag, err)
	}
	repo, err := registry.NewRepository(ctx, ref, opts.Registry)
	if err != nil {
		return nil, err
	}
	labels, descs, err := labelBlobs(ctx, src, root)
	if err != nil {
		return nil, err
	}

	rec := &recorder{statuses: map[string]BlobResult{}}
	attempts := opts.Attempts
	if attempts <= 0 {
		attempts = 3
	}
	concurrency := opts.Concurrency
	if concurrency <= 0 {
		concurrency = 3
	}
	copyOpts := oras.CopyOptions{CopyGraphOptions: oras.CopyGraphOptions{
		Concurrency: concurrency,
		PostCopy: func(_ context.Context, d ocispec.Descriptor) error {
			rec.set(d, labels[d.Digest.String()], StatusUploaded)
			if opts.OnBlobDone != nil {
				opts.OnBlobDone(d, labels[d.Digest.String()], StatusUploaded)
			}
			return nil
		},
		OnCopySkipped: func(_ context.Context, d ocispec.Descriptor) error {
			rec.set(d, labels[d.Digest.String()], StatusExists)
			if opts.OnBlobDone != nil {
				opts.OnBlobDone(d, labels[d.Digest.String()], StatusExists)
			}
			return nil
		},
	}}
	var source oras.ReadOnlyTarget = src
	if opts.OnBlob != nil {
		source = &progressSource{ReadOnlyTarget: src, labels: labels, onBlob: opts.OnBlob}
	}
	host := r.Registry
	var desc ocispec.Descriptor
	n := 0
	for {
		n++
		desc, err = oras.Copy(ctx, source, artifact.LayoutTag, repo, tag, copyOpts)
		if err == nil || n >= attempts || !registry.Transient(err) {
			break
		}
		wait := time.Duration(n) * time.Second
		if opts.Log != nil {
			opts.Log.Warn("push interrupted, retrying; blobs already uploaded are skipped", "attempt", n, "wait", wait, "err", err)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(wait):
		}
	}
	if err != nil {
		return nil, registry.Explain(unwrapCopy(err), host)
	}
	// When the registry already has the manifest, the copy stops there
	// without visiting its blobs: they are all there too.
	for _, d := range descs {
		if !rec.has(d) {
			rec.set(d, labels[d.Digest.String()], StatusExists)
		}
	}
	res := &Result{
		Reference:  r.Registry + "/" + r.Repository + "@" + desc.Digest.String(),
		Repository: r.Registry + "/" + r.Repository,
		Tag:        tag,
		Digest:     desc.Digest.String(),
		MediaType:  desc.MediaType,
		Size:       desc.Size,
		Attempts:   n,
		DurationMS: time.Since(start).Milliseconds(),
	}
	res.Blobs = rec.list()
	for _, b := range res.Blobs {
		if b.Status == StatusUploaded {
			res.UploadedBytes += b.Size
		} else {
			res.SkippedBytes += b.Size
		}
	}
	return res, nil
}

// unwrapCopy strips oras' CopyError wrapper, keeping the registry's error.
func unwrapCopy(err error) error {
	var ce *oras.CopyError
	if errors.As(err, &ce) && ce.Err != nil {
		return ce.Err
	}
	return err
}

// labelBlobs names the artifact's blobs for people and lists them.
func labelBlobs(ctx context.Context, src oras.ReadOnlyTarget, root ocispec.Descriptor) (map[string]string, []ocispec.Descriptor, error) {
	labels := map[string]string{root.Digest.String(): "manifest"}
	m, err := fetchManifest(ctx, src, root)
	if err != nil {
		return nil, nil, err
	}
	descs := append([]ocispec.Descriptor{root, m.Config}, m.Layers...)
	labels[m.Config.Digest.String()] = "config"
	for _, l := range m.Layers {
		switch l.Annotations[artifact.AnnotationLayerRole] {
		case artifact.RoleDependencies:
			labels[l.Digest.String()] = "node_modules"
		case artifact.RoleApp:
			labels[l.Digest.String()] = "app"
		default:
			labels[l.Digest.String()] = "layer " + l.Digest.Encoded()[:12]
		}
	}
	return labels, descs, nil
}

type recorder struct {
	mu       sync.Mutex
	statuses map[string]BlobResult
}

func (r *recorder) has(d ocispec.Descriptor) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.statuses[d.Digest.String()]
	return ok
}

func (r *recorder) set(d ocispec.Descriptor, label, status string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.statuses[d.Digest.String()] = BlobResult{Digest: d.Digest.String(), MediaType: d.MediaType, Size: d.Size, Label: label, Status: status}
}

// list returns blobs in a stable order: layers, config, manifest.
func (r *recorder) list() []BlobResult {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]BlobResult, 0, len(r.statuses))
	for _, b := range r.statuses {
		out = append(out, b)
	}
	rank := map[string]int{"node_modules": 0, "app": 1, "config": 2, "manifest": 3}
	sort.Slice(out, func(i, j int) bool {
		ri, rj := rank[out[i].Label], rank[out[j].Label]
		if ri != rj {
			return ri < rj
		}
		return out[i].Digest < out[j].Digest
	})
	return out
}

// progressSource reports bytes read from the layout per blob.
type progressSource struct {
	oras.ReadOnlyTarget
	labels map[string]string
	onBlob func(desc ocispec.Descriptor, label string) func(n int64)
}

func (p *progressSource) Fetch(ctx context.Context, d ocispec.Descriptor) (io.ReadCloser, error) {
	rc, err := p.ReadOnlyTarget.Fetch(ctx, d)
	if err != nil {
		return nil, err
	}
	report := p.onBlob(d, p.labels[d.Digest.String()])
	if report == nil {
		return rc, nil
	}
	return &countingReader{ReadCloser: rc, report: report}, nil
}

type countingReader struct {
	io.ReadCloser
	n      int64
	report func(int64)
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	c.n += int64(n)
	c.report(c.n)
	return n, err
}
