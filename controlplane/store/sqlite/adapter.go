package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/aetherengine/aether/controlplane/store/sqlstore"
)

// Times are stored as INTEGER microseconds since the epoch, so they sort and
// compare as numbers and read back exactly; the adapter converts at the
// boundary so the shared SQL passes and scans time.Time.

func toArgs(args []any) []any {
	out := make([]any, len(args))
	for i, a := range args {
		switch v := a.(type) {
		case time.Time:
			out[i] = v.UnixMicro()
		case *time.Time:
			if v == nil {
				out[i] = nil
			} else {
				out[i] = v.UnixMicro()
			}
		default:
			out[i] = a
		}
	}
	return out
}

// scanInto scans with time destinations replaced by integer holders.
func scanInto(scan func(...any) error, dest []any) error {
	tmp := make([]any, len(dest))
	type fix struct {
		i int
		n *sql.NullInt64
	}
	var fixes []fix
	for i, d := range dest {
		switch d.(type) {
		case *time.Time, **time.Time:
			n := new(sql.NullInt64)
			tmp[i] = n
			fixes = append(fixes, fix{i, n})
		default:
			tmp[i] = d
		}
	}
	if err := scan(tmp...); err != nil {
		return classify(err)
	}
	for _, f := range fixes {
		switch d := dest[f.i].(type) {
		case *time.Time:
			*d = time.UnixMicro(f.n.Int64).UTC()
		case **time.Time:
			if f.n.Valid {
				t := time.UnixMicro(f.n.Int64).UTC()
				*d = &t
			} else {
				*d = nil
			}
		}
	}
	return nil
}

type queryer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

type querier struct{ q queryer }

func (q querier) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := q.q.ExecContext(ctx, query, toArgs(args)...)
	if err != nil {
		return 0, classify(err)
	}
	return res.RowsAffected()
}

func (q querier) Query(ctx context.Context, query string, args ...any) (sqlstore.Rows, error) {
	rows, err := q.q.QueryContext(ctx, query, toArgs(args)...)
	if err != nil {
		return nil, classify(err)
	}
	return sqlRows{rows}, nil
}

func (q querier) QueryRow(ctx context.Context, query string, args ...any) sqlstore.Row {
	return sqlRow{q.q.QueryRowContext(ctx, query, toArgs(args)...)}
}

type sqlRows struct{ r *sql.Rows }

func (r sqlRows) Next() bool             { return r.r.Next() }
func (r sqlRows) Scan(dest ...any) error { return scanInto(r.r.Scan, dest) }
func (r sqlRows) Err() error             { return classify(r.r.Err()) }
func (r sqlRows) Close()                 { _ = r.r.Close() }

type sqlRow struct{ r *sql.Row }

func (r sqlRow) Scan(dest ...any) error { return scanInto(r.r.Scan, dest) }

type sqlTx struct {
	querier
	tx *sql.Tx
}

func (t sqlTx) Commit(context.Context) error   { return classify(t.tx.Commit()) }
func (t sqlTx) Rollback(context.Context) error { return t.tx.Rollback() }

type sqlDB struct {
	db *sql.DB
}

func (d *sqlDB) Exec(ctx context.Context, q string, args ...any) (int64, error) {
	return querier{d.db}.Exec(ctx, q, args...)
}

func (d *sqlDB) Query(ctx context.Context, q string, args ...any) (sqlstore.Rows, error) {
	return querier{d.db}.Query(ctx, q, args...)
}

func (d *sqlDB) QueryRow(ctx context.Context, q string, args ...any) sqlstore.Row {
	return querier{d.db}.QueryRow(ctx, q, args...)
}

func (d *sqlDB) Begin(ctx context.Context) (sqlstore.Tx, error) {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, classify(err)
	}
	return sqlTx{querier{tx}, tx}, nil
}

func (d *sqlDB) Ping(ctx context.Context) error { return d.db.PingContext(ctx) }
func (d *sqlDB) Close() error                   { return d.db.Close() }
