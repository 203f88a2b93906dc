package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"regexp"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/aetherengine/aether/controlplane/apierr"
	"github.com/aetherengine/aether/controlplane/auth"
	"github.com/aetherengine/aether/controlplane/metrics"
	"github.com/aetherengine/aether/controlplane/service"
	"github.com/aetherengine/aether/pkg/api"
)

const requestIDKey = "aether.request_id"

// A client's own request id is kept when it is short and plain, so logs on
// both sides correlate; anything else is replaced.
var clientRequestID = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// withRequestID gives every request an id, on the response too.
func withRequestID() gin.HandlerFunc {
	return func(c *gin.Context) {
		id := c.GetHeader(api.RequestIDHeader)
		if !clientRequestID.MatchString(id) {
			b := make([]byte, 8)
			_, _ = rand.Read(b)
			id = hex.EncodeToString(b)
		}
		c.Set(requestIDKey, id)
		c.Header(api.RequestIDHeader, id)
		c.Next()
	}
}

func requestID(c *gin.Context) string { return c.GetString(requestIDKey) }

// accessLog logs one line per request; never headers (they carry keys).
func accessLog(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		attrs := []any{"method", c.Request.Method, "route", c.FullPath(), "status", c.Writer.Status(),
			"duration", time.Since(start), "request_id", requestID(c)}
		if p, ok := auth.PrincipalFrom(c.Request.Context()); ok {
			attrs = append(attrs, "key_id", p.KeyID)
		}
		log.Debug("request", attrs...)
	}
}

// observe records request metrics by route template.
func observe(m *metrics.Metrics) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		m.ObserveRequest(c.Request.Method, c.FullPath(), c.Writer.Status(), time.Since(start))
	}
}

// limitBody refuses bodies over max bytes: at once when Content-Length says
// so, otherwise when the decoder reads past it.
func limitBody(max int64) gin.HandlerFunc {
	return func(c *gin.Context) {
		if c.Request.ContentLength > max {
			_ = c.Error(apierr.New(apierr.KindTooLarge, api.CodeBodyTooLarge, "the body is %d bytes; at most %d are accepted", c.Request.ContentLength, max))
			c.Abort()
			return
		}
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, max)
		c.Next()
	}
}

// authenticate puts the request's principal into its context.
func authenticate(a auth.Authenticator) gin.HandlerFunc {
	return func(c *gin.Context) {
		p, err := a.Authenticate(c.Request.Context(), c.Request)
		if err != nil {
			_ = c.Error(err)
			c.Abort()
			return
		}
		c.Request = c.Request.WithContext(auth.WithPrincipal(c.Request.Context(), p))
		c.Next()
	}
}

// audit records every mutating call — who, what, when, outcome — whether it
// succeeded, was refused or failed. It runs outside authentication so
// refused attempts are recorded too.
func audit(svc *service.Service) gin.HandlerFunc {
	return func(c *gin.Context) {
		c.Next()
		e := api.AuditEntry{Actor: "anonymous", Action: c.Request.Method + " " + c.FullPath(), Target: c.Request.URL.Path,
			RequestID: requestID(c), Status: c.Writer.Status(), Outcome: "ok"}
		if p, ok := auth.PrincipalFrom(c.Request.Context()); ok {
			e.Actor, e.ActorName = p.KeyID, p.Name
		}
		if err := lastError(c); err != nil {
			e.Status, e.Outcome = statusOf(err.Kind), err.Code
		}
		// The request's context may be cancelled by now; the record must
		// still be written.
		svc.Audit(context.WithoutCancel(c.Request.Context()), e)
	}
}
