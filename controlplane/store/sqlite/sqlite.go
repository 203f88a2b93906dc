// Package sqlite is the embedded store: one SQLite file (pure Go, no cgo) in
// WAL mode with a busy timeout and foreign keys on, and every transaction
// taking the write lock up front so concurrent writers queue instead of
// failing.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	sqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/aetherengine/aether/controlplane/store/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Options tune the store; the zero value is right for production.
type Options struct {
	// BusyTimeout is how long a writer waits for the write lock (default 10s).
	BusyTimeout time.Duration
	// MaxConns bounds open connections (default 8): WAL lets readers run in
	// parallel with the one writer.
	MaxConns int
}

// Open opens (creating if needed) the database file at path and applies the
// schema migrations.
func Open(ctx context.Context, path string, opts Options) (*sqlstore.Store, error) {
	if path == "" {
		return nil, errors.New("sqlite: empty database path; pass --database sqlite:///path/to/aether.db")
	}
	if strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("sqlite: database path %q contains ? or #; choose a path without them", path)
	}
	if opts.BusyTimeout <= 0 {
		opts.BusyTimeout = 10 * time.Second
	}
	if opts.MaxConns <= 0 {
		opts.MaxConns = 8
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("sqlite: create the database directory: %w", err)
	}
	// synchronous(FULL): a commit is on disk when it returns, so an
	// acknowledged write survives a crash of the process or of the machine.
	dsn := fmt.Sprintf("%s?_pragma=busy_timeout(%d)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(FULL)&_txlock=immediate",
		path, opts.BusyTimeout.Milliseconds())
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(opts.MaxConns)
	db.SetMaxIdleConns(opts.MaxConns)
	adapter := &sqlDB{db: db}
	if err := adapter.Ping(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	ms, err := sqlstore.LoadMigrations(migrations, "migrations")
	if err != nil {
		db.Close()
		return nil, err
	}
	if _, err := sqlstore.Migrate(ctx, adapter, ms); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: %s: %w", path, err)
	}
	return sqlstore.New(adapter), nil
}

// classify maps SQLite's constraint errors onto sqlstore's.
func classify(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return sqlstore.ErrNoRows
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return fmt.Errorf("%w: %v", sqlstore.ErrUniqueViolation, err)
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return fmt.Errorf("%w: %v", sqlstore.ErrForeignKeyViolation, err)
		}
	}
	return err
}
