package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/aetherengine/aether/controlplane/apierr"
	"github.com/aetherengine/aether/controlplane/service"
	"github.com/aetherengine/aether/controlplane/store"
	"github.com/aetherengine/aether/pkg/api"
)

// handlers are thin: decode, call one service method, encode.
type handlers struct {
	svc *service.Service
	log *slog.Logger
}

// readyTimeout bounds /readyz, so a hung database makes it fail, not hang.
const readyTimeout = 2 * time.Second

// page reads ?limit= and ?cursor=.
func page(c *gin.Context) (store.Page, error) {
	p := store.Page{Cursor: c.Query("cursor")}
	if l := c.Query("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > store.MaxLimit {
			return p, apierr.Invalid("limit must be a whole number between 1 and %d, not %q", store.MaxLimit, truncate(l))
		}
		p.Limit = n
	}
	return p, nil
}

func (h *handlers) whoami(c *gin.Context) (any, error) { return h.svc.Whoami(c.Request.Context()) }

func (h *handlers) listApps(c *gin.Context) (any, error) {
	p, err := page(c)
	if err != nil {
		return nil, err
	}
	return h.svc.ListApps(c.Request.Context(), p)
}

func (h *handlers) createApp(c *gin.Context) (any, error) {
	var req api.AppCreate
	if err := decodeJSON(c.Request, &req); err != nil {
		return nil, err
	}
	return h.svc.CreateApp(c.Request.Context(), req)
}

func (h *handlers) getApp(c *gin.Context) (any, error) {
	return h.svc.GetApp(c.Request.Context(), c.Param("name"))
}

func (h *handlers) updateApp(c *gin.Context) (any, error) {
	var req api.AppUpdate
	if err := decodeJSON(c.Request, &req); err != nil {
		return nil, err
	}
	return h.svc.UpdateApp(c.Request.Context(), c.Param("name"), req)
}

func (h *handlers) deleteApp(c *gin.Context) (any, error) {
	return nil, h.svc.DeleteApp(c.Request.Context(), c.Param("name"))
}

func (h *handlers) getTrust(c *gin.Context) (any, error) {
	return h.svc.GetTrustPolicy(c.Request.Context(), c.Param("name"))
}

func (h *handlers) setTrust(c *gin.Context) (any, error) {
	var req api.TrustPolicyUpdate
	if err := decodeJSON(c.Request, &req); err != nil {
		return nil, err
	}
	return h.svc.SetTrustPolicy(c.Request.Context(), c.Param("name"), req)
}

func (h *handlers) listDeployments(c *gin.Context) (any, error) {
	p, err := page(c)
	if err != nil {
		return nil, err
	}
	return h.svc.ListDeployments(c.Request.Context(), c.Query("app"), p)
}

func (h *handlers) createDeployment(c *gin.Context) (any, error) {
	var req api.DeploymentCreate
	if err := decodeJSON(c.Request, &req); err != nil {
		return nil, err
	}
	return h.svc.CreateDeployment(c.Request.Context(), req)
}

func (h *handlers) getDeployment(c *gin.Context) (any, error) {
	return h.svc.GetDeployment(c.Request.Context(), c.Param("id"))
}

func (h *handlers) listEvents(c *gin.Context) (any, error) {
	if c.Query("after") != "" || c.Query("wait") != "" {
		after, err := strconv.ParseInt(c.DefaultQuery("after", "0"), 10, 64)
		if err != nil || after < 0 {
			return nil, apierr.Invalid("after must be an event id (a whole number), not %q", truncate(c.Query("after")))
		}
		var wait time.Duration
		if w := c.Query("wait"); w != "" {
			if wait, err = time.ParseDuration(w); err != nil || wait < 0 || wait > service.MaxEventWait {
				return nil, apierr.Invalid("wait must be a duration between 0s and %s, e.g. 20s, not %q", service.MaxEventWait, truncate(w))
			}
		}
		if c.Query("cursor") != "" {
			return nil, apierr.Invalid("give either cursor (paging) or after/wait (following), not both")
		}
		return h.svc.WaitEvents(c.Request.Context(), c.Param("id"), after, wait)
	}
	p, err := page(c)
	if err != nil {
		return nil, err
	}
	return h.svc.ListEvents(c.Request.Context(), c.Param("id"), p)
}

func (h *handlers) listArtifacts(c *gin.Context) (any, error) {
	p, err := page(c)
	if err != nil {
		return nil, err
	}
	return h.svc.ListArtifacts(c.Request.Context(), p)
}

func (h *handlers) getArtifact(c *gin.Context) (any, error) {
	return h.svc.GetArtifact(c.Request.Context(), c.Param("digest"))
}

func (h *handlers) listKeys(c *gin.Context) (any, error) {
	p, err := page(c)
	if err != nil {
		return nil, err
	}
	return h.svc.ListKeys(c.Request.Context(), p)
}

func (h *handlers) createKey(c *gin.Context) (any, error) {
	var req api.APIKeyCreate
	if err := decodeJSON(c.Request, &req); err != nil {
		return nil, err
	}
	return h.svc.CreateKey(c.Request.Context(), req)
}

func (h *handlers) revokeKey(c *gin.Context) (any, error) {
	return h.svc.RevokeKey(c.Request.Context(), c.Param("id"))
}

func (h *handlers) listAudit(c *gin.Context) (any, error) {
	p, err := page(c)
	if err != nil {
		return nil, err
	}
	return h.svc.ListAudit(c.Request.Context(), p)
}

// healthz says the process is alive; it checks nothing else.
func healthz(c *gin.Context) (any, error) { return api.Health{Status: "ok"}, nil }

// readyz says whether the server can do its work: store (and, later,
// registry and runtime) reachable.
func (h *handlers) readyz(c *gin.Context) {
	checks := map[string]string{}
	status, code := "ok", http.StatusOK
	ctx, cancel := context.WithTimeout(c.Request.Context(), readyTimeout)
	defer cancel()
	for name, err := range h.svc.Ready(ctx) {
		if err != nil {
			h.log.Warn("not ready", "check", name, "err", err)
			checks[name] = "unavailable"
			status, code = "unavailable", http.StatusServiceUnavailable
			continue
		}
		checks[name] = "ok"
	}
	c.JSON(code, api.Health{Status: status, Checks: checks})
}
