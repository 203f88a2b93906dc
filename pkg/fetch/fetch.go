// Package fetch pulls an Aether artifact by digest with go-containerregistry
// and extracts it safely: the code behind the `aether-fetch` init container
// and the local runtime.
//
// Everything the registry sends is bounded and checked before it is used:
// the manifest (size, digest, media types), the config (size, digest,
// consistency with the manifest), every layer (size and digest while it
// streams) and, unless turned off, every extracted file against the
// config's per-file list. Extraction goes through pkg/extract, so DEST is
// either untouched or holds the complete, verified artifact.
package fetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/aetherengine/aether/pkg/artifact"
	"github.com/aetherengine/aether/pkg/extract"
	"github.com/aetherengine/aether/pkg/version"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Options configure Fetch. The zero value pulls by digest only, over HTTPS
// (plain HTTP for localhost), with the default Docker keychain, and
// verifies every file.
type Options struct {
	// AllowTag accepts a reference by tag; it is resolved once and the
	// digest is logged.
	AllowTag bool
	// PlainHTTP talks plain HTTP to every registry (loopback registries
	// always get it).
	PlainHTTP bool
	// DockerConfig is the path of a Docker config file with credentials
	// (a mounted imagePullSecret's .dockerconfigjson). Empty: Keychain.
	DockerConfig string
	// Keychain is used when DockerConfig is empty; nil means
	// authn.DefaultKeychain (DOCKER_CONFIG, ~/.docker/config.json).
	Keychain authn.Keychain
	// NoVerifyFiles turns off the per-file check against the config
	// (VerifyFiles is on by default; it costs one SHA-256 pass over the
	// uncompressed files).
	NoVerifyFiles bool
	// Limits bound the extraction (zero fields: extract's defaults).
	Limits extract.Limits
	// MaxManifestBytes and MaxConfigBytes bound the two JSON documents
	// (zero: DefaultMaxManifestBytes, DefaultMaxConfigBytes).
	MaxManifestBytes int64
	MaxConfigBytes   int64
	// Transport is the HTTP transport under go-containerregistry's auth
	// and retry layers; nil: remote.DefaultTransport with a larger read
	// buffer.
	Transport http.RoundTripper
	// Retry is the backoff for transient registry errors (zero: 5 tries,
	// 1s doubling, ~15s in all).
	Retry remote.Backoff
	// UserAgent is sent to the registry (empty: aether/VERSION).
	UserAgent string
	// Logger receives progress; nil discards it. Credentials never reach it.
	Logger *slog.Logger
	// SkipLayer, when set, is asked about each layer of the manifest; a
	// layer it accepts is neither downloaded nor extracted, and the caller
	// supplies its content (the local runtime shares one verified copy of
	// an unchanged dependency layer between deployments). The manifest and
	// config are still verified, and the other layers' files too.
	SkipLayer func(layer v1.Descriptor) bool
}

// LayerResult says what happened to one layer.
type LayerResult struct {
	Digest string `json:"digest"`
	// Role is the layer's dev.aetherengine.layer.role annotation.
	Role string `json:"role,omitempty"`
	// Skipped reports that Options.SkipLayer took it.
	Skipped bool `json:"skipped,omitempty"`
}

// Result describes a successful fetch.
type Result struct {
	// Reference is REPO@sha256:… of what was extracted.
	Reference string `json:"reference"`
	// Digest is the manifest digest.
	Digest string `json:"digest"`
	// ResolvedFrom is the tag the digest was resolved from (AllowTag).
	ResolvedFrom string `json:"resolvedFrom,omitempty"`
	// Dest is the directory that now holds the artifact.
	Dest    string           `json:"dest"`
	Runtime artifact.Runtime `json:"runtime"`
	App     artifact.App     `json:"app"`
	Layers  int              `json:"layers"`
	// LayerResults lists the manifest's layers in order.
	LayerResults []LayerResult `json:"layerResults"`
	// Config is the artifact's verified config (with the per-file lists).
	Config *artifact.Config `json:"-"`
	// Files, Dirs, Symlinks and Hardlinks count what was written.
	Files     int `json:"files"`
	Dirs      int `json:"dirs"`
	Symlinks  int `json:"symlinks"`
	Hardlinks int `json:"hardlinks"`
	// Bytes is the sum of regular file sizes; CompressedBytes the layers'
	// size in the registry.
	Bytes           int64 `json:"bytes"`
	CompressedBytes int64 `json:"compressedBytes"`
	// FilesVerified reports whether every file was checked against the config.
	FilesVerified bool    `json:"filesVerified"`
	Timings       Timings `json:"timings"`
}

