// Package local is the embedded runtime for a laptop: it runs verified
// artifacts as supervised `node` processes, with no cluster.
//
// Per rollout it fetches the artifact by digest with pkg/fetch into
// STATE/apps/<app>/<deployment>/app, starts the artifact's start command
// on a free port (PORT), probes it like the Kubernetes runtime does (TCP,
// or HTTP GET of a path), restarts it with exponential backoff when it
// exits, and detects crash loops. Each app has a stable front port on
// 127.0.0.1, a reverse proxy that switches to the new version only once it
// answers; the old version then drains and gets SIGTERM. Logs go to a
// size-capped file per deployment that the API serves.
package local

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/aetherengine/aether/controlplane/runtime"
	"github.com/aetherengine/aether/pkg/fetch"
)

// Options configure the local runtime; zero fields get defaults.
type Options struct {
	// StateDir holds the apps' files, logs and state (required).
	StateDir string
	// Node is the Node.js binary (default: node on PATH).
	Node string
	// Host is where front proxies listen (default 127.0.0.1).
	Host string
	// Probe is the readiness probe (default: TCP connect every 100ms).
	Probe Probe
	// Policy is the restart and stop policy.
	Policy Policy
	// ReadinessTimeout bounds how long a new version may take to answer
	// the probe (default 60s).
	ReadinessTimeout time.Duration
	// MaxLogBytes caps a deployment's log file (default 10 MiB; one
	// rotated file is kept besides).
	MaxLogBytes int64
	// KeepDeployments is how many deployment directories (with their
	// logs) an app keeps (default 10); only the serving and the previous
	// version keep their extracted files.
	KeepDeployments int
	// Fetch configures registry access (credentials, limits).
	Fetch fetch.Options
	// NoSharedLayers extracts every layer for every deployment instead of
	// sharing one verified copy of an unchanged dependency layer.
	NoSharedLayers bool
	Log            *slog.Logger
}

// Runtime is the local runtime. It implements runtime.Runtime,
// runtime.Inspector and runtime.Remover.
type Runtime struct {
	opts Options
	log  *slog.Logger
	// ctx ends when the runtime closes; rollouts derive from it.
	ctx    context.Context
	cancel context.CancelCauseFunc

	// layers shares unchanged dependency layers between deployments (nil
	// with NoSharedLayers).
	layers *sharedLayers

	mu     sync.Mutex
	apps   map[string]*app
	closed bool
	// bg tracks rollouts and background stops, for Close.
	bg sync.WaitGroup

	nodeMu       sync.Mutex
	nodeVersions map[string]string
}

var (
	_ runtime.Runtime   = (*Runtime)(nil)
	_ runtime.Inspector = (*Runtime)(nil)
	_ runtime.Remover   = (*Runtime)(nil)
)

// Errors a rollout can be cancelled with.
var (
	errSuperseded = errors.New("a newer deployment of the app started")
	errClosed     = errors.New("the runtime stopped (the server is shutting down)")
)

