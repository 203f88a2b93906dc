package service

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/aetherengine/aether/controlplane/admission"
	"github.com/aetherengine/aether/controlplane/apierr"
	"github.com/aetherengine/aether/controlplane/auth"
	"github.com/aetherengine/aether/controlplane/runtime"
	"github.com/aetherengine/aether/controlplane/store"
	"github.com/aetherengine/aether/pkg/api"
)

// deferring is implemented by admitters that verify nothing (the
// placeholder): deployments then stay pending instead of entering verifying.
type deferring interface{ Defers() bool }

// CreateDeployment records a deployment of an artifact for an app and runs
// admission: pending → verifying → verified (or failed, with a reason code
// and HTTP 422), then hands a verified deployment to the runtime.
func (s *Service) CreateDeployment(ctx context.Context, req api.DeploymentCreate) (api.Deployment, error) {
	if req.App == "" {
		return api.Deployment{}, apierr.Invalid("app is required")
	}
	p, err := auth.Require(ctx, auth.Deploy, req.App)
	if err != nil {
		return api.Deployment{}, err
	}
	if err := validateRef(req.Artifact); err != nil {
		return api.Deployment{}, err
	}
	if err := validateEnv(req.Env); err != nil {
		return api.Deployment{}, err
	}
	app, err := s.store.GetApp(ctx, req.App)
	if err != nil {
		return api.Deployment{}, err
	}
	id, err := auth.NewID("dep")
	if err != nil {
		return api.Deployment{}, err
	}
	rec := api.Deployment{ID: id, App: app.Name, ArtifactRef: req.Artifact, Env: req.Env, CreatedBy: p.KeyID,
		CreatedAt: s.now(), StartedAt: req.StartedAt}
	if df, ok := s.admitter.(deferring); ok && df.Defers() {
		// The placeholder verifies nothing; the most it does is pin a
		// digest reference's digest. The deployment stays pending.
		res, err := s.admitter.Admit(ctx, admission.Request{App: app, Ref: req.Artifact})
		if err != nil {
			return api.Deployment{}, err
		}
		rec.Digest = res.Digest
		rec.Message = "admission is not configured: the artifact was NOT verified"
		return s.store.CreateDeployment(ctx, rec)
	}
	d, err := s.store.CreateDeployment(ctx, rec)
	if err != nil {
		return api.Deployment{}, err
	}
	return s.admit(ctx, app, d)
}

