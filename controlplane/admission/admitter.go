package admission

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/registry/remote"
	"oras.land/oras-go/v2/registry/remote/auth"

	"github.com/aetherengine/aether/controlplane/apierr"
	"github.com/aetherengine/aether/pkg/api"
	"github.com/aetherengine/aether/pkg/artifact"
	"github.com/aetherengine/aether/pkg/referrers"
	"github.com/aetherengine/aether/pkg/registry"
	"github.com/aetherengine/aether/pkg/signing"
)

// Defaults of Options.
const (
	DefaultTimeout       = 30 * time.Second
	DefaultMaxBytes      = 64 << 20
	DefaultCacheTTL      = time.Hour
	DefaultCacheSize     = 4096
	DefaultMaxConcurrent = 8
)

// Options configure a RegistryAdmitter. Zero values get the defaults.
type Options struct {
	// Allow lists the registries admission may read from (empty: none).
	Allow *AllowList
	// DockerConfig is the Docker config.json holding registry credentials
	// (mounted into the server); empty reads $DOCKER_CONFIG or
	// ~/.docker/config.json as docker does.
	DockerConfig string
	// Timeout bounds one whole admission's registry traffic (30s). Keep it
	// below the HTTP server's write time-out.
	Timeout time.Duration
	// Timeouts bound each connection, handshake and response header.
	Timeouts Timeouts
	// MaxReferrers is the most referrers read per artifact (256).
	MaxReferrers int
	// MaxManifestBytes bounds the artifact's manifest (4 MiB).
	MaxManifestBytes int64
	// MaxBytes bounds everything one admission reads from registries (64 MiB).
	MaxBytes int64
	// CacheTTL is how long a verification is reused (1h); negative disables
	// the cache.
	CacheTTL time.Duration
	// CacheSize bounds the cached verifications (4096).
	CacheSize int
	// MaxConcurrent bounds verifications that talk to registries at once
	// (8); more wait for a slot within their time-out.
	MaxConcurrent int
	// Resolver overrides DNS (tests).
	Resolver Resolver
	// Now is the clock (time.Now); it decides which keys are retired.
	Now func() time.Time
	// Log receives debug lines per registry request; nil discards.
	Log *slog.Logger
}

// RegistryAdmitter admits artifacts by verifying them in their registry.
type RegistryAdmitter struct {
	opts      Options
	transport http.RoundTripper
	cache     *Cache
	slots     chan struct{}

	mu     sync.Mutex
	client *auth.Client
	stamp  string
}

var _ Admitter = (*RegistryAdmitter)(nil)

