package httpapi

import (
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/aetherengine/aether/controlplane/apierr"
	"github.com/aetherengine/aether/pkg/api"
)

func (h *handlers) appStatus(c *gin.Context) (any, error) {
	return h.svc.AppStatus(c.Request.Context(), c.Param("name"))
}

// rollback takes no body: the target, if any, is ?to=.
func (h *handlers) rollback(c *gin.Context) (any, error) {
	return h.svc.Rollback(c.Request.Context(), c.Param("name"), c.Query("to"))
}

func (h *handlers) deploymentLogs(c *gin.Context) (any, error) {
	tail := 0
	if v := c.Query("tail"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > api.MaxLogTail {
			return nil, apierr.Invalid("tail must be a whole number between 1 and %d, not %q", api.MaxLogTail, truncate(v))
		}
		tail = n
	}
	return h.svc.DeploymentLogs(c.Request.Context(), c.Param("id"), tail)
}
