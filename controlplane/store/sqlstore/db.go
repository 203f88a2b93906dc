// Package sqlstore implements store.Store once, in SQL that both SQLite and
// PostgreSQL run, over a small database interface that each backend adapts
// (database/sql for SQLite, a pgx pool for PostgreSQL). Placeholders are
// $1, $2, … which both engines accept; times are passed as time.Time and
// each adapter stores them its own way.
package sqlstore

import (
	"context"
	"errors"
)

// Errors an adapter returns so the shared code can tell what happened
// without knowing the driver.
var (
	// ErrNoRows: QueryRow found nothing.
	ErrNoRows = errors.New("no rows")
	// ErrUniqueViolation: an insert or update broke a unique constraint.
	ErrUniqueViolation = errors.New("unique constraint violated")
	// ErrForeignKeyViolation: a row points at a row that does not exist.
	ErrForeignKeyViolation = errors.New("foreign key constraint violated")
)

// Querier runs statements.
type Querier interface {
	// Exec runs a statement and returns the number of rows it affected.
	Exec(ctx context.Context, query string, args ...any) (int64, error)
	// Query runs a statement that returns rows.
	Query(ctx context.Context, query string, args ...any) (Rows, error)
	// QueryRow runs a statement that returns at most one row.
	QueryRow(ctx context.Context, query string, args ...any) Row
}

// Rows iterates over a result.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close()
}

// Row is one result row; Scan returns ErrNoRows when there is none.
type Row interface {
	Scan(dest ...any) error
}

// Tx is a transaction.
type Tx interface {
	Querier
	Commit(ctx context.Context) error
	Rollback(ctx context.Context) error
}

// DB is a pool of connections.
type DB interface {
	Querier
	// Begin starts a transaction that takes the write lock up front where
	// the engine has one (SQLite: BEGIN IMMEDIATE), so two writers never
	// deadlock upgrading read locks.
	Begin(ctx context.Context) (Tx, error)
	Ping(ctx context.Context) error
	Close() error
}

// inTx runs fn in a transaction, committing when it returns nil.
func inTx(ctx context.Context, db DB, fn func(tx Tx) error) error {
	tx, err := db.Begin(ctx)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback(ctx)
		return err
	}
	return tx.Commit(ctx)
}
