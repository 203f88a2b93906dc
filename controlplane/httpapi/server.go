// Package httpapi is the control plane's HTTP layer (gin): routing,
// middleware (request ids, metrics, body limits, authentication, audit, the
// one error shape) and thin handlers over the service. The OpenAPI document
// and the router are built from one route table.
package httpapi

import (
	"log/slog"
	"net/http"
	"sync"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/aetherengine/aether/controlplane/apierr"
	"github.com/aetherengine/aether/controlplane/auth"
	"github.com/aetherengine/aether/controlplane/metrics"
	"github.com/aetherengine/aether/controlplane/service"
	"github.com/aetherengine/aether/pkg/api"
)

// DefaultMaxBodyBytes bounds request bodies unless Options says otherwise.
const DefaultMaxBodyBytes = 1 << 20

// Options wires the HTTP layer.
type Options struct {
	Service *service.Service
	Auth    auth.Authenticator
	Metrics *metrics.Metrics
	// Gatherer serves /metrics (usually the registry Metrics registered on).
	Gatherer prometheus.Gatherer
	Log      *slog.Logger
	// MaxBodyBytes bounds request bodies (default DefaultMaxBodyBytes).
	MaxBodyBytes int64
}

// Server is the API's HTTP handler.
type Server struct {
	engine  *gin.Engine
	routes  []route
	openapi []byte
	opts    Options
}

var ginMode sync.Once

// New builds the router and the OpenAPI document from the route table.
func New(o Options) (*Server, error) {
	ginMode.Do(func() { gin.SetMode(gin.ReleaseMode) })
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	s := &Server{opts: o}
	h := &handlers{svc: o.Service, log: o.Log}
	s.routes = h.routes(s)
	doc, err := buildOpenAPI(s.routes)
	if err != nil {
		return nil, err
	}
	s.openapi = doc

	e := gin.New()
	e.HandleMethodNotAllowed = true
	e.RedirectTrailingSlash = false
	e.RedirectFixedPath = false
	e.ContextWithFallback = true
	e.Use(withRequestID(), accessLog(o.Log), observe(o.Metrics), writeErrors(o.Log), limitBody(o.MaxBodyBytes))
	e.NoRoute(func(c *gin.Context) {
		_ = c.Error(apierr.New(apierr.KindNotFound, api.CodeNotFound, "no endpoint %s %s; the API reference is at /docs", c.Request.Method, truncate(c.Request.URL.Path)))
	})
	e.NoMethod(func(c *gin.Context) {
		_ = c.Error(apierr.New(apierr.KindMethodNotAllowed, api.CodeMethodNotAllowed, "%s is not allowed on %s; the API reference is at /docs", c.Request.Method, truncate(c.Request.URL.Path)))
	})
	for _, r := range s.routes {
		var chain []gin.HandlerFunc
		if mutating(r.method) {
			chain = append(chain, audit(o.Service))
		}
		if !r.public {
			chain = append(chain, authenticate(o.Auth))
		}
		if r.json != nil {
			chain = append(chain, serveJSON(o.Log, r.status, r.json))
		} else {
			chain = append(chain, r.raw)
		}
		e.Handle(r.method, r.path, chain...)
	}
	s.engine = e
	return s, nil
}

// ServeHTTP serves the API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.engine.ServeHTTP(w, r) }

// OpenAPI returns the OpenAPI 3 document (JSON) served at /openapi.json.
func (s *Server) OpenAPI() []byte { return s.openapi }

func (s *Server) metricsHandler() http.Handler {
	return promhttp.HandlerFor(s.opts.Gatherer, promhttp.HandlerOpts{})
}

func (s *Server) serveOpenAPI(c *gin.Context) {
	c.Data(http.StatusOK, "application/json", s.openapi)
}
