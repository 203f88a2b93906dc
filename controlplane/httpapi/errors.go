package httpapi

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/aetherengine/aether/controlplane/apierr"
	"github.com/aetherengine/aether/pkg/api"
)

// statusOf is the one mapping from error kinds to HTTP status codes.
func statusOf(k apierr.Kind) int {
	switch k {
	case apierr.KindInvalid:
		return http.StatusBadRequest
	case apierr.KindUnauthenticated:
		return http.StatusUnauthorized
	case apierr.KindForbidden:
		return http.StatusForbidden
	case apierr.KindNotFound:
		return http.StatusNotFound
	case apierr.KindMethodNotAllowed:
		return http.StatusMethodNotAllowed
	case apierr.KindConflict:
		return http.StatusConflict
	case apierr.KindTooLarge:
		return http.StatusRequestEntityTooLarge
	case apierr.KindUnsupportedMedia:
		return http.StatusUnsupportedMediaType
	case apierr.KindRejected:
		return http.StatusUnprocessableEntity
	case apierr.KindUnavailable:
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
}

// lastError is the error a request ended with, classified; nil if none.
func lastError(c *gin.Context) *apierr.Error {
	if len(c.Errors) == 0 {
		return nil
	}
	return apierr.From(c.Errors.Last().Err)
}

// writeErrors is the one place errors become responses: after the handler
// chain, the last recorded error is written in the API's error shape. It
// also turns a panic into a 500 in the same shape.
func writeErrors(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			if r := recover(); r != nil {
				log.Error("panic serving request", "request_id", requestID(c), "route", c.FullPath(), "panic", r)
				_ = c.Error(errors.New("panic"))
				write(c, log)
			}
		}()
		c.Next()
		write(c, log)
	}
}

func write(c *gin.Context, log *slog.Logger) {
	e := lastError(c)
	if e == nil || c.Writer.Written() {
		return
	}
	status := statusOf(e.Kind)
	if status >= 500 {
		log.Error("request failed", "request_id", requestID(c), "route", c.FullPath(), "code", e.Code, "err", e.Error())
	}
	if e.Kind == apierr.KindUnauthenticated {
		c.Header("WWW-Authenticate", `Bearer realm="aether"`)
	}
	c.Abort()
	// PureJSON: messages quote <key> and the like; no HTML escaping.
	c.PureJSON(status, api.ErrorResponse{Error: api.ErrorBody{Code: e.Code, Message: e.Message, RequestID: requestID(c), DeploymentID: e.DeploymentID}})
}
