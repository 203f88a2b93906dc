package sqlstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/aetherengine/aether/controlplane/store"
	"github.com/aetherengine/aether/pkg/api"
)

const deploymentColumns = "seq, id, app, artifact_ref, digest, status, reason, message, env, created_by, created_at, updated_at, started_at, finished_at"

func scanDeployment(r Row) (api.Deployment, int64, error) {
	var (
		d      api.Deployment
		seq    int64
		env    string
		status string
	)
	if err := r.Scan(&seq, &d.ID, &d.App, &d.ArtifactRef, &d.Digest, &status, &d.Reason, &d.Message, &env,
		&d.CreatedBy, &d.CreatedAt, &d.UpdatedAt, &d.StartedAt, &d.FinishedAt); err != nil {
		return d, 0, err
	}
	d.Status = api.DeploymentStatus(status)
	if err := fromJSON(env, &d.Env); err != nil {
		return d, 0, err
	}
	d.Env = nonNilMap(d.Env)
	d.CreatedAt, d.UpdatedAt = d.CreatedAt.UTC(), d.UpdatedAt.UTC()
	d.StartedAt, d.FinishedAt = utcp(d.StartedAt), utcp(d.FinishedAt)
	return d, seq, nil
}

// CreateDeployment records a pending deployment and its "created" event.
func (s *Store) CreateDeployment(ctx context.Context, d api.Deployment) (api.Deployment, error) {
	if d.Status == "" {
		d.Status = api.StatusPending
	}
	if d.Status != api.StatusPending {
		return api.Deployment{}, fmt.Errorf("a new deployment starts pending, not %s: %w", d.Status, store.ErrIllegalTransition)
	}
	env, err := jsonText(nonNilMap(d.Env))
	if err != nil {
		return api.Deployment{}, err
	}
	var out api.Deployment
	err = inTx(ctx, s.db, func(tx Tx) error {
		var err error
		out, _, err = scanDeployment(tx.QueryRow(ctx, `INSERT INTO deployments
			(id, app, artifact_ref, digest, status, reason, message, env, created_by, created_at, updated_at, started_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING `+deploymentColumns,
			d.ID, d.App, d.ArtifactRef, d.Digest, string(d.Status), d.Reason, d.Message, env, d.CreatedBy,
			ts(d.CreatedAt), ts(d.CreatedAt), tsp(d.StartedAt)))
		switch {
		case errors.Is(err, ErrForeignKeyViolation):
			return fmt.Errorf("app %q: %w", d.App, store.ErrNotFound)
		case errors.Is(err, ErrUniqueViolation):
			return fmt.Errorf("deployment %q already exists: %w", d.ID, store.ErrConflict)
		case err != nil:
			return err
		}
		_, err = appendEvent(ctx, tx, api.Event{DeploymentID: out.ID, Type: api.EventCreated, Status: out.Status,
			Message: "deployment of " + out.ArtifactRef + " created", At: out.CreatedAt})
		return err
	})
	return out, err
}

// GetDeployment returns one deployment.
func (s *Store) GetDeployment(ctx context.Context, id string) (api.Deployment, error) {
	d, _, err := scanDeployment(s.db.QueryRow(ctx, "SELECT "+deploymentColumns+" FROM deployments WHERE id = $1", id))
	return d, notFound(err, "deployment %q", id)
}

// ListDeployments returns deployments newest first.
func (s *Store) ListDeployments(ctx context.Context, f store.DeploymentFilter, p store.Page) ([]api.Deployment, string, error) {
	p = p.Normalize()
	var q query
	if f.App != "" {
		q.add("app = %s", f.App)
	}
	if f.Apps != nil {
		q.in("app", f.Apps)
	}
	tail, err := q.page("deployments", p, true)
	if err != nil {
		return nil, "", err
	}
	rows, err := s.db.Query(ctx, "SELECT "+deploymentColumns+" FROM deployments"+tail, q.args...)
	if err != nil {
		return nil, "", err
	}
	return collect(rows, "deployments", p.Limit, func(r Rows) (api.Deployment, int64, error) { return scanDeployment(r) })
}

// TransitionDeployment moves a deployment through the status machine. The
// UPDATE is conditional on the status read in the same transaction, so of
// two racing transitions from one state exactly one wins on either engine.
func (s *Store) TransitionDeployment(ctx context.Context, t store.Transition) (api.Deployment, api.Event, error) {
	var (
		out api.Deployment
		ev  api.Event
	)
	err := inTx(ctx, s.db, func(tx Tx) error {
		var cur string
		if err := tx.QueryRow(ctx, "SELECT status FROM deployments WHERE id = $1", t.ID).Scan(&cur); err != nil {
			return notFound(err, "deployment %q", t.ID)
		}
		from := api.DeploymentStatus(cur)
		if t.From != "" && t.From != from {
			return fmt.Errorf("deployment %s is %s, not %s: %w", t.ID, from, t.From, store.ErrIllegalTransition)
		}
		if !api.CanTransition(from, t.To) {
			return fmt.Errorf("deployment %s cannot go from %s to %s: %w", t.ID, from, t.To, store.ErrIllegalTransition)
		}
		var finished any
		if t.To.Terminal() {
			finished = ts(t.At)
		}
		row := tx.QueryRow(ctx, `UPDATE deployments SET status = $1, reason = $2, message = $3,
			digest = CASE WHEN $4 = '' THEN digest ELSE $4 END, updated_at = $5, finished_at = COALESCE($6, finished_at)
			WHERE id = $7 AND status = $8 RETURNING `+deploymentColumns,
			string(t.To), t.Reason, t.Message, t.Digest, ts(t.At), finished, t.ID, cur)
		var err error
		if out, _, err = scanDeployment(row); err != nil {
			if errors.Is(err, ErrNoRows) {
				return fmt.Errorf("deployment %s changed status concurrently: %w", t.ID, store.ErrIllegalTransition)
			}
			return err
		}
		ev, err = appendEvent(ctx, tx, api.Event{DeploymentID: t.ID, Type: api.EventTransition, Status: t.To,
			Reason: t.Reason, Message: t.Message, At: t.At})
		return err
	})
	return out, ev, err
}