// Timings splits a fetch's wall time.
type Timings struct {
	Manifest time.Duration `json:"manifestNs"`
	Config   time.Duration `json:"configNs"`
	Layers   time.Duration `json:"layersNs"`
	Commit   time.Duration `json:"commitNs"`
	Total    time.Duration `json:"totalNs"`
}

// Retried status codes: timeouts, rate limits and server errors.
var retryStatusCodes = []int{
	http.StatusRequestTimeout, http.StatusTooManyRequests, http.StatusInternalServerError,
	http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout,
}

var defaultRetry = remote.Backoff{Duration: time.Second, Factor: 2, Jitter: 0.1, Steps: 5}

// Fetch pulls the artifact ref and extracts it into dest. On success dest
// holds the complete, verified artifact; on failure dest is untouched and
// the error's class (ClassOf) says whose problem it is.
func Fetch(ctx context.Context, ref, dest string, opts Options) (*Result, error) {
	start := time.Now()
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r, err := ParseReference(ref, opts.AllowTag, opts.PlainHTTP)
	if err != nil {
		return nil, classed(ClassUsage, err)
	}
	kc := opts.Keychain
	if opts.DockerConfig != "" {
		if kc, err = DockerConfigKeychain(opts.DockerConfig); err != nil {
			return nil, classed(ClassUsage, err)
		}
	} else if kc == nil {
		kc = authn.DefaultKeychain
	}
	log.Info("fetching artifact", "reference", r.String(), "dest", dest, "verifyFiles", !opts.NoVerifyFiles)
	f := &fetcher{opts: opts, log: log, ref: r, res: &Result{}}
	f.lim = opts.Limits
	if f.lim.MaxEntries <= 0 {
		f.lim.MaxEntries = extract.DefaultMaxEntries
	}
	if f.lim.MaxTotalBytes <= 0 {
		f.lim.MaxTotalBytes = extract.DefaultMaxTotalBytes
	}
	if f.puller, err = newPuller(ctx, kc, opts); err != nil {
		return nil, classed(ClassInternal, err)
	}
	res, err := f.run(ctx, dest)
	if err != nil {
		return nil, err
	}
	res.Timings.Total = time.Since(start)
	log.Info("artifact extracted", "reference", res.Reference, "dest", res.Dest,
		"files", res.Files, "bytes", res.Bytes, "layers", res.Layers, "verified", res.FilesVerified,
		"duration", res.Timings.Total.Round(time.Millisecond))
	return res, nil
}

func newPuller(ctx context.Context, kc authn.Keychain, opts Options) (*remote.Puller, error) {
	base := opts.Transport
	if base == nil {
		t := remote.DefaultTransport.(*http.Transport).Clone()
		// Layers stream through this buffer; 4 KiB (the default) costs a
		// syscall per 4 KiB on plain HTTP.
		t.ReadBufferSize = 256 << 10
		base = t
	}
	maxManifest := opts.MaxManifestBytes
	if maxManifest <= 0 {
		maxManifest = DefaultMaxManifestBytes
	}
	retry := opts.Retry
	if retry.Steps == 0 {
		retry = defaultRetry
	}
	ua := opts.UserAgent
	if ua == "" {
		ua = version.UserAgent()
	}
	return remote.NewPuller(
		remote.WithContext(ctx),
		remote.WithAuthFromKeychain(kc),
		remote.WithTransport(&manifestGuard{next: base, max: maxManifest}),
		remote.WithRetryBackoff(retry),
		remote.WithRetryStatusCodes(retryStatusCodes...),
		remote.WithUserAgent(ua),
	)
}

