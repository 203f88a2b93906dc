package local

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aetherengine/aether/controlplane/runtime"
	"github.com/aetherengine/aether/pkg/api"
	"github.com/aetherengine/aether/pkg/fetch"
)

// Failure reasons a local rollout reports (the Kubernetes runtime uses the
// same codes where the cause is the same).
const (
	ReasonFetchFailed      = "fetch_failed"
	ReasonStartFailed      = "start_failed"
	ReasonCrashLoop        = "crash_loop"
	ReasonReadinessTimeout = "readiness_timeout"
	ReasonPortUnavailable  = "port_unavailable"
	ReasonSuperseded       = "superseded"
	ReasonRuntimeStopped   = "runtime_stopped"
)

// failureTailLines is how many log lines a failure message quotes.
const failureTailLines = 12

// Deploy runs one verified deployment: fetch by digest, start, probe,
// switch the front proxy, stop the old version. It reports rolling_out,
// then ready (with the URL) or failed (with a reason and, for process
// failures, the last lines of the log); the old version keeps serving
// until the new one is ready, and keeps serving when it fails. A newer
// Deploy of the same app supersedes this one.
func (rt *Runtime) Deploy(ctx context.Context, r runtime.Rollout, report runtime.Reporter) error {
	dep := r.Deployment
	if err := checkPathSafe("deployment id", dep.ID); err != nil {
		return err
	}
	a, err := rt.appFor(r.App.Name)
	if err != nil {
		return err
	}
	rt.mu.Lock()
	if rt.closed {
		rt.mu.Unlock()
		return errClosed
	}
	rt.bg.Add(1)
	rt.mu.Unlock()
	defer rt.bg.Done()

	// Reports go through even when the rollout is cancelled.
	rctx := context.WithoutCancel(ctx)
	ctx, release := a.beginRollout(ctx, rt.ctx)
	defer release()

	pinned := dep.Pinned()
	if pinned == "" {
		return report(rctx, runtime.Progress{Status: api.StatusFailed, Reason: ReasonFetchFailed,
			Message: "the deployment has no digest: only a verified artifact, pinned by digest, can run"})
	}
	if err := report(rctx, runtime.Progress{Status: api.StatusRollingOut, Message: "fetching " + pinned}); err != nil {
		return err
	}
	fail := func(reason, format string, args ...any) error {
		msg := fmt.Sprintf(format, args...)
		rt.log.Warn("rollout failed", "app", a.name, "deployment", dep.ID, "reason", reason, "message", firstLine(msg))
		return report(rctx, runtime.Progress{Status: api.StatusFailed, Reason: reason, Message: msg})
	}
	cancelled := func() error {
		if errors.Is(context.Cause(ctx), errSuperseded) {
			return fail(ReasonSuperseded, "%v before this one was ready", errSuperseded)
		}
		return fail(ReasonRuntimeStopped, "%v during the rollout; deploy again", errClosed)
	}

	a.mu.Lock()
	a.rolling = dep.ID
	a.mu.Unlock()
	defer func() {
		a.mu.Lock()
		if a.rolling == dep.ID {
			a.rolling = ""
		}
		a.mu.Unlock()
	}()
	depDir := filepath.Join(a.dir, dep.ID)
	if err := os.MkdirAll(depDir, 0o700); err != nil {
		return fail(ReasonStartFailed, "create %s: %v", depDir, err)
	}
	log, err := openLog(filepath.Join(depDir, "log"), rt.opts.MaxLogBytes)
	if err != nil {
		return fail(ReasonStartFailed, "%v", err)
	}
	handedOver := false
	defer func() {
		if !handedOver {
			log.Close()
		}
	}()

	appDir := filepath.Join(depDir, "app")
	log.Printf("fetching %s", pinned)
	fopts := rt.opts.Fetch
	if rt.layers != nil {
		fopts.SkipLayer = rt.layers.has
	}
	t0 := time.Now()
	res, err := fetch.Fetch(ctx, pinned, appDir, fopts)
	if err != nil {
		if ctx.Err() != nil {
			return cancelled()
		}
		log.Printf("fetch failed (%s): %v", fetch.ClassOf(err), err)
		return fail(ReasonFetchFailed, "fetch %s failed (%s problem): %v", pinned, fetch.ClassOf(err), err)
	}
	if rt.layers != nil {
		if err := rt.layers.link(appDir, res); err != nil {
			log.Printf("fetch failed: %v", err)
			return fail(ReasonFetchFailed, "%v", err)
		}
	}
	shared := ""
	for _, lr := range res.LayerResults {
		if lr.Skipped {
			shared = fmt.Sprintf("; dependency layer %s reused from an earlier deployment", shortDigest(lr.Digest))
		}
	}
	log.Printf("fetched %d files (%d bytes) in %s%s", res.Files, res.Bytes, time.Since(t0).Round(time.Millisecond), shared)

	launch := Launch{Deployment: dep.ID, Digest: res.Digest, Command: res.App.Command, NodeVersion: res.Runtime.Version,
		Env: mergeEnv(r.App.Env, dep.Env)}
	sp, err := rt.spec(a, launch, log)
	if err != nil {
		log.Printf("cannot start: %v", err)
		return fail(ReasonStartFailed, "%v", err)
	}

	a.mu.Lock()
	err = rt.ensureProxy(a, res.App.Port)
	url := rt.url(a)
	a.mu.Unlock()
	if err != nil {
		return fail(ReasonPortUnavailable, "%v", err)
	}

	handedOver = true
	in := startInstance(sp, rt.opts.Policy, rt.opts.Probe, log, rt.log)
	timer := time.NewTimer(rt.opts.ReadinessTimeout)
	defer timer.Stop()
	select {
	case ev := <-in.events:
		switch ev.kind {
		case evReady:
		case evCrashLoop:
			in.stopAndWait()
			return fail(ReasonCrashLoop, "the new version is crash-looping: %s; the previous version keeps serving.%s", ev.msg, rt.tail(a, dep.ID))
		default:
			in.stopAndWait()
			return fail(ReasonStartFailed, "the new version could not start: %s.%s", ev.msg, rt.tail(a, dep.ID))
		}
	case <-timer.C:
		in.stopAndWait()
		return fail(ReasonReadinessTimeout, "the new version did not pass the readiness probe (%s) within %s; the previous version keeps serving.%s",
			rt.probeDesc(), rt.opts.ReadinessTimeout, rt.tail(a, dep.ID))
	case <-ctx.Done():
		in.stopAndWait()
		return cancelled()
	}

	old, err := rt.switchTo(a, in, launch)
	if err != nil {
		in.stopAndWait()
		return fail(ReasonStartFailed, "%v", err)
	}
	if old != nil {
		rt.bg.Add(1)
		go func() {
			defer rt.bg.Done()
			drain(old, rt.opts.Policy.StopGrace)
			old.stopAndWait()
			rt.prune(a)
		}()
	}
	rt.log.Info("app ready", "app", a.name, "deployment", dep.ID, "url", url)
	_, _, status := in.state()
	return report(rctx, runtime.Progress{Status: api.StatusReady, Message: "serving at " + url + " " + strings.TrimPrefix(status, "ready ")})
}

