package sqlstore

import (
	"context"
	"time"

	"github.com/aetherengine/aether/controlplane/store"
	"github.com/aetherengine/aether/pkg/api"
)

const artifactColumns = `seq, digest, size, media_type, key_id, policy_version, sbom_format, sbom_components,
	provenance_builder, provenance_source, verified_at, created_at`

func scanArtifact(r Row) (api.Artifact, int64, error) {
	var (
		a        api.Artifact
		seq      int64
		v        api.Verification
		verified *time.Time
	)
	if err := r.Scan(&seq, &a.Digest, &a.Size, &a.MediaType, &v.KeyID, &v.PolicyVersion, &v.SBOMFormat, &v.SBOMComponents,
		&v.ProvenanceBuilder, &v.ProvenanceSource, &verified, &a.CreatedAt); err != nil {
		return a, 0, err
	}
	a.CreatedAt = a.CreatedAt.UTC()
	if verified != nil {
		v.VerifiedAt = verified.UTC()
		a.Verification = &v
	}
	return a, seq, nil
}

// PutArtifact inserts an artifact or updates the one with its digest. A
// verification record, once stored, is replaced only by a newer one.
func (s *Store) PutArtifact(ctx context.Context, a api.Artifact) (api.Artifact, error) {
	var v api.Verification
	var verified *time.Time
	if a.Verification != nil {
		v = *a.Verification
		t := ts(v.VerifiedAt)
		verified = &t
	}
	out, _, err := scanArtifact(s.db.QueryRow(ctx, `INSERT INTO artifacts
		(digest, size, media_type, key_id, policy_version, sbom_format, sbom_components, provenance_builder, provenance_source, verified_at, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
		ON CONFLICT (digest) DO UPDATE SET
			size = excluded.size, media_type = excluded.media_type,
			key_id = CASE WHEN excluded.verified_at IS NULL THEN artifacts.key_id ELSE excluded.key_id END,
			policy_version = CASE WHEN excluded.verified_at IS NULL THEN artifacts.policy_version ELSE excluded.policy_version END,
			sbom_format = CASE WHEN excluded.verified_at IS NULL THEN artifacts.sbom_format ELSE excluded.sbom_format END,
			sbom_components = CASE WHEN excluded.verified_at IS NULL THEN artifacts.sbom_components ELSE excluded.sbom_components END,
			provenance_builder = CASE WHEN excluded.verified_at IS NULL THEN artifacts.provenance_builder ELSE excluded.provenance_builder END,
			provenance_source = CASE WHEN excluded.verified_at IS NULL THEN artifacts.provenance_source ELSE excluded.provenance_source END,
			verified_at = COALESCE(excluded.verified_at, artifacts.verified_at)
		RETURNING `+artifactColumns,
		a.Digest, a.Size, a.MediaType, v.KeyID, v.PolicyVersion, v.SBOMFormat, v.SBOMComponents,
		v.ProvenanceBuilder, v.ProvenanceSource, verified, ts(a.CreatedAt)))
	return out, err
}

// GetArtifact returns one artifact by digest.
func (s *Store) GetArtifact(ctx context.Context, digest string) (api.Artifact, error) {
	a, _, err := scanArtifact(s.db.QueryRow(ctx, "SELECT "+artifactColumns+" FROM artifacts WHERE digest = $1", digest))
	return a, notFound(err, "artifact %s", digest)
}

// ListArtifacts returns artifacts newest first.
func (s *Store) ListArtifacts(ctx context.Context, p store.Page) ([]api.Artifact, string, error) {
	p = p.Normalize()
	var q query
	tail, err := q.page("artifacts", p, true)
	if err != nil {
		return nil, "", err
	}
	rows, err := s.db.Query(ctx, "SELECT "+artifactColumns+" FROM artifacts"+tail, q.args...)
	if err != nil {
		return nil, "", err
	}
	return collect(rows, "artifacts", p.Limit, func(r Rows) (api.Artifact, int64, error) { return scanArtifact(r) })
}
