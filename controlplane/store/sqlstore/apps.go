package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aetherengine/aether/controlplane/store"
	"github.com/aetherengine/aether/pkg/api"
)

const appColumns = "seq, name, namespace, env, trust, trust_version, created_by, created_at, updated_at"

// storedTrust is the trust policy as kept in its JSON column; the version
// lives in its own column.
type storedTrust struct {
	Keys                 []api.TrustedKey `json:"keys"`
	RequiredAttestations []string         `json:"required_attestations"`
	BuilderID            string           `json:"builder_id,omitempty"`
	SourceRepo           string           `json:"source_repo,omitempty"`
}

func scanApp(r Row) (api.App, int64, error) {
	var (
		a          api.App
		seq        int64
		env, trust string
		st         storedTrust
	)
	if err := r.Scan(&seq, &a.Name, &a.Namespace, &env, &trust, &a.Trust.Version, &a.CreatedBy, &a.CreatedAt, &a.UpdatedAt); err != nil {
		return a, 0, err
	}
	if err := fromJSON(env, &a.Env); err != nil {
		return a, 0, err
	}
	if err := fromJSON(trust, &st); err != nil {
		return a, 0, err
	}
	a.Env = nonNilMap(a.Env)
	a.Trust.Keys = nonNilSlice(st.Keys)
	for i, k := range a.Trust.Keys {
		a.Trust.Keys[i].RetiresAt = utcp(k.RetiresAt)
	}
	a.Trust.RequiredAttestations = nonNilSlice(st.RequiredAttestations)
	a.Trust.BuilderID, a.Trust.SourceRepo = st.BuilderID, st.SourceRepo
	a.CreatedAt, a.UpdatedAt = a.CreatedAt.UTC(), a.UpdatedAt.UTC()
	return a, seq, nil
}

func trustJSON(p api.TrustPolicy) (string, error) {
	keys := make([]api.TrustedKey, len(p.Keys))
	for i, k := range p.Keys {
		k.RetiresAt = tsp(k.RetiresAt)
		keys[i] = k
	}
	return jsonText(storedTrust{Keys: nonNilSlice(keys), RequiredAttestations: nonNilSlice(p.RequiredAttestations), BuilderID: p.BuilderID, SourceRepo: p.SourceRepo})
}

// CreateApp adds an app.
func (s *Store) CreateApp(ctx context.Context, a api.App) (api.App, error) {
	env, err := jsonText(nonNilMap(a.Env))
	if err != nil {
		return api.App{}, err
	}
	trust, err := trustJSON(a.Trust)
	if err != nil {
		return api.App{}, err
	}
	row := s.db.QueryRow(ctx, `INSERT INTO apps (name, namespace, env, trust, trust_version, created_by, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING `+appColumns,
		a.Name, a.Namespace, env, trust, a.Trust.Version, a.CreatedBy, ts(a.CreatedAt), ts(a.CreatedAt))
	out, _, err := scanApp(row)
	if errors.Is(err, ErrUniqueViolation) {
		return api.App{}, fmt.Errorf("app %q already exists: %w", a.Name, store.ErrConflict)
	}
	return out, err
}

// GetApp returns one app.
func (s *Store) GetApp(ctx context.Context, name string) (api.App, error) {
	a, _, err := scanApp(s.db.QueryRow(ctx, "SELECT "+appColumns+" FROM apps WHERE name = $1", name))
	return a, notFound(err, "app %q", name)
}

// ListApps returns apps in creation order.
func (s *Store) ListApps(ctx context.Context, f store.AppFilter, p store.Page) ([]api.App, string, error) {
	p = p.Normalize()
	var q query
	if f.Names != nil {
		q.in("name", f.Names)
	}
	tail, err := q.page("apps", p, false)
	if err != nil {
		return nil, "", err
	}
	rows, err := s.db.Query(ctx, "SELECT "+appColumns+" FROM apps"+tail, q.args...)
	if err != nil {
		return nil, "", err
	}
	return collect(rows, "apps", p.Limit, func(r Rows) (api.App, int64, error) { return scanApp(r) })
}

// UpdateApp changes an app's settings.
func (s *Store) UpdateApp(ctx context.Context, name string, patch store.AppPatch) (api.App, error) {
	var out api.App
	err := inTx(ctx, s.db, func(tx Tx) error {
		cur, _, err := scanApp(tx.QueryRow(ctx, "SELECT "+appColumns+" FROM apps WHERE name = $1", name))
		if err != nil {
			return notFound(err, "app %q", name)
		}
		if patch.Namespace != nil {
			cur.Namespace = *patch.Namespace
		}
		if patch.Env != nil {
			cur.Env = *patch.Env
		}
		env, err := jsonText(nonNilMap(cur.Env))
		if err != nil {
			return err
		}
		out, _, err = scanApp(tx.QueryRow(ctx, "UPDATE apps SET namespace = $1, env = $2, updated_at = $3 WHERE name = $4 RETURNING "+appColumns,
			cur.Namespace, env, ts(patch.UpdatedAt), name))
		return err
	})
	return out, err
}

// SetTrustPolicy replaces an app's trust policy and bumps its version.
func (s *Store) SetTrustPolicy(ctx context.Context, name string, p api.TrustPolicy, at time.Time) (api.App, error) {
	trust, err := trustJSON(p)
	if err != nil {
		return api.App{}, err
	}
	a, _, err := scanApp(s.db.QueryRow(ctx, "UPDATE apps SET trust = $1, trust_version = trust_version + 1, updated_at = $2 WHERE name = $3 RETURNING "+appColumns,
		trust, ts(at), name))
	return a, notFound(err, "app %q", name)
}

// DeleteApp removes an app; its deployments and events go with it.
func (s *Store) DeleteApp(ctx context.Context, name string) error {
	n, err := s.db.Exec(ctx, "DELETE FROM apps WHERE name = $1", name)
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("app %q: %w", name, store.ErrNotFound)
	}
	return nil
}