// NewRegistryAdmitter checks the options and returns an admitter.
func NewRegistryAdmitter(o Options) (*RegistryAdmitter, error) {
	if o.Allow == nil {
		o.Allow = &AllowList{}
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.MaxReferrers <= 0 {
		o.MaxReferrers = referrers.DefaultMaxReferrers
	}
	if o.MaxManifestBytes <= 0 {
		o.MaxManifestBytes = referrers.DefaultMaxManifestBytes
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.CacheTTL == 0 {
		o.CacheTTL = DefaultCacheTTL
	}
	if o.CacheSize <= 0 {
		o.CacheSize = DefaultCacheSize
	}
	if o.MaxConcurrent <= 0 {
		o.MaxConcurrent = DefaultMaxConcurrent
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.DockerConfig != "" {
		fi, err := os.Stat(o.DockerConfig)
		if err != nil || !fi.Mode().IsRegular() {
			return nil, fmt.Errorf("registry config %s: not a readable file (%v); mount a Docker config.json with the registries' pull credentials there, or leave the setting empty", o.DockerConfig, err)
		}
	}
	a := &RegistryAdmitter{
		opts:      o,
		transport: NewTransport(&Guard{Allow: o.Allow, Resolver: o.Resolver}, o.Timeouts),
		cache:     NewCache(o.CacheSize),
		slots:     make(chan struct{}, o.MaxConcurrent),
	}
	if _, err := a.registryClient(); err != nil {
		return nil, err
	}
	return a, nil
}

// Cache returns the verification cache (for inspection).
func (a *RegistryAdmitter) Cache() *Cache { return a.cache }

// Admit resolves req.Ref to a digest once, and verifies the digest's
// signature, SBOM and provenance against the app's trust policy.
func (a *RegistryAdmitter) Admit(ctx context.Context, req Request) (Result, error) {
	policy := req.App.Trust
	if len(policy.Keys) == 0 {
		return Result{}, apierr.Rejected(api.ReasonNoTrustedKeys,
			"app %s trusts no signing key yet, so nothing can be verified; an admin sets its trust policy: aether apps trust %s --key cosign.pub", req.App.Name, req.App.Name)
	}
	ref, err := registry.ParseReference(req.Ref)
	if err != nil {
		return Result{}, apierr.Invalid("%v", err)
	}
	if ref.Reference == "" {
		return Result{}, apierr.Invalid("artifact %s names no tag or digest; give REPOSITORY:TAG or REPOSITORY@sha256:DIGEST", req.Ref)
	}
	allowed, plainHTTP := a.opts.Allow.Allows(ref.Registry)
	if !allowed {
		list := a.opts.Allow.String()
		if list == "" {
			list = "empty"
		}
		return Result{}, apierr.Rejected(api.ReasonRegistryNotAllowed,
			"registry %s is not on this server's allow-list (%s); an operator adds it with --registries / AETHER_REGISTRIES", ref.Registry, list)
	}
	repoName := ref.Registry + "/" + ref.Repository
	key := cacheKey{Repository: repoName, App: req.App.Name, PolicyVersion: policy.Version, PolicyHash: policyHash(policy)}

	// A digest reference of a verified artifact is answered from the
	// cache: not a single registry request.
	if d, err := ref.Digest(); err == nil {
		key.Digest = d.String()
		if res, ok := a.cached(req, key); ok {
			return res, nil
		}
	}

	ctx, cancel := context.WithTimeout(ctx, a.opts.Timeout)
	defer cancel()
	ctx, tr := withTrace(ctx, a.opts.MaxBytes)
	fail := refusal{ref: req.Ref, host: ref.Registry, timeout: a.opts.Timeout, trace: tr, budget: a.opts.MaxBytes}
	select {
	case a.slots <- struct{}{}:
		defer func() { <-a.slots }()
	case <-ctx.Done():
		return Result{}, apierr.New(apierr.KindUnavailable, api.CodeUnavailable,
			"%d verifications are already talking to registries; try again in a moment", a.opts.MaxConcurrent)
	}
	repo, err := a.repository(repoName, plainHTTP || registry.IsLoopback(ref.Registry))
	if err != nil {
		return Result{}, err
	}
	desc, err := repo.Resolve(ctx, ref.Reference)
	if err != nil {
		return Result{}, fail.registryError(fmt.Errorf("resolve %s: %w", req.Ref, err))
	}
	res := Result{Digest: desc.Digest.String()}
	if _, err := ref.Digest(); err != nil {
		req.note("resolved %s to %s; the deployment is pinned to %s@%s", req.Ref, desc.Digest, repoName, desc.Digest)
		key.Digest = desc.Digest.String()
		if cres, ok := a.cached(req, key); ok {
			return cres, nil
		}
	}
	size, err := a.checkManifest(ctx, repo, desc, fail)
	if err != nil {
		return res, err
	}
	sp, err := signingPolicy(policy)
	if err != nil {
		return res, err
	}
	v := &signing.Verifier{MaxReferrers: a.opts.MaxReferrers, Now: a.opts.Now, Log: a.opts.Log}
	vr, err := v.Verify(ctx, repo, desc, sp)
	if err != nil {
		return res, fail.verdict(err)
	}
	now := a.opts.Now().UTC()
	art := api.Artifact{Digest: desc.Digest.String(), Size: size, MediaType: desc.MediaType, CreatedAt: now,
		Verification: verification(vr, policy.Version)}
	res.Artifact, res.Summary = &art, summarize(vr)
	requests, bytes, _, _ := tr.snapshot()
	req.note("verified %d referrers with %d registry requests (%d bytes read)", vr.Referrers, requests, bytes)
	if a.opts.CacheTTL > 0 {
		expires := now.Add(a.opts.CacheTTL)
		if r := nextRetirement(policy, now); !r.IsZero() && r.Before(expires) {
			expires = r
		}
		a.cache.Put(key, art, res.Summary, expires)
	}
	return res, nil
}

// cached answers from the cache.
func (a *RegistryAdmitter) cached(req Request, key cacheKey) (Result, bool) {
	if a.opts.CacheTTL < 0 {
		return Result{}, false
	}
	art, summary, ok := a.cache.Get(key, a.opts.Now())
	if !ok {
		return Result{}, false
	}
	who := ""
	if art.Verification != nil {
		who = fmt.Sprintf(" at %s (key %s)", art.Verification.VerifiedAt.Format(time.RFC3339), art.Verification.KeyID)
	}
	req.note("%s was verified against trust policy v%d%s; reusing that verification (cache), no referrer read", key.Digest, key.PolicyVersion, who)
	return Result{Digest: key.Digest, Artifact: &art, Cached: true, Summary: summary}, true
}

// checkManifest reads the artifact's manifest (bounded) and checks that it
// is an AetherEngine artifact; it returns the artifact's total size.
func (a *RegistryAdmitter) checkManifest(ctx context.Context, repo *remote.Repository, desc ocispec.Descriptor, fail refusal) (int64, error) {
	if desc.MediaType != ocispec.MediaTypeImageManifest {
		return 0, apierr.Rejected(api.ReasonArtifactInvalid,
			"%s is a %q, not an OCI image manifest; deploy the artifact `aether build` and `aether push` made", desc.Digest, desc.MediaType)
	}
	if desc.Size > a.opts.MaxManifestBytes {
		return 0, apierr.Rejected(api.ReasonArtifactInvalid,
			"the manifest of %s is %d bytes; the server reads at most %d (an artifact's manifest is a few KiB)", desc.Digest, desc.Size, a.opts.MaxManifestBytes)
	}
	m, _, err := referrers.FetchManifest(ctx, repo, desc, a.opts.MaxManifestBytes)
	if err != nil {
		return 0, fail.registryError(err)
	}
	if m.ArtifactType != artifact.ArtifactType || m.Config.MediaType != artifact.ConfigMediaType {
		return 0, apierr.Rejected(api.ReasonArtifactInvalid,
			"%s is not an AetherEngine Node.js artifact (artifactType %q, config %q); build it with `aether build` and push it with `aether push`",
			desc.Digest, m.ArtifactType, m.Config.MediaType)
	}
	size := desc.Size + m.Config.Size
	for _, l := range m.Layers {
		size += l.Size
	}
	return size, nil
}

// repository returns a bounded client for one repository.
func (a *RegistryAdmitter) repository(name string, plainHTTP bool) (*remote.Repository, error) {
	c, err := a.registryClient()
	if err != nil {
		return nil, err
	}
	repo, err := remote.NewRepository(name)
	if err != nil {
		return nil, apierr.Invalid("repository %s: %v", name, err)
	}
	repo.Client, repo.PlainHTTP = c, plainHTTP
	return referrers.Limit(repo), nil
}

// registryClient returns the shared registry client, rebuilt when the
// mounted Docker config changes (a rotated secret), so its token cache
// survives between admissions otherwise.
func (a *RegistryAdmitter) registryClient() (*auth.Client, error) {
	stamp := ""
	if p := a.opts.DockerConfig; p != "" {
		if fi, err := os.Stat(p); err == nil {
			stamp = fmt.Sprintf("%d/%d", fi.ModTime().UnixNano(), fi.Size())
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.client != nil && stamp == a.stamp {
		return a.client, nil
	}
	c, err := registry.NewClient(registry.Options{DockerConfig: a.opts.DockerConfig, Transport: a.transport, Log: a.opts.Log, MaxRetry: 2})
	if err != nil {
		return nil, fmt.Errorf("registry credentials: %w", err)
	}
	a.client, a.stamp = c, stamp
	return c, nil
}

// verification is the artifact row's record of a verification.
func verification(r *signing.Result, policyVersion int64) *api.Verification {
	v := &api.Verification{PolicyVersion: policyVersion, VerifiedAt: r.VerifiedAt.UTC()}
	if len(r.Signatures) > 0 {
		v.KeyID = r.Signatures[0].Key
	}
	if r.SBOM != nil {
		v.SBOMFormat = strings.TrimSpace(r.SBOM.Format + " " + r.SBOM.SpecVersion)
		v.SBOMComponents = r.SBOM.Components
	}
	if p := r.Provenance; p != nil {
		v.ProvenanceBuilder = p.BuilderID
		v.ProvenanceSource = p.SourceRepo
		if p.SourceCommit != "" {
			v.ProvenanceSource += "@" + p.SourceCommit
		}
	}
	return v
}

// summarize says what a verification established, for the event.
func summarize(r *signing.Result) string {
	var parts []string
	if len(r.Signatures) > 0 {
		s := r.Signatures[0]
		parts = append(parts, fmt.Sprintf("signed by %s (%s format)", s.Key, s.Format))
	}
	if r.SBOM != nil {
		parts = append(parts, fmt.Sprintf("SBOM %s %s with %d components", r.SBOM.Format, r.SBOM.SpecVersion, r.SBOM.Components))
	} else {
		parts = append(parts, "no SBOM (not required by the policy)")
	}
	if p := r.Provenance; p != nil {
		src := p.SourceRepo
		if src == "" {
			src = "an unnamed source"
		}
		parts = append(parts, fmt.Sprintf("provenance from builder %s, %s", p.BuilderID, src))
	}
	return strings.Join(parts, "; ")
}