type fetcher struct {
	opts   Options
	log    *slog.Logger
	ref    name.Reference
	lim    extract.Limits
	puller *remote.Puller
	res    *Result
}

func (f *fetcher) run(ctx context.Context, dest string) (*Result, error) {
	res := f.res
	verify := !f.opts.NoVerifyFiles
	var ver *fileVerifier
	xopts := extract.Options{Limits: f.opts.Limits, HashFiles: verify, Logger: f.log}
	if verify {
		xopts.OnEntry = func(e extract.Entry) error { return ver.onEntry(e) }
	}
	// DEST is checked before any network access: a misconfigured pod
	// fails in milliseconds.
	x, err := extract.New(dest, xopts)
	if err != nil {
		return nil, classed(ClassUsage, err)
	}
	defer x.Abort()

	t0 := time.Now()
	m, digest, err := f.manifest(ctx)
	if err != nil {
		return nil, err
	}
	repo := f.ref.Context()
	res.Digest = digest.String()
	res.Reference = repo.Digest(res.Digest).String()
	res.Timings.Manifest = time.Since(t0)

	t0 = time.Now()
	cfg, err := f.config(ctx, repo, m)
	if err != nil {
		return nil, err
	}
	res.Runtime, res.App, res.Config = cfg.Runtime, cfg.App, cfg
	res.Timings.Config = time.Since(t0)
	ver = newFileVerifier(cfg)

	t0 = time.Now()
	buf := make([]byte, 64<<10)
	for i, l := range m.Layers {
		lr := LayerResult{Digest: l.Digest.String(), Role: l.Annotations[artifact.AnnotationLayerRole]}
		if f.opts.SkipLayer != nil && f.opts.SkipLayer(l) {
			lr.Skipped = true
			res.LayerResults = append(res.LayerResults, lr)
			f.log.Debug("layer skipped: the caller has it", "layer", i, "digest", lr.Digest)
			continue
		}
		res.LayerResults = append(res.LayerResults, lr)
		if verify {
			ver.begin(i)
		}
		if err := f.layer(ctx, x, repo, i, l, buf); err != nil {
			return nil, err
		}
		if verify {
			if err := ver.end(); err != nil {
				return nil, err
			}
		}
		res.CompressedBytes += l.Size
	}
	res.Timings.Layers = time.Since(t0)

	t0 = time.Now()
	st, err := x.Commit()
	if err != nil {
		if errors.Is(err, extract.ErrDest) {
			return nil, classed(ClassUsage, err)
		}
		return nil, err
	}
	res.Timings.Commit = time.Since(t0)
	res.Dest = dest
	res.Layers = st.Layers
	res.Files, res.Dirs, res.Symlinks, res.Hardlinks = st.Files, st.Dirs, st.Symlinks, st.Hardlinks
	res.Bytes = st.FileBytes
	res.FilesVerified = verify
	return res, nil
}