// New returns a runtime keeping its files under opts.StateDir/apps. It
// starts nothing: Restore brings back the apps of a previous run.
func New(opts Options) (*Runtime, error) {
	if opts.StateDir == "" {
		return nil, errors.New("local runtime: no state directory; set --state-dir")
	}
	abs, err := filepath.Abs(opts.StateDir)
	if err != nil {
		return nil, err
	}
	opts.StateDir = abs
	if err := os.MkdirAll(filepath.Join(abs, "apps"), 0o700); err != nil {
		return nil, fmt.Errorf("local runtime: create the state directory: %w", err)
	}
	if opts.Host == "" {
		opts.Host = "127.0.0.1"
	}
	opts.Probe = opts.Probe.withDefaults()
	opts.Policy = opts.Policy.withDefaults()
	if opts.ReadinessTimeout <= 0 {
		opts.ReadinessTimeout = 60 * time.Second
	}
	if opts.MaxLogBytes <= 0 {
		opts.MaxLogBytes = 10 << 20
	}
	if opts.KeepDeployments < 2 {
		opts.KeepDeployments = 10
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Fetch.Logger == nil {
		opts.Fetch.Logger = opts.Log
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	rt := &Runtime{opts: opts, log: opts.Log, ctx: ctx, cancel: cancel, apps: map[string]*app{}, nodeVersions: map[string]string{}}
	if !opts.NoSharedLayers {
		rt.layers = &sharedLayers{dir: filepath.Join(abs, "layers")}
	}
	return rt, nil
}

// Name returns "local".
func (rt *Runtime) Name() string { return "local" }

// Ready checks that apps can run: the state directory is writable and
// Node.js is installed.
func (rt *Runtime) Ready(ctx context.Context) error {
	f, err := os.CreateTemp(filepath.Join(rt.opts.StateDir, "apps"), ".ready-*")
	if err != nil {
		return fmt.Errorf("state directory not writable: %w", err)
	}
	f.Close()
	os.Remove(f.Name())
	_, err = nodePath(rt.opts.Node)
	return err
}

// StateDir returns the runtime's state directory.
func (rt *Runtime) StateDir() string { return rt.opts.StateDir }

// Close cancels rollouts in progress (they report failed), stops every
// app's processes (SIGTERM, then SIGKILL after the grace period) and
// closes the front proxies. The apps' state stays on disk for Restore.
func (rt *Runtime) Close() error {
	rt.mu.Lock()
	if rt.closed {
		rt.mu.Unlock()
		return nil
	}
	rt.closed = true
	apps := make([]*app, 0, len(rt.apps))
	for _, a := range rt.apps {
		apps = append(apps, a)
	}
	rt.mu.Unlock()
	rt.cancel(errClosed)
	// Rollouts see the cancellation, stop their new version and report.
	rt.bg.Wait()
	var wg sync.WaitGroup
	for _, a := range apps {
		wg.Go(func() { a.shutdown() })
	}
	wg.Wait()
	return nil
}

// app is the runtime's view of one app.
type app struct {
	name string
	dir  string

	mu      sync.Mutex
	proxy   *frontProxy
	current *instance
	record  AppRecord
	// rolling is the deployment a rollout is bringing up, kept from pruning.
	rolling string

	// The rollout in progress: cancel supersedes it, done closes when it
	// has cleaned up.
	rolloutMu     sync.Mutex
	rolloutCancel context.CancelCauseFunc
	rolloutDone   chan struct{}
}

// appFor returns the app's state, loading its record on first use.
func (rt *Runtime) appFor(name string) (*app, error) {
	if err := checkPathSafe("app name", name); err != nil {
		return nil, err
	}
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if rt.closed {
		return nil, errClosed
	}
	if a, ok := rt.apps[name]; ok {
		return a, nil
	}
	dir := filepath.Join(rt.opts.StateDir, "apps", name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	a := &app{name: name, dir: dir, record: AppRecord{App: name}}
	rec, err := readRecord(dir)
	if err != nil {
		rt.log.Warn("ignoring an unreadable app state file", "app", name, "err", err)
	} else if rec != nil {
		a.record = *rec
	}
	rt.apps[name] = a
	return a, nil
}

// lookup returns an app the runtime knows, or nil.
func (rt *Runtime) lookup(name string) *app {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return rt.apps[name]
}

// ensureProxy starts the app's front proxy if it has none: on its recorded
// port, else on preferred (the artifact's port) when free, else on any
// free port. Called with a.mu held.
func (rt *Runtime) ensureProxy(a *app, preferred int) error {
	if a.proxy != nil {
		return nil
	}
	var ln net.Listener
	var err error
	switch {
	case a.record.FrontPort != 0:
		ln, err = net.Listen("tcp", net.JoinHostPort(rt.opts.Host, strconv.Itoa(a.record.FrontPort)))
		if err != nil {
			return fmt.Errorf("app %s's port %d is taken by another program (%v); stop it, or remove the app so it gets a new port", a.name, a.record.FrontPort, err)
		}
	default:
		if preferred > 0 && preferred < 65536 {
			ln, err = net.Listen("tcp", net.JoinHostPort(rt.opts.Host, strconv.Itoa(preferred)))
		}
		if ln == nil {
			if ln, err = net.Listen("tcp", net.JoinHostPort(rt.opts.Host, "0")); err != nil {
				return fmt.Errorf("listen for app %s: %w", a.name, err)
			}
		}
	}
	a.proxy = newFrontProxy(a.name, ln, rt.log)
	a.record.FrontPort = a.proxy.Port()
	return nil
}

// url is the app's front URL, or "" before it has a proxy. Called with
// a.mu held.
func (rt *Runtime) url(a *app) string {
	if a.proxy == nil {
		return ""
	}
	return "http://" + net.JoinHostPort(rt.opts.Host, strconv.Itoa(a.proxy.Port()))
}

// shutdown stops the app's processes and its proxy.
func (a *app) shutdown() {
	a.mu.Lock()
	cur, p := a.current, a.proxy
	a.current, a.proxy = nil, nil
	a.mu.Unlock()
	if cur != nil {
		cur.stopAndWait()
	}
	if p != nil {
		p.close()
	}
}