// admit runs admission on a pending deployment. It is detached from the
// caller's cancellation (the admitter bounds its own time): a client that
// hangs up must not leave a deployment stuck in verifying.
func (s *Service) admit(ctx context.Context, app api.App, d api.Deployment) (api.Deployment, error) {
	ctx = context.WithoutCancel(ctx)
	start := time.Now()
	d, _, err := s.store.TransitionDeployment(ctx, store.Transition{ID: d.ID, From: api.StatusPending, To: api.StatusVerifying,
		Message: "verifying " + d.ArtifactRef + " against trust policy v" + strconv.FormatInt(app.Trust.Version, 10), At: s.now()})
	if err != nil {
		return d, err
	}
	note := func(msg string) { s.note(ctx, d.ID, api.StatusVerifying, "", msg) }
	res, admitErr := s.admitter.Admit(ctx, admission.Request{App: app, Ref: d.ArtifactRef, Note: note})
	if admitErr != nil {
		ae := apierr.From(admitErr)
		reason, outcome := ae.Code, "error"
		if ae.Kind == apierr.KindRejected {
			outcome = "rejected"
			s.metrics.VerificationFailures.WithLabelValues(reason).Inc()
		} else if ae.Kind == apierr.KindInternal {
			s.log.Error("admission failed", "deployment", d.ID, "app", app.Name, "err", admitErr)
		}
		s.metrics.AdmissionDuration.WithLabelValues(outcome).Observe(time.Since(start).Seconds())
		if _, _, err := s.store.TransitionDeployment(ctx, store.Transition{ID: d.ID, From: api.StatusVerifying, To: api.StatusFailed,
			Reason: reason, Message: ae.Message, Digest: res.Digest, At: s.now()}); err != nil {
			return d, errors.Join(admitErr, err)
		}
		s.log.Info("deployment refused", "deployment", d.ID, "app", app.Name, "artifact", d.ArtifactRef, "digest", res.Digest, "reason", reason)
		// The answer names the deployment, whose events tell the story.
		out := *ae
		out.DeploymentID = d.ID
		return d, &out
	}
	outcome := "verified"
	if res.Cached {
		outcome = "cached"
	}
	s.log.Info("deployment verified", "deployment", d.ID, "app", app.Name, "digest", res.Digest, "cached", res.Cached)
	s.metrics.AdmissionDuration.WithLabelValues(outcome).Observe(time.Since(start).Seconds())
	if res.Artifact != nil {
		art, err := s.store.PutArtifact(ctx, *res.Artifact)
		if err != nil {
			return d, err
		}
		s.metrics.ObserveVerified(art.Size, art.Verification != nil && art.Verification.SBOMFormat != "")
		res.Artifact = &art
	}
	msg := "verified " + res.Digest
	if res.Summary != "" {
		msg += ": " + res.Summary
	}
	d, _, err = s.store.TransitionDeployment(ctx, store.Transition{ID: d.ID, From: api.StatusVerifying, To: api.StatusVerified,
		Digest: res.Digest, Message: msg, At: s.now()})
	if err != nil || res.Artifact == nil {
		return d, err
	}
	if _, none := s.runtime.(runtime.None); none {
		s.note(ctx, d.ID, api.StatusVerified, api.ReasonNoRuntime,
			"this server has no runtime: the deployment stays verified and nothing runs it")
		return d, nil
	}
	s.startRollout(runtime.Rollout{Deployment: d, App: app, Artifact: *res.Artifact})
	return d, nil
}

// note appends a note event; a failure to write it is logged, not fatal:
// the status transitions carry the outcome.
func (s *Service) note(ctx context.Context, id string, status api.DeploymentStatus, reason, msg string) {
	if _, err := s.store.AppendEvent(ctx, api.Event{DeploymentID: id, Type: api.EventNote, Status: status, Reason: reason, Message: msg, At: s.now()}); err != nil {
		s.log.Warn("deployment event not written", "deployment", id, "err", err)
	}
}

// startRollout hands a verified deployment to the runtime in the background;
// the request that created it does not wait for pods.
func (s *Service) startRollout(r runtime.Rollout) {
	s.rollouts.Add(1)
	go func() {
		defer s.rollouts.Done()
		ctx := context.Background()
		report := func(ctx context.Context, p runtime.Progress) error {
			d, _, err := s.store.TransitionDeployment(ctx, store.Transition{ID: r.Deployment.ID, To: p.Status,
				Reason: p.Reason, Message: p.Message, At: s.now()})
			if err == nil && p.Status == api.StatusReady {
				start := d.CreatedAt
				if d.StartedAt != nil {
					start = *d.StartedAt
				}
				s.metrics.DeployDuration.Observe(s.now().Sub(start).Seconds())
			}
			return err
		}
		if err := s.runtime.Deploy(ctx, r, report); err != nil {
			s.log.Error("rollout failed", "deployment", r.Deployment.ID, "runtime", s.runtime.Name(), "err", err)
			_ = report(ctx, runtime.Progress{Status: api.StatusFailed, Reason: "runtime_error", Message: err.Error()})
		}
	}()
}

// GetDeployment returns a deployment the caller may read.
func (s *Service) GetDeployment(ctx context.Context, id string) (api.Deployment, error) {
	if _, err := auth.Require(ctx, auth.Read, ""); err != nil {
		return api.Deployment{}, err
	}
	d, err := s.store.GetDeployment(ctx, id)
	if err != nil {
		return d, err
	}
	if _, err := auth.Require(ctx, auth.Read, d.App); err != nil {
		return api.Deployment{}, err
	}
	return d, nil
}

