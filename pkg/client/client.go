// Package client is a Go client for the AetherEngine control-plane API,
// used by the aether CLI and the end-to-end tests. API errors come back as
// *Error, decoded from the API's one error shape.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aetherengine/aether/pkg/api"
	"github.com/aetherengine/aether/pkg/version"
)

// maxResponse bounds what the client reads from the server.
const maxResponse = 16 << 20

// Client talks to one control plane with one API key.
type Client struct {
	base *url.URL
	key  string
	http *http.Client
}

// Option changes a Client.
type Option func(*Client)

// WithHTTPClient uses hc instead of a client with a 60-second timeout.
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.http = hc } }

// New returns a client for the server at baseURL (http://host:port).
func New(baseURL, apiKey string, opts ...Option) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(baseURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("server URL %q is not an http(s) URL such as http://127.0.0.1:8080", baseURL)
	}
	c := &Client{base: u, key: apiKey, http: &http.Client{Timeout: 60 * time.Second}}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// BaseURL returns the server's URL.
func (c *Client) BaseURL() string { return c.base.String() }

// Error is an error answer from the API.
type Error struct {
	StatusCode int
	Code       string
	Message    string
	RequestID  string
	// DeploymentID is the deployment an admission refusal recorded as
	// failed (HTTP 422 from CreateDeployment), if any.
	DeploymentID string
}

func (e *Error) Error() string {
	s := fmt.Sprintf("%s (HTTP %d, %s)", e.Message, e.StatusCode, e.Code)
	if e.RequestID != "" {
		s += " [request id " + e.RequestID + "]"
	}
	return s
}

// ErrorCode returns the API error code of err, or "" if err is not an API error.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// IsNotFound reports whether err is the API's not_found.
func IsNotFound(err error) bool { return ErrorCode(err) == api.CodeNotFound }

// do sends a request and decodes a JSON answer into out (if not nil).
func (c *Client) do(ctx context.Context, method, path string, query url.Values, in, out any) error {
	// path's variable segments are escaped with seg by the caller.
	target := c.base.String() + path
	if len(query) > 0 {
		target += "?" + query.Encode()
	}
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", version.UserAgent())
	if c.key != "" {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, c.base.Redacted()+path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return fmt.Errorf("%s %s: read answer: %w", method, path, err)
	}
	if len(raw) > maxResponse {
		return fmt.Errorf("%s %s: the answer is larger than %d bytes", method, path, maxResponse)
	}
	if resp.StatusCode >= 300 {
		return decodeError(resp, raw)
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("%s %s: the server's answer is not the expected JSON: %w", method, path, err)
	}
	return nil
}

func decodeError(resp *http.Response, raw []byte) error {
	var er api.ErrorResponse
	if err := json.Unmarshal(raw, &er); err == nil && er.Error.Code != "" {
		return &Error{StatusCode: resp.StatusCode, Code: er.Error.Code, Message: er.Error.Message, RequestID: er.Error.RequestID, DeploymentID: er.Error.DeploymentID}
	}
	// Not our shape: a proxy or another server answered.
	snippet := strings.TrimSpace(string(raw))
	if len(snippet) > 200 {
		snippet = snippet[:200] + "…"
	}
	msg := http.StatusText(resp.StatusCode)
	if snippet != "" {
		msg += ": " + snippet
	}
	return &Error{StatusCode: resp.StatusCode, Code: fmt.Sprintf("http_%d", resp.StatusCode), Message: msg, RequestID: resp.Header.Get(api.RequestIDHeader)}
}

// seg escapes one path segment.
func seg(s string) string { return url.PathEscape(s) }

// ListOptions pages through a list.
type ListOptions struct {
	Limit  int
	Cursor string
}

func (o ListOptions) query() url.Values {
	q := url.Values{}
	if o.Limit > 0 {
		q.Set("limit", fmt.Sprint(o.Limit))
	}
	if o.Cursor != "" {
		q.Set("cursor", o.Cursor)
	}
	return q
}

// All follows next_cursor through every page of a list, stopping after max
// items (0: no limit).
func All[T any](ctx context.Context, max int, page func(ctx context.Context, o ListOptions) (api.List[T], error)) ([]T, error) {
	var out []T
	o := ListOptions{Limit: 500}
	for {
		p, err := page(ctx, o)
		if err != nil {
			return out, err
		}
		out = append(out, p.Items...)
		if max > 0 && len(out) >= max {
			return out[:max], nil
		}
		if p.NextCursor == "" {
			return out, nil
		}
		o.Cursor = p.NextCursor
	}
}
