package httpapi

import (
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"

	"github.com/gin-gonic/gin"

	"github.com/aetherengine/aether/pkg/api"
)

// route is one endpoint: how gin serves it and how OpenAPI documents it.
// The router and the OpenAPI document are both built from this one table,
// and TestOpenAPIDrift checks the served routes against the document.
type route struct {
	method, path string // gin syntax: /v1/apps/:name
	opID, tag    string
	summary      string
	// access says who may call it, for the document.
	access string
	// public routes need no API key.
	public bool
	params []param
	// body is the request type (a zero value), nil for none.
	body any
	// status and resp are the success answer; resp nil means no JSON body.
	status int
	resp   any
	// list marks a paginated list of resp items.
	list bool
	// produces is the content type of a non-JSON answer.
	produces string
	// rejects marks an operation that refuses on the merits with HTTP 422
	// and an admission reason code.
	rejects bool

	json func(c *gin.Context) (any, error)
	raw  gin.HandlerFunc
}

type param struct {
	name, in, desc string
	required       bool
}

var (
	pLimit  = param{name: "limit", in: "query", desc: "page size, 1-500 (default 50)"}
	pCursor = param{name: "cursor", in: "query", desc: "next_cursor of the previous page"}
	pName   = param{name: "name", in: "path", desc: "app name", required: true}
	pID     = param{name: "id", in: "path", desc: "deployment id", required: true}
)

const (
	accessAny     = "any valid API key"
	accessAdmin   = "admin"
	accessReadApp = "admin; deployer or viewer scoped to the app"
	accessDeploy  = "admin; deployer scoped to the app"
	accessPublic  = "no API key"
)

