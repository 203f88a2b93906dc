package client

import (
	"context"
	"net/url"
	"strconv"

	"github.com/aetherengine/aether/pkg/api"
)

// AppStatus says what runs for an app: current deployment, digest, URL,
// whether it answers.
func (c *Client) AppStatus(ctx context.Context, app string) (api.AppStatus, error) {
	var s api.AppStatus
	return s, c.do(ctx, "GET", "/v1/apps/"+seg(app)+"/status", nil, nil, &s)
}

// DeploymentLogs returns the last tail lines of a deployment's log (0:
// the server's default, 100).
func (c *Client) DeploymentLogs(ctx context.Context, id string, tail int) (api.DeploymentLogs, error) {
	q := url.Values{}
	if tail > 0 {
		q.Set("tail", strconv.Itoa(tail))
	}
	var l api.DeploymentLogs
	return l, c.do(ctx, "GET", "/v1/deployments/"+seg(id)+"/logs", q, nil, &l)
}

// Rollback deploys the app's previous ready artifact again, or the one of
// deployment to when not empty; the answer is the new deployment.
func (c *Client) Rollback(ctx context.Context, app, to string) (api.Deployment, error) {
	q := url.Values{}
	if to != "" {
		q.Set("to", to)
	}
	var d api.Deployment
	return d, c.do(ctx, "POST", "/v1/apps/"+seg(app)+"/rollback", q, nil, &d)
}

// EnsureApp returns the app, creating it when it does not exist; a
// created app gets trust (when not nil) as its trust policy. created
// reports whether it was created. This is how a deploy to a fresh server
// (aether up) needs no separate setup step.
func (c *Client) EnsureApp(ctx context.Context, name string, trust *api.TrustPolicyUpdate) (app api.App, created bool, err error) {
	app, err = c.GetApp(ctx, name)
	if err == nil || !IsNotFound(err) {
		return app, false, err
	}
	app, err = c.CreateApp(ctx, api.AppCreate{Name: name})
	if ErrorCode(err) == api.CodeConflict {
		// Created concurrently by someone else: theirs stands.
		app, err = c.GetApp(ctx, name)
		return app, false, err
	}
	if err != nil {
		return app, false, err
	}
	if trust != nil {
		policy, err := c.SetTrustPolicy(ctx, name, *trust)
		if err != nil {
			return app, true, err
		}
		app.Trust = policy
	}
	return app, true, nil
}
