package auth

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/aetherengine/aether/controlplane/apierr"
	"github.com/aetherengine/aether/controlplane/store"
	"github.com/aetherengine/aether/pkg/api"
)

// Authenticator turns a request's credentials into a principal. API keys
// are one implementation; OIDC/JWT can be another, chained in front.
type Authenticator interface {
	Authenticate(ctx context.Context, r *http.Request) (api.Principal, error)
}

// maxCredentialLen bounds the Authorization header we look at.
const maxCredentialLen = 512

// Keys authenticates "Authorization: Bearer <key>" against the store.
type Keys struct {
	Store store.Store
}

// Authenticate returns the key's principal, or an unauthenticated error
// that says what to do (never echoing the key).
func (k Keys) Authenticate(ctx context.Context, r *http.Request) (api.Principal, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return api.Principal{}, apierr.Unauthenticated("no API key; send it as \"Authorization: Bearer <key>\" (aether login --server URL stores one for the CLI)")
	}
	scheme, secret, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || secret == "" || len(h) > maxCredentialLen {
		return api.Principal{}, apierr.Unauthenticated("malformed Authorization header; use \"Authorization: Bearer <key>\"")
	}
	key, err := k.Store.GetAPIKeyByHash(ctx, Hash(strings.TrimSpace(secret)))
	if errors.Is(err, store.ErrNotFound) {
		return api.Principal{}, apierr.Unauthenticated("unknown API key; check the key, or ask an admin for a new one (aether keys create)")
	}
	if err != nil {
		return api.Principal{}, err
	}
	if key.RevokedAt != nil {
		return api.Principal{}, apierr.Unauthenticated("API key %s was revoked at %s; ask an admin for a new one", key.ID, key.RevokedAt.Format("2006-01-02T15:04:05Z"))
	}
	return api.Principal{KeyID: key.ID, Name: key.Name, Role: key.Role, Apps: key.Apps}, nil
}

type principalKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p api.Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the request's principal, if it was authenticated.
func PrincipalFrom(ctx context.Context) (api.Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(api.Principal)
	return p, ok
}
