package service

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aetherengine/aether/controlplane/apierr"
	"github.com/aetherengine/aether/controlplane/auth"
	"github.com/aetherengine/aether/controlplane/store"
	"github.com/aetherengine/aether/pkg/api"
)

// CreateKey creates an API key (admin); the secret is in the answer and
// nowhere else.
func (s *Service) CreateKey(ctx context.Context, req api.APIKeyCreate) (api.APIKeyCreated, error) {
	p, err := auth.Require(ctx, auth.Admin, "")
	if err != nil {
		return api.APIKeyCreated{}, err
	}
	if err := validateKeyCreate(req); err != nil {
		return api.APIKeyCreated{}, err
	}
	secret, err := auth.NewSecret()
	if err != nil {
		return api.APIKeyCreated{}, err
	}
	id, err := auth.NewID("key")
	if err != nil {
		return api.APIKeyCreated{}, err
	}
	k, err := s.store.CreateAPIKey(ctx, store.APIKey{
		APIKey: api.APIKey{ID: id, Name: req.Name, Prefix: auth.Prefix(secret), Role: req.Role, Apps: req.Apps, CreatedBy: p.KeyID, CreatedAt: s.now()},
		Hash:   auth.Hash(secret),
	})
	if err != nil {
		return api.APIKeyCreated{}, err
	}
	return api.APIKeyCreated{APIKey: k.APIKey, Key: secret}, nil
}

// ListKeys lists API keys, revoked ones included (admin).
func (s *Service) ListKeys(ctx context.Context, page store.Page) (api.List[api.APIKey], error) {
	if _, err := auth.Require(ctx, auth.Admin, ""); err != nil {
		return api.List[api.APIKey]{}, err
	}
	if err := validatePage(page); err != nil {
		return api.List[api.APIKey]{}, err
	}
	keys, next, err := s.store.ListAPIKeys(ctx, page)
	out := make([]api.APIKey, len(keys))
	for i, k := range keys {
		out[i] = k.APIKey
	}
	return api.List[api.APIKey]{Items: out, NextCursor: next}, err
}

// RevokeKey revokes an API key (admin). The last active admin key cannot be
// revoked: nobody could then manage the server.
func (s *Service) RevokeKey(ctx context.Context, id string) (api.APIKey, error) {
	if _, err := auth.Require(ctx, auth.Admin, ""); err != nil {
		return api.APIKey{}, err
	}
	admins, target, err := s.activeAdmins(ctx, id)
	if err != nil {
		return api.APIKey{}, err
	}
	if target == nil {
		return api.APIKey{}, fmt.Errorf("API key %q: %w", id, store.ErrNotFound)
	}
	if target.Role == api.RoleAdmin && target.RevokedAt == nil && admins == 1 {
		return api.APIKey{}, apierr.New(apierr.KindConflict, api.CodeConflict,
			"API key %s is the last active admin key; create another admin key (aether keys create --role admin) before revoking it", id)
	}
	k, err := s.store.RevokeAPIKey(ctx, id, s.now())
	return k.APIKey, err
}

// activeAdmins counts unrevoked admin keys and finds key id among all keys.
func (s *Service) activeAdmins(ctx context.Context, id string) (int, *api.APIKey, error) {
	var (
		admins int
		target *api.APIKey
		page   = store.Page{Limit: store.MaxLimit}
	)
	for {
		keys, next, err := s.store.ListAPIKeys(ctx, page)
		if err != nil {
			return 0, nil, err
		}
		for _, k := range keys {
			if k.Role == api.RoleAdmin && k.RevokedAt == nil {
				admins++
			}
			if k.ID == id {
				kk := k.APIKey
				target = &kk
			}
		}
		if next == "" {
			return admins, target, nil
		}
		page.Cursor = next
	}
}

// Whoami returns the caller's principal.
func (s *Service) Whoami(ctx context.Context) (api.Principal, error) {
	return auth.Require(ctx, auth.Read, "")
}

// Bootstrap gives an empty store its first admin key: the operator's
// (AETHER_BOOTSTRAP_ADMIN_KEY) or a fresh one. It returns the secret when it
// generated one — for the caller to show once — and whether a key was stored.
func (s *Service) Bootstrap(ctx context.Context, operatorKey string) (generated string, created bool, err error) {
	secret := strings.TrimSpace(operatorKey)
	if secret != "" && len(secret) < auth.MinKeyLength {
		return "", false, fmt.Errorf("AETHER_BOOTSTRAP_ADMIN_KEY is %d characters; use at least %d random characters (e.g. openssl rand -hex 32)", len(secret), auth.MinKeyLength)
	}
	if secret == "" {
		if secret, err = auth.NewSecret(); err != nil {
			return "", false, err
		}
		generated = secret
	}
	id, err := auth.NewID("key")
	if err != nil {
		return "", false, err
	}
	created, err = s.store.CreateBootstrapKey(ctx, store.APIKey{
		APIKey: api.APIKey{ID: id, Name: "bootstrap admin", Prefix: auth.Prefix(secret), Role: api.RoleAdmin, Apps: []string{}, CreatedBy: "bootstrap", CreatedAt: s.now()},
		Hash:   auth.Hash(secret),
	})
	if err != nil {
		if errors.Is(err, store.ErrConflict) {
			return "", false, fmt.Errorf("bootstrap key collides with an existing key: %w", err)
		}
		return "", false, err
	}
	if !created {
		generated = ""
	}
	return generated, created, nil
}
