package auth

import (
	"context"

	"github.com/aetherengine/aether/controlplane/apierr"
	"github.com/aetherengine/aether/pkg/api"
)

// Action is what a principal wants to do.
type Action int

// Actions, from least to most privileged.
const (
	// Read: see an app and its deployments.
	Read Action = iota
	// Deploy: create deployments of an app.
	Deploy
	// Admin: change apps, trust policies and keys; read the audit log.
	Admin
)

func (a Action) String() string {
	switch a {
	case Read:
		return "read"
	case Deploy:
		return "deploy"
	default:
		return "administer"
	}
}

// Allowed reports whether p may do action on app ("" for actions not tied
// to one app).
func Allowed(p api.Principal, action Action, app string) bool {
	switch p.Role {
	case api.RoleAdmin:
		return true
	case api.RoleDeployer:
		return action <= Deploy && (app == "" || api.Covers(p.Apps, app))
	case api.RoleViewer:
		return action == Read && (app == "" || api.Covers(p.Apps, app))
	}
	return false
}

// Require returns the context's principal if it may do action on app, and a
// typed error (401 without a principal, 403 otherwise) if not.
func Require(ctx context.Context, action Action, app string) (api.Principal, error) {
	p, ok := PrincipalFrom(ctx)
	if !ok {
		return p, apierr.Unauthenticated("this call needs an API key; send \"Authorization: Bearer <key>\"")
	}
	if !Allowed(p, action, app) {
		if app != "" {
			return p, apierr.Forbidden("API key %s (%s) may not %s app %q; ask an admin for a key scoped to it", p.KeyID, p.Role, action, app)
		}
		return p, apierr.Forbidden("API key %s (%s) may not %s; this needs an admin key", p.KeyID, p.Role, action)
	}
	return p, nil
}

// Scope returns the apps a list should be narrowed to: nil for every app.
func Scope(p api.Principal) []string {
	if p.Role == api.RoleAdmin || api.Covers(p.Apps, api.AllApps) {
		return nil
	}
	if p.Apps == nil {
		return []string{}
	}
	return p.Apps
}
