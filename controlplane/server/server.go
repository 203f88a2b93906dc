// Package server assembles the control plane from its configuration: opens
// the store, bootstraps the first admin key, builds the service and the HTTP
// layer, serves, and shuts down gracefully when its context ends.
package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/aetherengine/aether/controlplane/admission"
	"github.com/aetherengine/aether/controlplane/auth"
	"github.com/aetherengine/aether/controlplane/config"
	"github.com/aetherengine/aether/controlplane/httpapi"
	"github.com/aetherengine/aether/controlplane/metrics"
	"github.com/aetherengine/aether/controlplane/runtime"
	"github.com/aetherengine/aether/controlplane/service"
	"github.com/aetherengine/aether/controlplane/store"
	"github.com/aetherengine/aether/controlplane/store/postgres"
	"github.com/aetherengine/aether/controlplane/store/sqlite"
)

// Deps are what the caller injects; zero values get defaults.
type Deps struct {
	Log *slog.Logger
	// Registry collects the metrics served at /metrics (default: a new
	// registry with the Go and process collectors).
	Registry *prometheus.Registry
	// Notice receives the one-time bootstrap key message (default stderr).
	Notice   io.Writer
	Admitter admission.Admitter
	Runtime  runtime.Runtime
	// Listening, when set, is called with the bound address once the server
	// accepts connections (useful with port 0).
	Listening func(addr string)
}

// OpenStore opens the database a URL names.
func OpenStore(ctx context.Context, database string) (store.Store, error) {
	kind, target, err := config.ParseDatabase(database)
	if err != nil {
		return nil, err
	}
	switch kind {
	case config.SQLite:
		return sqlite.Open(ctx, target, sqlite.Options{})
	default:
		return postgres.Open(ctx, target, postgres.Options{})
	}
}

// Handler is an assembled control plane, for serving in-process (tests,
// `aether server`) or through Run.
type Handler struct {
	*httpapi.Server
	Service *service.Service
	Store   store.Store
	// Runtime runs verified deployments (Deps.Runtime, or the one
	// cfg.Runtime names).
	Runtime runtime.Runtime

	// closeRuntime stops a runtime Build created (not an injected one).
	closeRuntime func()
}

// Build opens the store, bootstraps it, sets up the runtime and returns
// the HTTP handler; the caller closes it (h.Close).
func Build(ctx context.Context, cfg config.Config, d Deps) (*Handler, error) {
	d = withDefaults(d)
	st, err := OpenStore(ctx, cfg.Database)
	if err != nil {
		return nil, err
	}
	// The admitter comes first: the Kubernetes runtime reads artifact
	// configs through its guarded, allow-listed registry client.
	if d.Admitter == nil {
		a, err := NewAdmitter(cfg, d.Log)
		if err != nil {
			st.Close()
			return nil, err
		}
		if cfg.Registries == "" {
			d.Log.Warn("no registry is allowed (--registries / AETHER_REGISTRIES is empty): every deployment will be refused with registry_not_allowed")
		}
		d.Admitter = a
	}
	closeRuntime, err := withRuntime(ctx, cfg, &d)
	if err != nil {
		st.Close()
		return nil, err
	}
	h, err := assemble(ctx, cfg, d, st)
	if err != nil {
		closeRuntime()
		st.Close()
		return nil, err
	}
	h.Runtime, h.closeRuntime = d.Runtime, closeRuntime
	return h, nil
}

