// Package postgres is the production store: PostgreSQL through a pgx
// connection pool. Schema migrations run under a session advisory lock, so
// replicas starting together apply each migration exactly once.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/aetherengine/aether/controlplane/store/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// migrationLock is the advisory-lock key every replica takes to migrate
// (the bytes of "aether.m" as an int64).
const migrationLock int64 = 0x6165746865722e6d

// Options tune the pool; the zero value keeps pgx's defaults, and the
// connection URL's pool_max_conns etc. apply as usual.
type Options struct {
	// MaxConns overrides the pool size when positive.
	MaxConns int32
}

// Open connects to the database at url (postgres://…) and applies the
// schema migrations.
func Open(ctx context.Context, url string, opts Options) (*sqlstore.Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx's parse error can echo the URL, password included.
		return nil, errors.New("postgres: cannot parse the database URL; expected postgres://user[:password]@host[:port]/dbname[?options]")
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: cannot reach %s:%d/%s: %w", cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database, err)
	}
	if err := migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: %w", err)
	}
	return sqlstore.New(&db{q: pool, pool: pool}), nil
}

func migrate(ctx context.Context, pool *pgxpool.Pool) error {
	ms, err := sqlstore.LoadMigrations(migrations, "migrations")
	if err != nil {
		return err
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", migrationLock); err != nil {
		return fmt.Errorf("take the migration lock: %w", err)
	}
	defer func() {
		// Unlock with a fresh context: ctx may be cancelled, and a lock left
		// on a pooled connection would block every later migrator.
		if _, err := conn.Exec(context.Background(), "SELECT pg_advisory_unlock($1)", migrationLock); err != nil {
			conn.Conn().Close(context.Background())
		}
	}()
	_, err = sqlstore.Migrate(ctx, &db{q: conn}, ms)
	return err
}

// classify maps PostgreSQL's constraint errors onto sqlstore's.
func classify(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return sqlstore.ErrNoRows
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "23505":
			return fmt.Errorf("%w: %v", sqlstore.ErrUniqueViolation, err)
		case "23503":
			return fmt.Errorf("%w: %v", sqlstore.ErrForeignKeyViolation, err)
		}
	}
	return err
}