// beginRollout supersedes the app's rollout in progress, waits until it
// has cleaned up, and returns this rollout's context (cancelled when a
// newer one begins or the runtime closes) and its release function.
func (a *app) beginRollout(ctx, runtimeCtx context.Context) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(ctx)
	stop := context.AfterFunc(runtimeCtx, func() { cancel(context.Cause(runtimeCtx)) })
	done := make(chan struct{})
	a.rolloutMu.Lock()
	prevCancel, prevDone := a.rolloutCancel, a.rolloutDone
	a.rolloutCancel, a.rolloutDone = cancel, done
	a.rolloutMu.Unlock()
	if prevCancel != nil {
		prevCancel(errSuperseded)
		<-prevDone
	}
	return ctx, func() {
		stop()
		cancel(nil)
		a.rolloutMu.Lock()
		if a.rolloutDone == done {
			a.rolloutCancel, a.rolloutDone = nil, nil
		}
		a.rolloutMu.Unlock()
		close(done)
	}
}

// spec resolves how to start a launch: command, environment, directory.
func (rt *Runtime) spec(a *app, l Launch, log *logFile) (spec, error) {
	appDir := filepath.Join(a.dir, l.Deployment, "app")
	argv, err := resolveCommand(l.Command, appDir, rt.opts.Node)
	if err != nil {
		return spec{}, err
	}
	if isNode(l.Command[0]) && l.NodeVersion != "" {
		if have := rt.nodeVersion(argv[0]); have != "" && major(have) != major(l.NodeVersion) {
			log.Printf("warning: the artifact was built with Node.js %s, this machine runs %s: native modules may fail to load", l.NodeVersion, have)
		}
	}
	env, ignored := buildEnv(appDir, l.Env)
	if len(ignored) > 0 {
		log.Printf("ignoring the app's %s: set by the runtime", strings.Join(ignored, ", "))
	}
	return spec{dir: appDir, argv: argv, env: env}, nil
}

// nodeVersion caches `node --version` per binary.
func (rt *Runtime) nodeVersion(node string) string {
	rt.nodeMu.Lock()
	defer rt.nodeMu.Unlock()
	if v, ok := rt.nodeVersions[node]; ok {
		return v
	}
	v, err := nodeVersion(rt.ctx, node)
	if err != nil {
		rt.log.Warn("cannot read the Node.js version", "node", node, "err", err)
	}
	rt.nodeVersions[node] = v
	return v
}

// switchTo makes in the app's serving version, records it, and returns the
// version it replaced.
func (rt *Runtime) switchTo(a *app, in *instance, l Launch) (*instance, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.proxy == nil {
		return nil, errClosed
	}
	rec := a.record
	if rec.Current != nil && rec.Current.Deployment != l.Deployment {
		rec.Previous = rec.Current.Deployment
	}
	rec.Current = &l
	if err := writeRecord(a.dir, rec); err != nil {
		return nil, fmt.Errorf("record the app's state: %w", err)
	}
	a.record = rec
	old := a.proxy.switchTo(in)
	a.current = in
	return old, nil
}

// tail quotes the last lines of a deployment's log for a failure message.
func (rt *Runtime) tail(a *app, deployment string) string {
	lines, _, err := tailLog(filepath.Join(a.dir, deployment, "log"), failureTailLines)
	if err != nil || len(lines) == 0 {
		return ""
	}
	for i, l := range lines {
		if len(l) > 300 {
			lines[i] = l[:300] + "…"
		}
	}
	return " Last log lines:\n" + strings.Join(lines, "\n")
}

func (rt *Runtime) probeDesc() string {
	if rt.opts.Probe.Path != "" {
		return "HTTP GET " + rt.opts.Probe.Path + " answering 2xx/3xx"
	}
	return "a TCP connection to the app's PORT"
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}
