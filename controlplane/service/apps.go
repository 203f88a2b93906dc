package service

import (
	"context"

	"github.com/aetherengine/aether/controlplane/auth"
	"github.com/aetherengine/aether/controlplane/store"
	"github.com/aetherengine/aether/pkg/api"
)

// CreateApp creates an app; only the name is required (admin).
func (s *Service) CreateApp(ctx context.Context, req api.AppCreate) (api.App, error) {
	p, err := auth.Require(ctx, auth.Admin, "")
	if err != nil {
		return api.App{}, err
	}
	if err := validateName("app name", req.Name); err != nil {
		return api.App{}, err
	}
	if req.Namespace == "" {
		req.Namespace = s.defaultNamespace
	}
	if err := validateName("namespace", req.Namespace); err != nil {
		return api.App{}, err
	}
	if err := validateEnv(req.Env); err != nil {
		return api.App{}, err
	}
	return s.store.CreateApp(ctx, api.App{
		Name: req.Name, Namespace: req.Namespace, Env: req.Env, CreatedBy: p.KeyID, CreatedAt: s.now(),
		Trust: api.TrustPolicy{Keys: []api.TrustedKey{}, RequiredAttestations: []string{api.AttestationSBOM}},
	})
}

// GetApp returns an app the caller may read.
func (s *Service) GetApp(ctx context.Context, name string) (api.App, error) {
	if _, err := auth.Require(ctx, auth.Read, name); err != nil {
		return api.App{}, err
	}
	return s.store.GetApp(ctx, name)
}

// ListApps lists the apps the caller may read.
func (s *Service) ListApps(ctx context.Context, page store.Page) (api.List[api.App], error) {
	p, err := auth.Require(ctx, auth.Read, "")
	if err != nil {
		return api.List[api.App]{}, err
	}
	if err := validatePage(page); err != nil {
		return api.List[api.App]{}, err
	}
	items, next, err := s.store.ListApps(ctx, store.AppFilter{Names: auth.Scope(p)}, page)
	return api.List[api.App]{Items: items, NextCursor: next}, err
}

// UpdateApp changes an app's namespace or env (admin).
func (s *Service) UpdateApp(ctx context.Context, name string, req api.AppUpdate) (api.App, error) {
	if _, err := auth.Require(ctx, auth.Admin, name); err != nil {
		return api.App{}, err
	}
	if req.Namespace != nil {
		if err := validateName("namespace", *req.Namespace); err != nil {
			return api.App{}, err
		}
	}
	if req.Env != nil {
		if err := validateEnv(*req.Env); err != nil {
			return api.App{}, err
		}
	}
	return s.store.UpdateApp(ctx, name, store.AppPatch{Namespace: req.Namespace, Env: req.Env, UpdatedAt: s.now()})
}

// DeleteApp deletes an app with its deployment history (admin).
func (s *Service) DeleteApp(ctx context.Context, name string) error {
	if _, err := auth.Require(ctx, auth.Admin, name); err != nil {
		return err
	}
	if err := s.store.DeleteApp(ctx, name); err != nil {
		return err
	}
	return s.removeFromRuntime(ctx, name)
}

// GetTrustPolicy returns an app's trust policy.
func (s *Service) GetTrustPolicy(ctx context.Context, name string) (api.TrustPolicy, error) {
	a, err := s.GetApp(ctx, name)
	return a.Trust, err
}

// SetTrustPolicy replaces an app's trust policy (admin); the version goes up.
func (s *Service) SetTrustPolicy(ctx context.Context, name string, req api.TrustPolicyUpdate) (api.TrustPolicy, error) {
	if _, err := auth.Require(ctx, auth.Admin, name); err != nil {
		return api.TrustPolicy{}, err
	}
	p, err := validateTrust(req)
	if err != nil {
		return api.TrustPolicy{}, err
	}
	a, err := s.store.SetTrustPolicy(ctx, name, p, s.now())
	return a.Trust, err
}
