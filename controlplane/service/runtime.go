package service

import (
	"context"
	"errors"
	"time"

	"github.com/aetherengine/aether/controlplane/apierr"
	"github.com/aetherengine/aether/controlplane/auth"
	"github.com/aetherengine/aether/controlplane/runtime"
	"github.com/aetherengine/aether/controlplane/store"
	"github.com/aetherengine/aether/pkg/api"
)

// maxHistory bounds how many of an app's deployments status and rollback
// read, newest first, looking for ready ones.
const maxHistory = 2000

// history calls fn on the app's deployments newest first until fn returns
// false or maxHistory were seen.
func (s *Service) history(ctx context.Context, app string, fn func(api.Deployment) bool) error {
	page := store.Page{Limit: store.MaxLimit}
	for seen := 0; seen < maxHistory; {
		items, next, err := s.store.ListDeployments(ctx, store.DeploymentFilter{App: app}, page)
		if err != nil {
			return err
		}
		for _, d := range items {
			seen++
			if !fn(d) {
				return nil
			}
		}
		if next == "" {
			return nil
		}
		page.Cursor = next
	}
	return nil
}

// AppStatus says what runs for an app: its current deployment and digest,
// its URL and whether it answers (from the runtime when the runtime can
// tell), and the newest deployment when that is not the current one.
func (s *Service) AppStatus(ctx context.Context, name string) (api.AppStatus, error) {
	if _, err := auth.Require(ctx, auth.Read, name); err != nil {
		return api.AppStatus{}, err
	}
	if _, err := s.store.GetApp(ctx, name); err != nil {
		return api.AppStatus{}, err
	}
	st := api.AppStatus{App: name, Runtime: s.runtime.Name()}
	var state runtime.AppState
	if in, ok := s.runtime.(runtime.Inspector); ok {
		var err error
		if state, err = in.AppState(ctx, name); err != nil {
			return st, err
		}
		st.URL, st.Ready, st.Restarts, st.Message = state.URL, state.Ready, state.Restarts, state.Message
	}
	var latest, current *api.Deployment
	err := s.history(ctx, name, func(d api.Deployment) bool {
		if latest == nil {
			latest = &d
		}
		switch {
		case state.DeploymentID != "":
			if d.ID == state.DeploymentID {
				current = &d
			}
		case d.Status == api.StatusReady:
			current = &d
		}
		return current == nil
	})
	if err != nil {
		return st, err
	}
	if current == nil && state.DeploymentID != "" {
		// The runtime serves a deployment the history does not reach.
		if d, err := s.store.GetDeployment(ctx, state.DeploymentID); err == nil {
			current = &d
		}
	}
	if current != nil {
		st.Current, st.Digest = current, current.Digest
	}
	if latest != nil && (current == nil || latest.ID != current.ID) {
		st.Latest = latest
	}
	return st, nil
}

// DeploymentLogs returns the last tail lines of a deployment's log, from
// the runtime.
func (s *Service) DeploymentLogs(ctx context.Context, id string, tail int) (api.DeploymentLogs, error) {
	d, err := s.GetDeployment(ctx, id)
	if err != nil {
		return api.DeploymentLogs{}, err
	}
	if tail < 0 || tail > api.MaxLogTail {
		return api.DeploymentLogs{}, apierr.Invalid("tail must be between 1 and %d lines", api.MaxLogTail)
	}
	if tail == 0 {
		tail = api.DefaultLogTail
	}
	in, ok := s.runtime.(runtime.Inspector)
	if !ok {
		return api.DeploymentLogs{}, apierr.New(apierr.KindUnavailable, api.CodeUnavailable,
			"the %s runtime keeps no logs; run the control plane with --runtime local (or read the pods' logs with kubectl)", s.runtime.Name())
	}
	logs, err := in.Logs(ctx, d.App, d.ID, tail)
	if errors.Is(err, runtime.ErrNoLogs) {
		return api.DeploymentLogs{}, apierr.New(apierr.KindNotFound, api.CodeNotFound,
			"deployment %s has no logs: it never started on this runtime (status %s), or its files were pruned", d.ID, d.Status)
	}
	if err != nil {
		return api.DeploymentLogs{}, err
	}
	return api.DeploymentLogs{DeploymentID: d.ID, Lines: logs.Lines, Truncated: logs.Truncated}, nil
}

// Rollback deploys an earlier ready artifact of the app again, pinned by
// digest, with that deployment's env: the one given by to, else the
// newest ready deployment whose digest differs from the current one. It
// goes through admission like any deployment (a digest verified before
// hits the verification cache).
func (s *Service) Rollback(ctx context.Context, name, to string) (api.Deployment, error) {
	if _, err := auth.Require(ctx, auth.Deploy, name); err != nil {
		return api.Deployment{}, err
	}
	if _, err := s.store.GetApp(ctx, name); err != nil {
		return api.Deployment{}, err
	}
	var target *api.Deployment
	if to != "" {
		d, err := s.store.GetDeployment(ctx, to)
		if err != nil {
			return api.Deployment{}, err
		}
		if d.App != name {
			return api.Deployment{}, apierr.Invalid("deployment %s belongs to app %s, not %s", d.ID, d.App, name)
		}
		if d.Status != api.StatusReady || d.Digest == "" {
			return api.Deployment{}, apierr.New(apierr.KindConflict, api.CodeConflict,
				"deployment %s is %s, not ready: only a version that ran can be rolled back to", d.ID, d.Status)
		}
		target = &d
	} else {
		status, err := s.AppStatus(ctx, name)
		if err != nil {
			return api.Deployment{}, err
		}
		if status.Current == nil {
			return api.Deployment{}, apierr.New(apierr.KindConflict, api.CodeConflict, "app %s has no ready deployment yet, so there is nothing to roll back from", name)
		}
		err = s.history(ctx, name, func(d api.Deployment) bool {
			if d.Status == api.StatusReady && d.Digest != "" && d.Digest != status.Digest {
				target = &d
			}
			return target == nil
		})
		if err != nil {
			return api.Deployment{}, err
		}
		if target == nil {
			return api.Deployment{}, apierr.New(apierr.KindConflict, api.CodeConflict,
				"app %s has no earlier ready version with another digest than the current %s; nothing to roll back to", name, status.Digest)
		}
	}
	now := time.Now().UTC()
	return s.CreateDeployment(ctx, api.DeploymentCreate{App: name, Artifact: target.Pinned(), Env: target.Env, StartedAt: &now})
}

// removeFromRuntime stops a deleted app and frees what the runtime holds
// for it (processes, port, files), when the runtime holds anything.
func (s *Service) removeFromRuntime(ctx context.Context, name string) error {
	r, ok := s.runtime.(runtime.Remover)
	if !ok {
		return nil
	}
	if err := r.RemoveApp(ctx, name); err != nil {
		s.log.Error("deleted app not removed from the runtime", "app", name, "runtime", s.runtime.Name(), "err", err)
		return apierr.New(apierr.KindInternal, api.CodeInternal, "app %s was deleted, but the %s runtime could not stop it; the server log has the details", name, s.runtime.Name())
	}
	return nil
}
