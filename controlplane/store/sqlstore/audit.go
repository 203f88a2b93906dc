package sqlstore

import (
	"context"

	"github.com/aetherengine/aether/controlplane/store"
	"github.com/aetherengine/aether/pkg/api"
)

const auditColumns = "seq, at, actor, actor_name, action, target, status, outcome, request_id"

func scanAudit(r Row) (api.AuditEntry, int64, error) {
	var e api.AuditEntry
	if err := r.Scan(&e.ID, &e.At, &e.Actor, &e.ActorName, &e.Action, &e.Target, &e.Status, &e.Outcome, &e.RequestID); err != nil {
		return e, 0, err
	}
	e.At = e.At.UTC()
	return e, e.ID, nil
}

// AppendAudit adds an audit entry.
func (s *Store) AppendAudit(ctx context.Context, e api.AuditEntry) (api.AuditEntry, error) {
	out, _, err := scanAudit(s.db.QueryRow(ctx, `INSERT INTO audit_log (at, actor, actor_name, action, target, status, outcome, request_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING `+auditColumns,
		ts(e.At), e.Actor, e.ActorName, e.Action, e.Target, e.Status, e.Outcome, e.RequestID))
	return out, err
}

// ListAudit returns audit entries newest first.
func (s *Store) ListAudit(ctx context.Context, p store.Page) ([]api.AuditEntry, string, error) {
	p = p.Normalize()
	var q query
	tail, err := q.page("audit", p, true)
	if err != nil {
		return nil, "", err
	}
	rows, err := s.db.Query(ctx, "SELECT "+auditColumns+" FROM audit_log"+tail, q.args...)
	if err != nil {
		return nil, "", err
	}
	return collect(rows, "audit", p.Limit, func(r Rows) (api.AuditEntry, int64, error) { return scanAudit(r) })
}
