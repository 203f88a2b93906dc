package local

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Probe is the readiness check, the same one the Kubernetes runtime
// renders: an HTTP GET of Path on the app's port when Path is set (any
// status from 200 to 399 passes), a TCP connect otherwise.
type Probe struct {
	// Path is the HTTP path to GET ("/healthz"); empty means TCP.
	Path string
	// Interval is the pause between probes of a process that has not
	// answered within its first seconds (default 100ms; before that the
	// probe polls every 5ms, so a new version takes traffic as soon as it
	// answers).
	Interval time.Duration
	// Timeout bounds one probe (default 2s).
	Timeout time.Duration
}

func (p Probe) withDefaults() Probe {
	if p.Interval <= 0 {
		p.Interval = 100 * time.Millisecond
	}
	if p.Timeout <= 0 {
		p.Timeout = 2 * time.Second
	}
	if p.Path != "" && !strings.HasPrefix(p.Path, "/") {
		p.Path = "/" + p.Path
	}
	return p
}

// probeClient never follows redirects out of the app and keeps no idle
// connections to a process that may be replaced.
var probeClient = &http.Client{
	Transport: &http.Transport{DisableKeepAlives: true, Proxy: nil},
	CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	},
}

// check probes 127.0.0.1:port once.
func (p Probe) check(ctx context.Context, port int) error {
	ctx, cancel := context.WithTimeout(ctx, p.Timeout)
	defer cancel()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	if p.Path == "" {
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return err
		}
		return c.Close()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+p.Path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("User-Agent", "aether-probe")
	resp, err := probeClient.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode >= 400 {
		return fmt.Errorf("GET %s answered %d", p.Path, resp.StatusCode)
	}
	return nil
}

// freePort asks the kernel for a free port on 127.0.0.1. Another process
// can take it before the app binds it; the app then exits and is restarted
// on a new port.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
