// Package store defines what the control plane keeps (apps, deployments,
// artifacts, events, API keys, the audit log) behind one interface, so that
// the embedded SQLite store and the PostgreSQL store are interchangeable and
// pass one conformance suite (storetest).
//
// The store speaks the API's types (pkg/api) where the stored and the wire
// shapes are the same, and its own where they differ (an API key's hash).
package store

import (
	"context"
	"errors"
	"time"

	"github.com/aetherengine/aether/pkg/api"
)

// Sentinel errors; implementations wrap them with what was asked for.
var (
	// ErrNotFound: the named record does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict: the record already exists, or a concurrent change won.
	ErrConflict = errors.New("conflict")
	// ErrIllegalTransition: the deployment status machine refuses the change.
	ErrIllegalTransition = errors.New("illegal status transition")
	// ErrInvalidCursor: a pagination cursor this store did not issue.
	ErrInvalidCursor = errors.New("invalid cursor")
)

// Page asks for one page of a list: at most Limit items after Cursor.
type Page struct {
	Limit  int
	Cursor string
}

// Page size bounds.
const (
	DefaultLimit = 50
	MaxLimit     = 500
)

// Normalize clamps the limit into [1, MaxLimit], DefaultLimit when unset.
func (p Page) Normalize() Page {
	if p.Limit <= 0 {
		p.Limit = DefaultLimit
	}
	if p.Limit > MaxLimit {
		p.Limit = MaxLimit
	}
	return p
}

// AppFilter narrows ListApps. Names, when not nil, keeps only those apps
// (a scoped key's view); an empty non-nil slice matches nothing.
type AppFilter struct {
	Names []string
}

// DeploymentFilter narrows ListDeployments. App keeps one app's deployments;
// Apps, when not nil, keeps only deployments of those apps.
type DeploymentFilter struct {
	App  string
	Apps []string
}

// AppPatch changes an app's settings; nil fields are kept.
type AppPatch struct {
	Namespace *string
	Env       *map[string]string
	UpdatedAt time.Time
}

// Transition moves a deployment through the status machine. When From is
// set the deployment must still be in From (compare-and-set); either way the
// change must be allowed by api.CanTransition. Digest, when set, pins the
// deployment to the digest it resolved to.
type Transition struct {
	ID      string
	From    api.DeploymentStatus
	To      api.DeploymentStatus
	Reason  string
	Message string
	Digest  string
	At      time.Time
}

// APIKey is a stored key: its public description and the hash of its secret.
type APIKey struct {
	api.APIKey
	// Hash is the hex SHA-256 of the secret; the secret is never stored.
	Hash string
}

// Store is the control plane's persistence. Every method is safe for
// concurrent use and every write is durable when it returns.
type Store interface {
	// CreateApp adds an app; ErrConflict when the name is taken.
	CreateApp(ctx context.Context, app api.App) (api.App, error)
	// GetApp returns one app; ErrNotFound when absent.
	GetApp(ctx context.Context, name string) (api.App, error)
	// ListApps returns apps in creation order and the next page's cursor.
	ListApps(ctx context.Context, f AppFilter, p Page) ([]api.App, string, error)
	// UpdateApp changes an app's settings.
	UpdateApp(ctx context.Context, name string, patch AppPatch) (api.App, error)
	// SetTrustPolicy replaces an app's trust policy and bumps its version.
	SetTrustPolicy(ctx context.Context, name string, policy api.TrustPolicy, at time.Time) (api.App, error)
	// DeleteApp removes an app with its deployments and their events.
	DeleteApp(ctx context.Context, name string) error

	// CreateDeployment records a deployment (status pending) and its
	// "created" event in one transaction; ErrNotFound when the app is absent.
	CreateDeployment(ctx context.Context, d api.Deployment) (api.Deployment, error)
	// GetDeployment returns one deployment.
	GetDeployment(ctx context.Context, id string) (api.Deployment, error)
	// ListDeployments returns deployments newest first.
	ListDeployments(ctx context.Context, f DeploymentFilter, p Page) ([]api.Deployment, string, error)
	// TransitionDeployment applies t and appends its event atomically;
	// ErrIllegalTransition when the machine or a concurrent change refuses.
	TransitionDeployment(ctx context.Context, t Transition) (api.Deployment, api.Event, error)

	// PutArtifact inserts or updates an artifact by digest.
	PutArtifact(ctx context.Context, a api.Artifact) (api.Artifact, error)
	// GetArtifact returns one artifact by digest.
	GetArtifact(ctx context.Context, digest string) (api.Artifact, error)
	// ListArtifacts returns artifacts newest first.
	ListArtifacts(ctx context.Context, p Page) ([]api.Artifact, string, error)

	// AppendEvent adds an event to a deployment's history.
	AppendEvent(ctx context.Context, e api.Event) (api.Event, error)
	// ListEvents returns a deployment's events oldest first.
	ListEvents(ctx context.Context, deploymentID string, p Page) ([]api.Event, string, error)

	// CreateAPIKey stores a key; ErrConflict on a duplicate id or hash.
	CreateAPIKey(ctx context.Context, k APIKey) (APIKey, error)
	// CreateBootstrapKey stores k only if the store has never had a key,
	// atomically across replicas; it reports whether k was stored.
	CreateBootstrapKey(ctx context.Context, k APIKey) (bool, error)
	// GetAPIKeyByHash finds a key (revoked ones too) by its secret's hash.
	GetAPIKeyByHash(ctx context.Context, hash string) (APIKey, error)
	// ListAPIKeys returns keys in creation order.
	ListAPIKeys(ctx context.Context, p Page) ([]APIKey, string, error)
	// RevokeAPIKey marks a key revoked; revoking twice keeps the first time.
	RevokeAPIKey(ctx context.Context, id string, at time.Time) (APIKey, error)

	// AppendAudit adds an audit entry.
	AppendAudit(ctx context.Context, e api.AuditEntry) (api.AuditEntry, error)
	// ListAudit returns audit entries newest first.
	ListAudit(ctx context.Context, p Page) ([]api.AuditEntry, string, error)

	// Ping checks that the database answers.
	Ping(ctx context.Context) error
	// Close releases the store's connections.
	Close() error
}
