package sqlstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/aetherengine/aether/controlplane/store"
	"github.com/aetherengine/aether/pkg/api"
)

const eventColumns = "seq, deployment_id, type, status, reason, message, at"

func scanEvent(r Row) (api.Event, int64, error) {
	var (
		e      api.Event
		status string
	)
	if err := r.Scan(&e.ID, &e.DeploymentID, &e.Type, &status, &e.Reason, &e.Message, &e.At); err != nil {
		return e, 0, err
	}
	e.Status = api.DeploymentStatus(status)
	e.At = e.At.UTC()
	return e, e.ID, nil
}

func appendEvent(ctx context.Context, q Querier, e api.Event) (api.Event, error) {
	out, _, err := scanEvent(q.QueryRow(ctx, `INSERT INTO events (deployment_id, type, status, reason, message, at)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING `+eventColumns,
		e.DeploymentID, e.Type, string(e.Status), e.Reason, e.Message, ts(e.At)))
	if errors.Is(err, ErrForeignKeyViolation) {
		return api.Event{}, fmt.Errorf("deployment %q: %w", e.DeploymentID, store.ErrNotFound)
	}
	return out, err
}

// AppendEvent adds an event to a deployment's history.
func (s *Store) AppendEvent(ctx context.Context, e api.Event) (api.Event, error) {
	return appendEvent(ctx, s.db, e)
}

// ListEvents returns a deployment's events oldest first.
func (s *Store) ListEvents(ctx context.Context, deploymentID string, p store.Page) ([]api.Event, string, error) {
	p = p.Normalize()
	var q query
	q.add("deployment_id = %s", deploymentID)
	tail, err := q.page("events", p, false)
	if err != nil {
		return nil, "", err
	}
	rows, err := s.db.Query(ctx, "SELECT "+eventColumns+" FROM events"+tail, q.args...)
	if err != nil {
		return nil, "", err
	}
	return collect(rows, "events", p.Limit, func(r Rows) (api.Event, int64, error) { return scanEvent(r) })
}