// ListDeployments lists deployments newest first, of one app or of every
// app the caller may read.
func (s *Service) ListDeployments(ctx context.Context, app string, page store.Page) (api.List[api.Deployment], error) {
	p, err := auth.Require(ctx, auth.Read, app)
	if err != nil {
		return api.List[api.Deployment]{}, err
	}
	if err := validatePage(page); err != nil {
		return api.List[api.Deployment]{}, err
	}
	items, next, err := s.store.ListDeployments(ctx, store.DeploymentFilter{App: app, Apps: auth.Scope(p)}, page)
	return api.List[api.Deployment]{Items: items, NextCursor: next}, err
}

// ListEvents lists a deployment's events oldest first.
func (s *Service) ListEvents(ctx context.Context, id string, page store.Page) (api.List[api.Event], error) {
	if _, err := s.GetDeployment(ctx, id); err != nil {
		return api.List[api.Event]{}, err
	}
	if err := validatePage(page); err != nil {
		return api.List[api.Event]{}, err
	}
	items, next, err := s.store.ListEvents(ctx, id, page)
	return api.List[api.Event]{Items: items, NextCursor: next}, err
}

// MaxEventWait bounds how long WaitEvents holds a request open.
const MaxEventWait = 30 * time.Second

// maxWaitedEvents bounds the events one WaitEvents answer carries.
const maxWaitedEvents = 10000

// WaitEvents returns the deployment's events with an id above after,
// oldest first. When there is none yet, it waits up to wait (at most
// MaxEventWait) for one to appear: a client following a deployment learns
// of each step within a few milliseconds instead of a polling interval.
// It reads the store, so it works whichever replica wrote the event.
func (s *Service) WaitEvents(ctx context.Context, id string, after int64, wait time.Duration) (api.List[api.Event], error) {
	if _, err := s.GetDeployment(ctx, id); err != nil {
		return api.List[api.Event]{}, err
	}
	wait = min(max(wait, 0), MaxEventWait)
	deadline := time.Now().Add(wait)
	pause := 10 * time.Millisecond
	for {
		var out []api.Event
		page := store.Page{Limit: store.MaxLimit}
		for len(out) < maxWaitedEvents {
			items, next, err := s.store.ListEvents(ctx, id, page)
			if err != nil {
				return api.List[api.Event]{}, err
			}
			for _, e := range items {
				if e.ID > after {
					out = append(out, e)
				}
			}
			if next == "" {
				break
			}
			page.Cursor = next
		}
		if len(out) > 0 || !time.Now().Before(deadline) {
			return api.List[api.Event]{Items: out}, nil
		}
		select {
		case <-ctx.Done():
			return api.List[api.Event]{}, ctx.Err()
		case <-time.After(min(pause, time.Until(deadline))):
		}
		pause = min(pause*3/2, 100*time.Millisecond)
	}
}

// GetArtifact returns an artifact record; any authenticated key may read
// artifacts (digests and verification records are not secret).
func (s *Service) GetArtifact(ctx context.Context, digest string) (api.Artifact, error) {
	if _, err := auth.Require(ctx, auth.Read, ""); err != nil {
		return api.Artifact{}, err
	}
	return s.store.GetArtifact(ctx, digest)
}

// ListArtifacts lists artifact records newest first.
func (s *Service) ListArtifacts(ctx context.Context, page store.Page) (api.List[api.Artifact], error) {
	if _, err := auth.Require(ctx, auth.Read, ""); err != nil {
		return api.List[api.Artifact]{}, err
	}
	if err := validatePage(page); err != nil {
		return api.List[api.Artifact]{}, err
	}
	items, next, err := s.store.ListArtifacts(ctx, page)
	return api.List[api.Artifact]{Items: items, NextCursor: next}, err
}
