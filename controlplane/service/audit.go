package service

import (
	"context"

	"github.com/aetherengine/aether/controlplane/auth"
	"github.com/aetherengine/aether/controlplane/store"
	"github.com/aetherengine/aether/pkg/api"
)

// Audit records a mutating call. It is called by the HTTP layer for every
// mutating request, whatever its outcome, so no handler can forget it.
func (s *Service) Audit(ctx context.Context, e api.AuditEntry) {
	e.At = s.now()
	if _, err := s.store.AppendAudit(ctx, e); err != nil {
		s.metrics.AuditFailures.Inc()
		s.log.Error("audit entry not written", "action", e.Action, "target", e.Target, "actor", e.Actor, "request_id", e.RequestID, "err", err)
	}
}

// ListAudit lists audit entries newest first (admin).
func (s *Service) ListAudit(ctx context.Context, page store.Page) (api.List[api.AuditEntry], error) {
	if _, err := auth.Require(ctx, auth.Admin, ""); err != nil {
		return api.List[api.AuditEntry]{}, err
	}
	if err := validatePage(page); err != nil {
		return api.List[api.AuditEntry]{}, err
	}
	items, next, err := s.store.ListAudit(ctx, page)
	return api.List[api.AuditEntry]{Items: items, NextCursor: next}, err
}
