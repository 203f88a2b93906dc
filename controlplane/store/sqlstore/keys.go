package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aetherengine/aether/controlplane/store"
	"github.com/aetherengine/aether/pkg/api"
)

const keyColumns = "seq, id, name, prefix, hash, role, apps, created_by, created_at, revoked_at"

func scanKey(r Row) (store.APIKey, int64, error) {
	var (
		k    store.APIKey
		seq  int64
		role string
		apps string
	)
	if err := r.Scan(&seq, &k.ID, &k.Name, &k.Prefix, &k.Hash, &role, &apps, &k.CreatedBy, &k.CreatedAt, &k.RevokedAt); err != nil {
		return k, 0, err
	}
	k.Role = api.Role(role)
	if err := fromJSON(apps, &k.Apps); err != nil {
		return k, 0, err
	}
	k.Apps = nonNilSlice(k.Apps)
	k.CreatedAt = k.CreatedAt.UTC()
	k.RevokedAt = utcp(k.RevokedAt)
	return k, seq, nil
}

func insertKey(ctx context.Context, q Querier, k store.APIKey) (store.APIKey, error) {
	apps, err := jsonText(nonNilSlice(k.Apps))
	if err != nil {
		return store.APIKey{}, err
	}
	out, _, err := scanKey(q.QueryRow(ctx, `INSERT INTO api_keys (id, name, prefix, hash, role, apps, created_by, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING `+keyColumns,
		k.ID, k.Name, k.Prefix, k.Hash, string(k.Role), apps, k.CreatedBy, ts(k.CreatedAt)))
	if errors.Is(err, ErrUniqueViolation) {
		return store.APIKey{}, fmt.Errorf("API key %q already exists: %w", k.ID, store.ErrConflict)
	}
	return out, err
}

// CreateAPIKey stores a key.
func (s *Store) CreateAPIKey(ctx context.Context, k store.APIKey) (store.APIKey, error) {
	return insertKey(ctx, s.db, k)
}

// CreateBootstrapKey stores k only if no key was ever stored. The singleton
// row in bootstrap is the lock: of two replicas starting together on an
// empty database, one inserts it and the other's insert does nothing.
func (s *Store) CreateBootstrapKey(ctx context.Context, k store.APIKey) (bool, error) {
	created := false
	err := inTx(ctx, s.db, func(tx Tx) error {
		n, err := tx.Exec(ctx, "INSERT INTO bootstrap (id, key_id, at) VALUES (1, $1, $2) ON CONFLICT (id) DO NOTHING", k.ID, ts(k.CreatedAt))
		if err != nil || n == 0 {
			return err
		}
		var count int64
		if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM api_keys").Scan(&count); err != nil {
			return err
		}
		if count > 0 {
			return nil
		}
		if _, err := insertKey(ctx, tx, k); err != nil {
			return err
		}
		created = true
		return nil
	})
	return created, err
}

// GetAPIKeyByHash finds a key by the hash of its secret.
func (s *Store) GetAPIKeyByHash(ctx context.Context, hash string) (store.APIKey, error) {
	k, _, err := scanKey(s.db.QueryRow(ctx, "SELECT "+keyColumns+" FROM api_keys WHERE hash = $1", hash))
	return k, notFound(err, "API key")
}

// ListAPIKeys returns keys in creation order.
func (s *Store) ListAPIKeys(ctx context.Context, p store.Page) ([]store.APIKey, string, error) {
	p = p.Normalize()
	var q query
	tail, err := q.page("keys", p, false)
	if err != nil {
		return nil, "", err
	}
	rows, err := s.db.Query(ctx, "SELECT "+keyColumns+" FROM api_keys"+tail, q.args...)
	if err != nil {
		return nil, "", err
	}
	return collect(rows, "keys", p.Limit, func(r Rows) (store.APIKey, int64, error) { return scanKey(r) })
}

// RevokeAPIKey marks a key revoked.
func (s *Store) RevokeAPIKey(ctx context.Context, id string, at time.Time) (store.APIKey, error) {
	k, _, err := scanKey(s.db.QueryRow(ctx, "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2 RETURNING "+keyColumns, ts(at), id))
	return k, notFound(err, "API key %q", id)
}