// manifest gets and checks the manifest; a tag is resolved here, once.
func (f *fetcher) manifest(ctx context.Context) (*v1.Manifest, v1.Hash, error) {
	desc, err := f.puller.Get(ctx, f.ref)
	if err != nil {
		var se *manifestSizeError
		var de *manifestDigestError
		if errors.As(err, &se) || errors.As(err, &de) {
			return nil, v1.Hash{}, classed(ClassVerify, fmt.Errorf("manifest of %s: %w", f.ref, err))
		}
		if ctx.Err() != nil {
			return nil, v1.Hash{}, ctx.Err()
		}
		return nil, v1.Hash{}, classed(ClassRegistry, fmt.Errorf("cannot get the manifest of %s: %w; %s", f.ref, err, registryHint(err)))
	}
	if tag, ok := f.ref.(name.Tag); ok {
		f.res.ResolvedFrom = tag.String()
		f.log.Info("resolved tag to digest; deploy by digest to pin it", "tag", tag.String(), "digest", desc.Digest.String())
	}
	maxConfig := f.opts.MaxConfigBytes
	if maxConfig <= 0 {
		maxConfig = DefaultMaxConfigBytes
	}
	m, err := parseManifest(desc.Manifest, string(desc.MediaType), maxConfig)
	if err != nil {
		return nil, v1.Hash{}, classed(ClassVerify, fmt.Errorf("%s@%s: %w", f.ref.Context(), desc.Digest, err))
	}
	for i, l := range m.Layers {
		if l.Size > f.lim.MaxTotalBytes {
			return nil, v1.Hash{}, classed(ClassExtract, &extract.Error{Layer: i, Entry: l.Digest.String(), Rule: extract.RuleMaxTotalBytes,
				Detail: fmt.Sprintf("the compressed layer alone is %d bytes, over the limit of %d", l.Size, f.lim.MaxTotalBytes)})
		}
	}
	return m, desc.Digest, nil
}

// config gets the config blob (bounded, digest-checked) and decodes it.
func (f *fetcher) config(ctx context.Context, repo name.Repository, m *v1.Manifest) (*artifact.Config, error) {
	what := "config " + m.Config.Digest.String()
	rc, err := f.open(ctx, repo, m.Config.Digest, what)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	br := &blobReader{r: rc, what: what, size: m.Config.Size}
	b, err := io.ReadAll(br)
	if err != nil {
		return nil, f.blobError(ctx, blobVerdict(err, nil))
	}
	cfg, err := decodeConfig(b, m, f.lim.MaxEntries)
	if err != nil {
		return nil, classed(ClassVerify, fmt.Errorf("%s: %w", what, err))
	}
	return cfg, nil
}

// layer streams one layer from the registry into the extractor.
func (f *fetcher) layer(ctx context.Context, x *extract.Extractor, repo name.Repository, i int, l v1.Descriptor, buf []byte) error {
	what := fmt.Sprintf("layers[%d] %s", i, l.Digest)
	t0 := time.Now()
	rc, err := f.open(ctx, repo, l.Digest, what)
	if err != nil {
		return err
	}
	defer rc.Close()
	br := &blobReader{r: rc, what: what, size: l.Size}
	err = x.Layer(ctx, br)
	if err == nil {
		err = br.finish(buf)
		if err == nil {
			f.log.Debug("layer extracted", "layer", i, "digest", l.Digest.String(), "bytes", l.Size, "duration", time.Since(t0).Round(time.Millisecond))
			return nil
		}
		return f.blobError(ctx, blobVerdict(err, nil))
	}
	// Decide what the failure was: corrupted bytes can surface as a bad
	// gzip stream or a hostile-looking tar entry long before the digest
	// check at the end, so read the rest (bounded by the declared size)
	// and let a digest mismatch win.
	var drainErr error
	if ctx.Err() == nil {
		drainErr = br.finish(buf)
	}
	return f.blobError(ctx, blobVerdict(err, drainErr))
}

func (f *fetcher) open(ctx context.Context, repo name.Repository, d v1.Hash, what string) (io.ReadCloser, error) {
	l, err := f.puller.Layer(ctx, repo.Digest(d.String()))
	if err == nil {
		var rc io.ReadCloser
		if rc, err = l.Compressed(); err == nil {
			return rc, nil
		}
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	return nil, classed(ClassRegistry, fmt.Errorf("cannot download %s from %s: %w; %s", what, repo, err, registryHint(err)))
}

// blobError classifies what blobVerdict left unclassified.
func (f *fetcher) blobError(ctx context.Context, err error) error {
	var fe *Error
	var xe *extract.Error
	switch {
	case errors.As(err, &fe):
		return err
	case ctx.Err() != nil:
		return ctx.Err()
	case errors.As(err, &xe):
		return classed(ClassExtract, err)
	}
	return classed(ClassInternal, err)
}
