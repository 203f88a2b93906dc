package sqlstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/aetherengine/aether/controlplane/store"
)

// Store is the shared SQL implementation of store.Store.
type Store struct {
	db DB
}

var _ store.Store = (*Store)(nil)

// New returns a store over db, whose schema must already be migrated.
func New(db DB) *Store { return &Store{db: db} }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.db.Ping(ctx) }

// Close releases the store's connections.
func (s *Store) Close() error { return s.db.Close() }

// notFound turns ErrNoRows into store.ErrNotFound with what was looked for.
func notFound(err error, format string, args ...any) error {
	if errors.Is(err, ErrNoRows) {
		return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), store.ErrNotFound)
	}
	return err
}
