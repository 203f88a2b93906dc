package client

import (
	"context"
	"net/url"

	"github.com/aetherengine/aether/pkg/api"
)

// Whoami returns the principal of the client's key.
func (c *Client) Whoami(ctx context.Context) (api.Principal, error) {
	var p api.Principal
	return p, c.do(ctx, "GET", "/v1/whoami", nil, nil, &p)
}

// CreateApp creates an app.
func (c *Client) CreateApp(ctx context.Context, req api.AppCreate) (api.App, error) {
	var a api.App
	return a, c.do(ctx, "POST", "/v1/apps", nil, req, &a)
}

// GetApp returns an app.
func (c *Client) GetApp(ctx context.Context, name string) (api.App, error) {
	var a api.App
	return a, c.do(ctx, "GET", "/v1/apps/"+seg(name), nil, nil, &a)
}

// ListApps returns one page of apps.
func (c *Client) ListApps(ctx context.Context, o ListOptions) (api.List[api.App], error) {
	var l api.List[api.App]
	return l, c.do(ctx, "GET", "/v1/apps", o.query(), nil, &l)
}

// UpdateApp changes an app's settings.
func (c *Client) UpdateApp(ctx context.Context, name string, req api.AppUpdate) (api.App, error) {
	var a api.App
	return a, c.do(ctx, "PATCH", "/v1/apps/"+seg(name), nil, req, &a)
}

// DeleteApp deletes an app and its deployment history.
func (c *Client) DeleteApp(ctx context.Context, name string) error {
	return c.do(ctx, "DELETE", "/v1/apps/"+seg(name), nil, nil, nil)
}

// GetTrustPolicy returns an app's trust policy.
func (c *Client) GetTrustPolicy(ctx context.Context, app string) (api.TrustPolicy, error) {
	var p api.TrustPolicy
	return p, c.do(ctx, "GET", "/v1/apps/"+seg(app)+"/trust", nil, nil, &p)
}

// SetTrustPolicy replaces an app's trust policy.
func (c *Client) SetTrustPolicy(ctx context.Context, app string, req api.TrustPolicyUpdate) (api.TrustPolicy, error) {
	var p api.TrustPolicy
	return p, c.do(ctx, "PUT", "/v1/apps/"+seg(app)+"/trust", nil, req, &p)
}

// CreateDeployment deploys an artifact to an app.
func (c *Client) CreateDeployment(ctx context.Context, req api.DeploymentCreate) (api.Deployment, error) {
	var d api.Deployment
	return d, c.do(ctx, "POST", "/v1/deployments", nil, req, &d)
}

// GetDeployment returns a deployment.
func (c *Client) GetDeployment(ctx context.Context, id string) (api.Deployment, error) {
	var d api.Deployment
	return d, c.do(ctx, "GET", "/v1/deployments/"+seg(id), nil, nil, &d)
}

// ListDeployments returns one page of deployments, of app if not empty.
func (c *Client) ListDeployments(ctx context.Context, app string, o ListOptions) (api.List[api.Deployment], error) {
	q := o.query()
	if app != "" {
		q.Set("app", app)
	}
	var l api.List[api.Deployment]
	return l, c.do(ctx, "GET", "/v1/deployments", q, nil, &l)
}

// ListEvents returns one page of a deployment's events.
func (c *Client) ListEvents(ctx context.Context, id string, o ListOptions) (api.List[api.Event], error) {
	var l api.List[api.Event]
	return l, c.do(ctx, "GET", "/v1/deployments/"+seg(id)+"/events", o.query(), nil, &l)
}

// GetArtifact returns an artifact record by digest.
func (c *Client) GetArtifact(ctx context.Context, digest string) (api.Artifact, error) {
	var a api.Artifact
	return a, c.do(ctx, "GET", "/v1/artifacts/"+seg(digest), nil, nil, &a)
}

// ListArtifacts returns one page of artifact records.
func (c *Client) ListArtifacts(ctx context.Context, o ListOptions) (api.List[api.Artifact], error) {
	var l api.List[api.Artifact]
	return l, c.do(ctx, "GET", "/v1/artifacts", o.query(), nil, &l)
}

// CreateKey creates an API key; the answer holds the secret, shown once.
func (c *Client) CreateKey(ctx context.Context, req api.APIKeyCreate) (api.APIKeyCreated, error) {
	var k api.APIKeyCreated
	return k, c.do(ctx, "POST", "/v1/keys", nil, req, &k)
}

// ListKeys returns one page of API keys.
func (c *Client) ListKeys(ctx context.Context, o ListOptions) (api.List[api.APIKey], error) {
	var l api.List[api.APIKey]
	return l, c.do(ctx, "GET", "/v1/keys", o.query(), nil, &l)
}

// RevokeKey revokes an API key.
func (c *Client) RevokeKey(ctx context.Context, id string) (api.APIKey, error) {
	var k api.APIKey
	return k, c.do(ctx, "DELETE", "/v1/keys/"+seg(id), nil, nil, &k)
}

// ListAudit returns one page of the audit log.
func (c *Client) ListAudit(ctx context.Context, o ListOptions) (api.List[api.AuditEntry], error) {
	var l api.List[api.AuditEntry]
	return l, c.do(ctx, "GET", "/v1/audit", o.query(), nil, &l)
}

// Ready reports whether the server is ready (GET /readyz).
func (c *Client) Ready(ctx context.Context) (api.Health, error) {
	var h api.Health
	return h, c.do(ctx, "GET", "/readyz", url.Values{}, nil, &h)
}
