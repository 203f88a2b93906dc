package admission

import (
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"time"
)

// Timeouts bound every registry call. The whole operation is bounded by
// the admission's context (Options.Timeout).
type Timeouts struct {
	Dial           time.Duration
	TLSHandshake   time.Duration
	ResponseHeader time.Duration
}

func (t Timeouts) withDefaults() Timeouts {
	if t.Dial <= 0 {
		t.Dial = 5 * time.Second
	}
	if t.TLSHandshake <= 0 {
		t.TLSHandshake = 10 * time.Second
	}
	if t.ResponseHeader <= 0 {
		t.ResponseHeader = 15 * time.Second
	}
	return t
}

// NewTransport returns the HTTP transport registry clients of the server
// use: connections through g, no proxy from the environment (a proxy would
// hide the real destination from the guard), time-outs on connect, TLS and
// response headers, bounded header size, and per-admission accounting.
func NewTransport(g *Guard, t Timeouts) http.RoundTripper {
	t = t.withDefaults()
	g.DialTimeout = t.Dial
	return &accounting{base: &http.Transport{
		Proxy:                  nil,
		DialContext:            g.DialContext,
		ForceAttemptHTTP2:      true,
		TLSClientConfig:        &tls.Config{MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:    t.TLSHandshake,
		ResponseHeaderTimeout:  t.ResponseHeader,
		ExpectContinueTimeout:  time.Second,
		IdleConnTimeout:        90 * time.Second,
		MaxIdleConns:           64,
		MaxIdleConnsPerHost:    8,
		MaxResponseHeaderBytes: 64 << 10,
	}}
}

// accounting counts requests and response bytes into the context's trace.
type accounting struct{ base http.RoundTripper }

func (a *accounting) RoundTrip(req *http.Request) (*http.Response, error) {
	t := traceFrom(req.Context())
	if t != nil {
		t.mu.Lock()
		t.requests++
		over := t.over
		t.mu.Unlock()
		if over {
			return nil, fmt.Errorf("%s %s: %w", req.Method, req.URL.Redacted(), errBudget)
		}
	}
	resp, err := a.base.RoundTrip(req)
	if err != nil || t == nil {
		return resp, err
	}
	resp.Body = &budgetBody{rc: resp.Body, t: t}
	return resp, nil
}

type budgetBody struct {
	rc io.ReadCloser
	t  *trace
}

func (b *budgetBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if n > 0 && !b.t.add(n) {
		return n, errBudget
	}
	return n, err
}

func (b *budgetBody) Close() error { return b.rc.Close() }
