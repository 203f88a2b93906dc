// Package registry connects to OCI registries the way docker, crane and oras
// do: credentials from the Docker config file and its credential helpers,
// plain HTTP for local registries, retries with backoff on transient errors,
// and errors that say what went wrong and what to do.
package registry

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"oras.land/oras-go/v2/registry"
	"oras.land/oras-go/v2/registry/remote"
	"oras.land/oras-go/v2/registry/remote/auth"
	"oras.land/oras-go/v2/registry/remote/credentials"
	"oras.land/oras-go/v2/registry/remote/retry"

	"github.com/aetherengine/aether/pkg/version"
)

// Options configure access to a registry.
type Options struct {
	// PlainHTTP forces plain HTTP. Loopback registries (localhost,
	// 127.0.0.0/8, ::1) use plain HTTP whatever its value.
	PlainHTTP bool
	// DockerConfig is the path of a Docker config.json to read credentials
	// from. Empty means $DOCKER_CONFIG/config.json or ~/.docker/config.json,
	// with their credential helpers and credsStore.
	DockerConfig string
	// UserAgent overrides the User-Agent header.
	UserAgent string
	// Log receives one debug line per HTTP request (method, URL, status);
	// headers are never logged. Nil discards.
	Log *slog.Logger
	// Transport overrides the base HTTP transport (tests, SSRF guards).
	Transport http.RoundTripper
	// MaxRetry is the number of retries of an idempotent request on 5xx, 429,
	// 408 or a network error. Zero means 5.
	MaxRetry int
}

// Bounds on what is read from a registry.
const (
	// MaxManifestBytes bounds a manifest or referrers index.
	MaxManifestBytes = 4 << 20
	// MaxReferrerPages bounds the pages of a referrers listing.
	MaxReferrerPages = 64
)

// ParseReference parses REGISTRY/REPO[:TAG][@DIGEST] and explains a bad one.
func ParseReference(ref string) (registry.Reference, error) {
	r, err := registry.ParseReference(ref)
	if err != nil {
		return registry.Reference{}, fmt.Errorf("invalid reference %q: want REGISTRY/REPOSITORY[:TAG|@sha256:DIGEST], e.g. ghcr.io/acme/api:v1 (%v)", ref, err)
	}
	return r, nil
}

// IsLoopback reports whether a registry host[:port] is on this machine.
func IsLoopback(host string) bool {
	h := host
	if hh, _, err := net.SplitHostPort(host); err == nil {
		h = hh
	}
	h = strings.Trim(h, "[]")
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// NewRepository returns a client for the repository of ref (its tag or
// digest, if any, is ignored here: callers resolve it).
func NewRepository(ctx context.Context, ref string, opts Options) (*remote.Repository, error) {
	r, err := ParseReference(ref)
	if err != nil {
		return nil, err
	}
	client, err := NewClient(opts)
	if err != nil {
		return nil, err
	}
	repo, err := remote.NewRepository(r.Registry + "/" + r.Repository)
	if err != nil {
		return nil, err
	}
	repo.Client = client
	repo.PlainHTTP = opts.PlainHTTP || IsLoopback(r.Registry)
	// Bound what a registry can make us read: manifests and referrer
	// indexes (4 MiB, what registries themselves accept) and referrer pages.
	repo.MaxMetadataBytes = MaxManifestBytes
	repo.ReferrerListMaxPages = MaxReferrerPages
	return repo, nil
}

// NewRegistry returns a client for a registry host (for login and catalog).
func NewRegistry(host string, opts Options) (*remote.Registry, error) {
	reg, err := remote.NewRegistry(host)
	if err != nil {
		return nil, fmt.Errorf("invalid registry %q: %v", host, err)
	}
	client, err := NewClient(opts)
	if err != nil {
		return nil, err
	}
	reg.Client = client
	reg.PlainHTTP = opts.PlainHTTP || IsLoopback(host)
	return reg, nil
}

// CredentialStore opens the Docker credential store named by opts.
func CredentialStore(opts Options) (credentials.Store, error) {
	so := credentials.StoreOptions{AllowPlaintextPut: true}
	var (
		s   *credentials.DynamicStore
		err error
	)
	if opts.DockerConfig != "" {
		s, err = credentials.NewStore(opts.DockerConfig, so)
	} else {
		s, err = credentials.NewStoreFromDocker(so)
	}
	if err != nil {
		return nil, fmt.Errorf("reading Docker credentials: %w", err)
	}
	return s, nil
}

// NewClient returns an authenticating, retrying HTTP client.
func NewClient(opts Options) (*auth.Client, error) {
	store, err := CredentialStore(opts)
	if err != nil {
		return nil, err
	}
	base := opts.Transport
	if base == nil {
		base = http.DefaultTransport.(*http.Transport).Clone()
	}
	if opts.Log != nil {
		base = &logTransport{base: base, log: opts.Log}
	}
	maxRetry := opts.MaxRetry
	if maxRetry == 0 {
		maxRetry = 5
	}
	rt := &retry.Transport{
		Base: base,
		Policy: func() retry.Policy {
			return &retry.GenericPolicy{
				Retryable: retry.DefaultPredicate,
				Backoff:   retry.ExponentialBackoff(200*time.Millisecond, 2, 0.2),
				MinWait:   200 * time.Millisecond,
				MaxWait:   5 * time.Second,
				MaxRetry:  maxRetry,
			}
		},
	}
	ua := opts.UserAgent
	if ua == "" {
		ua = version.UserAgent()
	}
	c := &auth.Client{
		Client:     &http.Client{Transport: rt},
		Cache:      auth.NewCache(),
		Credential: credentials.Credential(store),
		Header:     http.Header{"User-Agent": {ua}},
	}
	return c, nil
}

// logTransport logs method, URL and status at debug level. It never logs
// headers, so tokens and passwords cannot leak.
type logTransport struct {
	base http.RoundTripper
	log  *slog.Logger
}

func (t *logTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := t.base.RoundTrip(req)
	u := *req.URL
	u.User = nil
	u.RawQuery = redactQuery(u.RawQuery)
	if err != nil {
		t.log.Debug("registry request failed", "method", req.Method, "url", u.String(), "err", err)
		return resp, err
	}
	t.log.Debug("registry request", "method", req.Method, "url", u.String(), "status", resp.StatusCode, "duration", time.Since(start).Round(time.Millisecond))
	return resp, nil
}

// redactQuery keeps query parameter names but drops values: upload URLs and
// token endpoints may carry secrets in them.
func redactQuery(q string) string {
	if q == "" {
		return ""
	}
	parts := strings.Split(q, "&")
	for i, p := range parts {
		if k, _, ok := strings.Cut(p, "="); ok {
			parts[i] = k + "=REDACTED"
		}
	}
	return strings.Join(parts, "&")
}