func withDefaults(d Deps) Deps {
	if d.Log == nil {
		d.Log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	if d.Registry == nil {
		d.Registry = prometheus.NewRegistry()
		d.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	if d.Notice == nil {
		d.Notice = os.Stderr
	}
	return d
}

// NewAdmitter builds the admitter a configuration asks for: verification
// in the registries of the allow-list, with the mounted credentials.
func NewAdmitter(cfg config.Config, log *slog.Logger) (*admission.RegistryAdmitter, error) {
	allow, err := admission.ParseAllowList(cfg.Registries)
	if err != nil {
		return nil, err
	}
	ttl := time.Duration(cfg.VerificationCacheTTL)
	if ttl == 0 {
		ttl = -1 // 0 in the configuration disables the cache
	}
	return admission.NewRegistryAdmitter(admission.Options{
		Allow:        allow,
		DockerConfig: cfg.RegistryConfig,
		Timeout:      time.Duration(cfg.RegistryTimeout),
		MaxReferrers: cfg.MaxReferrers,
		CacheTTL:     ttl,
		Log:          log.With("component", "admission"),
	})
}

func assemble(ctx context.Context, cfg config.Config, d Deps, st store.Store) (*Handler, error) {
	if d.Admitter == nil {
		a, err := NewAdmitter(cfg, d.Log)
		if err != nil {
			return nil, err
		}
		if cfg.Registries == "" {
			d.Log.Warn("no registry is allowed (--registries / AETHER_REGISTRIES is empty): every deployment will be refused with registry_not_allowed")
		}
		d.Admitter = a
	}
	m := metrics.New(d.Registry)
	svc := service.New(service.Options{Store: st, Admitter: d.Admitter, Runtime: d.Runtime, Metrics: m, Log: d.Log, DefaultNamespace: cfg.DefaultNamespace})
	generated, created, err := svc.Bootstrap(ctx, cfg.BootstrapAdminKey)
	if err != nil {
		return nil, err
	}
	switch {
	case generated != "":
		// Shown once, on the notice stream, never through the logger.
		fmt.Fprintf(d.Notice, "\nAetherEngine: this is a new, empty store, so a first admin API key was created.\n"+
			"It is shown only this once; store it now:\n\n    %s\n\n"+
			"Log the CLI in with it:  aether login --server http://%s --api-key-stdin\n\n", generated, cfg.Addr)
	case created:
		d.Log.Info("bootstrap admin key from AETHER_BOOTSTRAP_ADMIN_KEY stored")
	case cfg.BootstrapAdminKey != "":
		d.Log.Info("store already has keys; AETHER_BOOTSTRAP_ADMIN_KEY ignored")
	}
	api, err := httpapi.New(httpapi.Options{Service: svc, Auth: auth.Keys{Store: st}, Metrics: m, Gatherer: d.Registry, Log: d.Log, MaxBodyBytes: cfg.MaxBodyBytes})
	if err != nil {
		return nil, err
	}
	return &Handler{Server: api, Service: svc, Store: st}, nil
}

// Run serves the control plane until ctx ends, then stops accepting
// connections, lets in-flight requests finish (up to the shutdown timeout),
// stops the runtime and closes the store.
func Run(ctx context.Context, cfg config.Config, d Deps) error {
	d = withDefaults(d)
	h, err := Build(ctx, cfg, d)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		h.Close()
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	return Serve(ctx, cfg, d, h, ln)
}

// Serve is Run's second half, for a caller that built h and opened ln
// itself: it serves h on ln until ctx ends, shuts down gracefully and
// closes h.
func Serve(ctx context.Context, cfg config.Config, d Deps, h *Handler, ln net.Listener) error {
	d = withDefaults(d)
	defer h.Close()
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(d.Log.Handler(), slog.LevelWarn),
	}
	kind, _, _ := config.ParseDatabase(cfg.Database)
	d.Log.Info("control plane listening", "addr", ln.Addr().String(), "store", kind)
	if d.Listening != nil {
		d.Listening(ln.Addr().String())
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	d.Log.Info("shutting down: finishing in-flight requests", "timeout", time.Duration(cfg.ShutdownTimeout))
	sctx, cancel := context.WithTimeout(context.Background(), time.Duration(cfg.ShutdownTimeout))
	defer cancel()
	err := srv.Shutdown(sctx)
	// Rollouts still waiting for a version to become ready end now (and
	// report failed); then every app process is stopped.
	h.StopRuntime()
	h.Service.Wait()
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shutdown: %w", err)
	}
	d.Log.Info("stopped")
	return nil
}

// NewLogger returns the logger a configuration asks for.
func NewLogger(w io.Writer, cfg config.Config) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
