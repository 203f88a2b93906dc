package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/aetherengine/aether/controlplane/store/sqlstore"
)

// pgxQuerier is what a pool, a pooled connection and a transaction share.
type pgxQuerier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

type pgxBeginner interface {
	pgxQuerier
	Begin(ctx context.Context) (pgx.Tx, error)
}

type querier struct{ q pgxQuerier }

func (q querier) Exec(ctx context.Context, sql string, args ...any) (int64, error) {
	tag, err := q.q.Exec(ctx, sql, args...)
	if err != nil {
		return 0, classify(err)
	}
	return tag.RowsAffected(), nil
}

func (q querier) Query(ctx context.Context, sql string, args ...any) (sqlstore.Rows, error) {
	rows, err := q.q.Query(ctx, sql, args...)
	if err != nil {
		return nil, classify(err)
	}
	return pgRows{rows}, nil
}

func (q querier) QueryRow(ctx context.Context, sql string, args ...any) sqlstore.Row {
	return pgRow{q.q.QueryRow(ctx, sql, args...)}
}

type pgRows struct{ r pgx.Rows }

func (r pgRows) Next() bool             { return r.r.Next() }
func (r pgRows) Scan(dest ...any) error { return classify(r.r.Scan(dest...)) }
func (r pgRows) Err() error             { return classify(r.r.Err()) }
func (r pgRows) Close()                 { r.r.Close() }

type pgRow struct{ r pgx.Row }

func (r pgRow) Scan(dest ...any) error { return classify(r.r.Scan(dest...)) }

type tx struct {
	querier
	tx pgx.Tx
}

func (t tx) Commit(ctx context.Context) error   { return classify(t.tx.Commit(ctx)) }
func (t tx) Rollback(ctx context.Context) error { return t.tx.Rollback(ctx) }

// db adapts a pool (or, while migrating, one pooled connection).
type db struct {
	q    pgxBeginner
	pool *pgxpool.Pool
}

func (d *db) Exec(ctx context.Context, sql string, args ...any) (int64, error) {
	return querier{d.q}.Exec(ctx, sql, args...)
}

func (d *db) Query(ctx context.Context, sql string, args ...any) (sqlstore.Rows, error) {
	return querier{d.q}.Query(ctx, sql, args...)
}

func (d *db) QueryRow(ctx context.Context, sql string, args ...any) sqlstore.Row {
	return querier{d.q}.QueryRow(ctx, sql, args...)
}

func (d *db) Begin(ctx context.Context) (sqlstore.Tx, error) {
	t, err := d.q.Begin(ctx)
	if err != nil {
		return nil, classify(err)
	}
	return tx{querier{t}, t}, nil
}

func (d *db) Ping(ctx context.Context) error {
	if d.pool == nil {
		return nil
	}
	return d.pool.Ping(ctx)
}

func (d *db) Close() error {
	if d.pool != nil {
		d.pool.Close()
	}
	return nil
}