func (h *handlers) routes(o *Server) []route {
	return []route{
		{method: "GET", path: "/healthz", opID: "healthz", tag: "operations", summary: "The process is alive", access: accessPublic, public: true,
			status: 200, resp: api.Health{}, json: healthz},
		{method: "GET", path: "/readyz", opID: "readyz", tag: "operations", summary: "The server can serve: store reachable (503 otherwise)", access: accessPublic, public: true,
			status: 200, resp: api.Health{}, raw: h.readyz},
		{method: "GET", path: "/metrics", opID: "metrics", tag: "operations", summary: "Prometheus metrics", access: accessPublic, public: true,
			status: 200, produces: "text/plain", raw: gin.WrapH(o.metricsHandler())},
		{method: "GET", path: "/openapi.json", opID: "openapi", tag: "operations", summary: "This OpenAPI document", access: accessPublic, public: true,
			status: 200, produces: "application/json", raw: o.serveOpenAPI},
		{method: "GET", path: "/docs", opID: "docs", tag: "operations", summary: "API reference (Swagger UI, works offline)", access: accessPublic, public: true,
			status: 200, produces: "text/html", raw: serveDocsPage},
		{method: "GET", path: "/docs/assets/:file", opID: "docsAsset", tag: "operations", summary: "Swagger UI assets", access: accessPublic, public: true,
			params: []param{{name: "file", in: "path", desc: "asset file name", required: true}}, status: 200, produces: "application/octet-stream", raw: serveDocsAsset},

		{method: "GET", path: "/v1/whoami", opID: "whoami", tag: "keys", summary: "The principal of the calling API key", access: accessAny,
			status: 200, resp: api.Principal{}, json: h.whoami},

		{method: "GET", path: "/v1/apps", opID: "listApps", tag: "apps", summary: "List the apps the key may read", access: accessAny,
			params: []param{pLimit, pCursor}, status: 200, resp: api.App{}, list: true, json: h.listApps},
		{method: "POST", path: "/v1/apps", opID: "createApp", tag: "apps", summary: "Create an app (only name is required)", access: accessAdmin,
			body: api.AppCreate{}, status: 201, resp: api.App{}, json: h.createApp},
		{method: "GET", path: "/v1/apps/:name", opID: "getApp", tag: "apps", summary: "Get an app", access: accessReadApp,
			params: []param{pName}, status: 200, resp: api.App{}, json: h.getApp},
		{method: "PATCH", path: "/v1/apps/:name", opID: "updateApp", tag: "apps", summary: "Change an app's namespace or env", access: accessAdmin,
			params: []param{pName}, body: api.AppUpdate{}, status: 200, resp: api.App{}, json: h.updateApp},
		{method: "DELETE", path: "/v1/apps/:name", opID: "deleteApp", tag: "apps", summary: "Delete an app with its deployment history", access: accessAdmin,
			params: []param{pName}, status: 204, json: h.deleteApp},
		{method: "GET", path: "/v1/apps/:name/trust", opID: "getTrustPolicy", tag: "apps", summary: "Get an app's trust policy", access: accessReadApp,
			params: []param{pName}, status: 200, resp: api.TrustPolicy{}, json: h.getTrust},
		{method: "PUT", path: "/v1/apps/:name/trust", opID: "setTrustPolicy", tag: "apps", summary: "Replace an app's trust policy (its version goes up)", access: accessAdmin,
			params: []param{pName}, body: api.TrustPolicyUpdate{}, status: 200, resp: api.TrustPolicy{}, json: h.setTrust},
		{method: "GET", path: "/v1/apps/:name/status", opID: "getAppStatus", tag: "apps", summary: "What runs for an app: current deployment, digest, URL, ready", access: accessReadApp,
			params: []param{pName}, status: 200, resp: api.AppStatus{}, json: h.appStatus},
		{method: "POST", path: "/v1/apps/:name/rollback", opID: "rollbackApp", tag: "apps", summary: "Deploy the previous ready artifact again (through admission), or the one of ?to=DEPLOYMENT", access: accessDeploy,
			params: []param{pName, {name: "to", in: "query", desc: "the earlier ready deployment whose artifact to deploy (default: the newest ready one with another digest than the current)"}},
			status: 201, resp: api.Deployment{}, rejects: true, json: h.rollback},

		{method: "GET", path: "/v1/deployments", opID: "listDeployments", tag: "deployments", summary: "List deployments, newest first", access: accessAny,
			params: []param{{name: "app", in: "query", desc: "only this app's deployments"}, pLimit, pCursor}, status: 200, resp: api.Deployment{}, list: true, json: h.listDeployments},
		{method: "POST", path: "/v1/deployments", opID: "createDeployment", tag: "deployments", summary: "Deploy an artifact to an app: the tag is resolved once, the digest verified against the app's trust policy", access: accessDeploy,
			body: api.DeploymentCreate{}, status: 201, resp: api.Deployment{}, rejects: true, json: h.createDeployment},
		{method: "GET", path: "/v1/deployments/:id", opID: "getDeployment", tag: "deployments", summary: "Get a deployment", access: accessReadApp,
			params: []param{pID}, status: 200, resp: api.Deployment{}, json: h.getDeployment},
		{method: "GET", path: "/v1/deployments/:id/events", opID: "listDeploymentEvents", tag: "deployments", summary: "A deployment's events, oldest first", access: accessReadApp,
			params: []param{pID, pLimit, pCursor,
				{name: "after", in: "query", desc: "follow mode: only events with an id above this one"},
				{name: "wait", in: "query", desc: "follow mode: when there is no such event yet, wait up to this long for one (e.g. 20s, at most 30s)"}},
			status: 200, resp: api.Event{}, list: true, json: h.listEvents},
		{method: "GET", path: "/v1/deployments/:id/logs", opID: "getDeploymentLogs", tag: "deployments", summary: "The last lines a deployment's processes wrote (local runtime)", access: accessReadApp,
			params: []param{pID, {name: "tail", in: "query", desc: "number of lines, 1-10000 (default 100)"}}, status: 200, resp: api.DeploymentLogs{}, json: h.deploymentLogs},

		{method: "GET", path: "/v1/artifacts", opID: "listArtifacts", tag: "artifacts", summary: "List artifacts and their verification records, newest first", access: accessAny,
			params: []param{pLimit, pCursor}, status: 200, resp: api.Artifact{}, list: true, json: h.listArtifacts},
		{method: "GET", path: "/v1/artifacts/:digest", opID: "getArtifact", tag: "artifacts", summary: "Get an artifact by digest", access: accessAny,
			params: []param{{name: "digest", in: "path", desc: "sha256:…", required: true}}, status: 200, resp: api.Artifact{}, json: h.getArtifact},

		{method: "GET", path: "/v1/keys", opID: "listKeys", tag: "keys", summary: "List API keys (never their secrets)", access: accessAdmin,
			params: []param{pLimit, pCursor}, status: 200, resp: api.APIKey{}, list: true, json: h.listKeys},
		{method: "POST", path: "/v1/keys", opID: "createKey", tag: "keys", summary: "Create an API key; the secret is shown only in this answer", access: accessAdmin,
			body: api.APIKeyCreate{}, status: 201, resp: api.APIKeyCreated{}, json: h.createKey},
		{method: "DELETE", path: "/v1/keys/:id", opID: "revokeKey", tag: "keys", summary: "Revoke an API key", access: accessAdmin,
			params: []param{{name: "id", in: "path", desc: "key id", required: true}}, status: 200, resp: api.APIKey{}, json: h.revokeKey},

		{method: "GET", path: "/v1/audit", opID: "listAudit", tag: "audit", summary: "The audit log of mutating calls, newest first", access: accessAdmin,
			params: []param{pLimit, pCursor}, status: 200, resp: api.AuditEntry{}, list: true, json: h.listAudit},
	}
}

// mutating reports whether a method changes state (and so is audited).
func mutating(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return true
}

// serveJSON adapts a JSON handler: its error is recorded for writeErrors,
// its value written with the route's status. A panic becomes an internal
// error here, inside the audit middleware, so the call is still audited.
func serveJSON(log *slog.Logger, status int, fn func(c *gin.Context) (any, error)) gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			if r := recover(); r != nil {
				log.Error("panic in handler", "request_id", requestID(c), "route", c.FullPath(), "panic", r, "stack", string(debug.Stack()))
				_ = c.Error(fmt.Errorf("panic: %v", r))
				c.Abort()
			}
		}()
		v, err := fn(c)
		if err != nil {
			_ = c.Error(err)
			c.Abort()
			return
		}
		if status == http.StatusNoContent || v == nil {
			c.Status(status)
			return
		}
		c.PureJSON(status, v)
	}
}
