package local

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"strconv"
	"sync/atomic"
	"time"
)

// frontProxy is an app's stable address: a reverse proxy on
// 127.0.0.1:<app port> that sends each request to the version that is
// current when the request arrives. Switching versions is one atomic
// store; the old version is stopped only once the requests it was given
// have finished (drain), so a client polling the front port sees no error
// during a rollout.
type frontProxy struct {
	app     string
	ln      net.Listener
	srv     *http.Server
	current atomic.Pointer[instance]
	log     *slog.Logger
	rp      *httputil.ReverseProxy
	tr      *http.Transport
}

type upstreamKey struct{}

func newFrontProxy(app string, ln net.Listener, log *slog.Logger) *frontProxy {
	p := &frontProxy{app: app, ln: ln, log: log}
	p.tr = &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConnsPerHost: 64,
		IdleConnTimeout:     30 * time.Second,
	}
	p.rp = &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			port := r.In.Context().Value(upstreamKey{}).(int)
			r.Out.URL.Scheme = "http"
			r.Out.URL.Host = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
			r.Out.Host = r.In.Host
			r.SetXForwarded()
		},
		Transport: p.tr,
		// Stream (server-sent events, long polls) instead of buffering.
		FlushInterval: -1,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			if errors.Is(err, context.Canceled) {
				return
			}
			p.log.Warn("proxy: the app did not answer", "app", app, "err", err)
			http.Error(w, fmt.Sprintf("aether: app %s did not answer: %v\n", app, err), http.StatusBadGateway)
		},
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
	p.srv = &http.Server{
		Handler:           p,
		ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    1 << 20,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
	go func() {
		if err := p.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("front proxy stopped", "app", app, "err", err)
		}
	}()
	return p
}

// Port is the front port.
func (p *frontProxy) Port() int { return p.ln.Addr().(*net.TCPAddr).Port }

// ServeHTTP sends r to the current version. The in-flight count is taken
// before the version is re-checked, so that a drain which saw the count at
// zero after a switch can never be followed by a request to the old one.
func (p *frontProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	for {
		in := p.current.Load()
		if in == nil {
			http.Error(w, "aether: app "+p.app+" has no version running yet\n", http.StatusServiceUnavailable)
			return
		}
		in.inflight.Add(1)
		if p.current.Load() != in {
			in.inflight.Add(-1)
			continue
		}
		port := in.Port()
		if port == 0 {
			in.inflight.Add(-1)
			w.Header().Set("Retry-After", "1")
			http.Error(w, "aether: app "+p.app+" is restarting\n", http.StatusServiceUnavailable)
			return
		}
		// Deferred: ReverseProxy panics with ErrAbortHandler when the
		// client goes away mid-body.
		defer in.inflight.Add(-1)
		p.rp.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), upstreamKey{}, port)))
		return
	}
}

// switchTo makes next the version that takes new requests and returns the
// one it replaces (nil for none).
func (p *frontProxy) switchTo(next *instance) *instance {
	return p.current.Swap(next)
}

// drain waits until the requests an old version was given have finished,
// at most for timeout.
func drain(old *instance, timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	for old.inflight.Load() > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
}

// close stops listening and closes the connections.
func (p *frontProxy) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = p.srv.Shutdown(ctx)
	p.tr.CloseIdleConnections()
}
