package local

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/aetherengine/aether/controlplane/runtime"
)

// AppState says which deployment the app serves, where, and how its
// process is doing.
func (rt *Runtime) AppState(_ context.Context, name string) (runtime.AppState, error) {
	if err := checkPathSafe("app name", name); err != nil {
		return runtime.AppState{}, err
	}
	a := rt.lookup(name)
	if a == nil {
		return runtime.AppState{Message: "not running on this runtime"}, nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	st := runtime.AppState{URL: rt.url(a)}
	if a.record.Current != nil {
		st.DeploymentID, st.Digest = a.record.Current.Deployment, a.record.Current.Digest
	}
	if a.current == nil {
		st.Message = "stopped"
		return st, nil
	}
	st.Ready, st.Restarts, st.Message = a.current.state()
	return st, nil
}

// URL returns the app's front URL, or "" when it has none.
func (rt *Runtime) URL(name string) string {
	a := rt.lookup(name)
	if a == nil {
		return ""
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return rt.url(a)
}

// Logs returns the last tail lines (DefaultTail when 0, at most MaxTail)
// of a deployment's log: its processes' stdout and stderr and the
// supervisor's own lines.
func (rt *Runtime) Logs(_ context.Context, app, deployment string, tail int) (runtime.Logs, error) {
	if err := checkPathSafe("app name", app); err != nil {
		return runtime.Logs{}, err
	}
	if err := checkPathSafe("deployment id", deployment); err != nil {
		return runtime.Logs{}, err
	}
	lines, truncated, err := tailLog(filepath.Join(rt.opts.StateDir, "apps", app, deployment, "log"), tail)
	if errors.Is(err, fs.ErrNotExist) {
		return runtime.Logs{}, fmt.Errorf("deployment %s of app %s: %w (it never started on this runtime, or its files were pruned)", deployment, app, runtime.ErrNoLogs)
	}
	if err != nil {
		return runtime.Logs{}, err
	}
	return runtime.Logs{Lines: lines, Truncated: truncated}, nil
}

// StopApp stops the app's processes and its front proxy and forgets its
// serving version, so a restart does not bring it back; files and logs
// stay.
func (rt *Runtime) StopApp(ctx context.Context, name string) error {
	a, err := rt.appFor(name)
	if err != nil {
		return err
	}
	_, release := a.beginRollout(ctx, rt.ctx)
	defer release()
	a.shutdown()
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.record.Current == nil {
		return nil
	}
	a.record.Previous, a.record.Current = a.record.Current.Deployment, nil
	return writeRecord(a.dir, a.record)
}

// RemoveApp stops the app and deletes its files, logs and port.
func (rt *Runtime) RemoveApp(ctx context.Context, name string) error {
	if err := rt.StopApp(ctx, name); err != nil && !errors.Is(err, errClosed) {
		return err
	}
	rt.mu.Lock()
	delete(rt.apps, name)
	rt.mu.Unlock()
	if err := os.RemoveAll(filepath.Join(rt.opts.StateDir, "apps", name)); err != nil {
		return fmt.Errorf("remove app %s's files: %w", name, err)
	}
	return nil
}

// Restore starts the apps a previous run was serving, on their ports,
// from the files already on disk (no fetch). An app that cannot start is
// logged and skipped; the others still start.
func (rt *Runtime) Restore(ctx context.Context) error {
	entries, err := os.ReadDir(filepath.Join(rt.opts.StateDir, "apps"))
	if err != nil {
		return err
	}
	var errs []error
	for _, e := range entries {
		if !e.IsDir() || checkPathSafe("app name", e.Name()) != nil {
			continue
		}
		if err := rt.restore(ctx, e.Name()); err != nil {
			rt.log.Error("cannot restore app", "app", e.Name(), "err", err)
			errs = append(errs, fmt.Errorf("app %s: %w", e.Name(), err))
		}
	}
	return errors.Join(errs...)
}

func (rt *Runtime) restore(ctx context.Context, name string) error {
	a, err := rt.appFor(name)
	if err != nil {
		return err
	}
	_, release := a.beginRollout(ctx, rt.ctx)
	defer release()
	a.mu.Lock()
	defer a.mu.Unlock()
	l := a.record.Current
	if l == nil || a.current != nil {
		return nil
	}
	if err := checkPathSafe("deployment id", l.Deployment); err != nil {
		return err
	}
	log, err := openLog(filepath.Join(a.dir, l.Deployment, "log"), rt.opts.MaxLogBytes)
	if err != nil {
		return err
	}
	log.Printf("restoring deployment %s after a restart", l.Deployment)
	sp, err := rt.spec(a, *l, log)
	if err == nil {
		_, err = os.Stat(sp.dir)
	}
	if err != nil {
		log.Printf("cannot restore: %v", err)
		log.Close()
		return err
	}
	if err := rt.ensureProxy(a, 0); err != nil {
		log.Close()
		return err
	}
	a.current = startInstance(sp, rt.opts.Policy, rt.opts.Probe, log, rt.log)
	a.proxy.switchTo(a.current)
	rt.log.Info("app restored", "app", name, "deployment", l.Deployment, "url", rt.url(a))
	return nil
}

// prune keeps the app's KeepDeployments most recently used deployment
// directories (by their log's last write) and deletes the extracted files
// of all but the serving and previous versions and a rollout in progress.
func (rt *Runtime) prune(a *app) {
	a.mu.Lock()
	keep := map[string]bool{a.rolling: true}
	if a.record.Current != nil {
		keep[a.record.Current.Deployment] = true
	}
	if a.record.Previous != "" {
		keep[a.record.Previous] = true
	}
	a.mu.Unlock()
	entries, err := os.ReadDir(a.dir)
	if err != nil {
		return
	}
	type dep struct {
		name string
		used int64
	}
	var deps []dep
	for _, e := range entries {
		if !e.IsDir() || keep[e.Name()] || checkPathSafe("deployment id", e.Name()) != nil {
			continue
		}
		fi, err := os.Stat(filepath.Join(a.dir, e.Name(), "log"))
		if err != nil {
			if fi, err = e.Info(); err != nil {
				continue
			}
		}
		deps = append(deps, dep{e.Name(), fi.ModTime().UnixNano()})
	}
	sort.Slice(deps, func(i, j int) bool { return deps[i].used > deps[j].used })
	for i, d := range deps {
		path := filepath.Join(a.dir, d.name)
		if i+len(keep) >= rt.opts.KeepDeployments {
			_ = os.RemoveAll(path)
			continue
		}
		_ = os.RemoveAll(filepath.Join(path, "app"))
	}
	if rt.layers != nil {
		rt.layers.prune()
	}
}
