package admission

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		addr string
		want AddrClass
	}{
		{"169.254.169.254", ClassMetadata},
		{"fd00:ec2::254", ClassMetadata},
		{"169.254.170.2", ClassMetadata},
		{"100.100.100.200", ClassMetadata},
		{"::ffff:169.254.169.254", ClassMetadata},
		{"64:ff9b::a9fe:a9fe", ClassMetadata}, // NAT64 of the metadata address
		{"2002:a9fe:a9fe::1", ClassMetadata},  // 6to4 of it
		{"169.254.1.1", ClassLinkLocal},
		{"fe80::1", ClassLinkLocal},
		{"127.0.0.1", ClassLoopback},
		{"127.8.9.10", ClassLoopback},
		{"::1", ClassLoopback},
		{"::ffff:127.0.0.1", ClassLoopback},
		{"64:ff9b::7f00:1", ClassLoopback},
		{"10.1.2.3", ClassPrivate},
		{"172.16.0.1", ClassPrivate},
		{"172.31.255.255", ClassPrivate},
		{"192.168.1.1", ClassPrivate},
		{"100.64.0.1", ClassPrivate},
		{"fd12:3456::1", ClassPrivate},
		{"fec0::1", ClassPrivate},
		{"0.0.0.0", ClassUnspecified},
		{"0.1.2.3", ClassUnspecified},
		{"::", ClassUnspecified},
		{"224.0.0.1", ClassLinkLocal},
		{"239.1.2.3", ClassMulticast},
		{"ff02::1", ClassLinkLocal},
		{"ff05::1", ClassMulticast},
		{"255.255.255.255", ClassReserved},
		{"240.0.0.1", ClassReserved},
		{"198.18.0.1", ClassReserved},
		{"172.32.0.1", ClassPublic},
		{"140.82.112.33", ClassPublic},
		{"2606:50c0:8000::154", ClassPublic},
		{"8.8.8.8", ClassPublic},
	}
	for _, tt := range tests {
		if got := Classify(netip.MustParseAddr(tt.addr)); got != tt.want {
			t.Errorf("Classify(%s) = %s, want %s", tt.addr, got, tt.want)
		}
	}
}

// fakeResolver answers from a table.
type fakeResolver map[string][]string

func (f fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	addrs, ok := f[host]
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	var out []netip.Addr
	for _, a := range addrs {
		out = append(out, netip.MustParseAddr(a))
	}
	return out, nil
}

// TestGuardRefuses: the table of addresses a registry connection must
// never reach, by name (DNS, including rebinding answers) or literal. No
// connection is attempted: the refusal happens before any packet.
func TestGuardRefuses(t *testing.T) {
	allow, err := ParseAllowList("*.example.com,registry.internal,127.0.0.1:5000,metadata.example.org")
	if err != nil {
		t.Fatal(err)
	}
	g := &Guard{Allow: allow, Resolver: fakeResolver{
		"evil.example.com":      {"169.254.169.254"},
		"rebind.example.com":    {"140.82.112.33", "127.0.0.1"},
		"private.example.com":   {"10.0.0.7"},
		"v6meta.example.com":    {"fd00:ec2::254"},
		"mapped.example.com":    {"::ffff:10.0.0.1"},
		"metadata.example.org":  {"169.254.169.254"},
		"linklocal.example.com": {"fe80::1"},
	}}
	tests := []struct {
		addr  string
		class AddrClass
	}{
		{"169.254.169.254:80", ClassMetadata},
		{"[fd00:ec2::254]:80", ClassMetadata},
		{"evil.example.com:443", ClassMetadata},
		{"metadata.example.org:443", ClassMetadata}, // explicit does not open metadata
		{"v6meta.example.com:443", ClassMetadata},
		{"linklocal.example.com:443", ClassLinkLocal},
		{"[fe80::1]:443", ClassLinkLocal},
		{"rebind.example.com:443", ClassLoopback}, // one bad answer refuses the host
		{"private.example.com:443", ClassPrivate}, // wildcard: not explicit
		{"mapped.example.com:443", ClassPrivate},
		{"127.0.0.1:6000", ClassLoopback}, // listed, but on another port
		{"10.0.0.1:5000", ClassPrivate},
		{"0.0.0.0:5000", ClassUnspecified},
		{"[::]:5000", ClassUnspecified},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			ctx, tr := withTrace(context.Background(), 0)
			c, err := g.DialContext(ctx, "tcp", tt.addr)
			if c != nil {
				c.Close()
			}
			var re *RefusedError
			if !errors.As(err, &re) || re.Class != tt.class {
				t.Fatalf("DialContext(%s) = %v, want a refusal of a %s address", tt.addr, err, tt.class)
			}
			if _, _, refused, _ := tr.snapshot(); refused == nil {
				t.Error("the refusal was not recorded in the admission's trace")
			}
			if !strings.Contains(err.Error(), "refused") {
				t.Errorf("message %q does not say it was refused", err)
			}
		})
	}
	if _, err := g.DialContext(context.Background(), "tcp", "nowhere.example.com:443"); err == nil || errors.As(err, new(*RefusedError)) {
		t.Errorf("unknown host: %v, want a DNS error", err)
	}
}

// TestGuardAllowsExplicitLoopback: a loopback registry named explicitly
// (local mode) is reached; public addresses pass the check.
func TestGuardAllowsExplicitLoopback(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	allow, _ := ParseAllowList(ln.Addr().String() + ",local.test")
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	g := &Guard{Allow: allow, Resolver: fakeResolver{"local.test": {"127.0.0.1"}}}
	for _, addr := range []string{ln.Addr().String(), "local.test:" + port} {
		c, err := g.DialContext(context.Background(), "tcp", addr)
		if err != nil {
			t.Fatalf("DialContext(%s): %v", addr, err)
		}
		c.Close()
	}
	for _, public := range []string{"140.82.112.33", "2606:50c0:8000::154"} {
		if err := check("ghcr.io", netip.MustParseAddr(public), false); err != nil {
			t.Errorf("public %s refused: %v", public, err)
		}
	}
}

// TestRedirectIsRechecked: a listed registry that redirects to the
// metadata address, or to a loopback port that is not listed, is refused
// when the redirect is followed (the check is per connection).
func TestRedirectIsRechecked(t *testing.T) {
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "secret") }))
	defer other.Close()
	targets := map[string]string{
		"/metadata": "http://169.254.169.254/latest/meta-data/",
		"/v6meta":   "http://[fd00:ec2::254]/latest/meta-data/",
		"/loopback": other.URL + "/",
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, targets[r.URL.Path], http.StatusTemporaryRedirect)
	}))
	defer srv.Close()
	allow, _ := ParseAllowList(strings.TrimPrefix(srv.URL, "http://"))
	client := &http.Client{Transport: NewTransport(&Guard{Allow: allow}, Timeouts{})}
	for path, class := range map[string]AddrClass{"/metadata": ClassMetadata, "/v6meta": ClassMetadata, "/loopback": ClassLoopback} {
		t.Run(path, func(t *testing.T) {
			ctx, tr := withTrace(context.Background(), 0)
			req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+path, nil)
			resp, err := client.Do(req)
			if err == nil {
				resp.Body.Close()
				t.Fatalf("redirect to %s followed: %s", targets[path], resp.Status)
			}
			var re *RefusedError
			if !errors.As(err, &re) || re.Class != class {
				t.Fatalf("err = %v, want a refusal of a %s address", err, class)
			}
			if requests, _, refused, _ := tr.snapshot(); refused == nil || requests != 2 {
				t.Errorf("trace: %d requests, refused %v; want 2 and the refusal", requests, refused)
			}
		})
	}
}

// TestByteBudget: the transport stops reading once an admission has read
// its budget, across requests.
func TestByteBudget(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write(make([]byte, 600))
	}))
	defer srv.Close()
	allow, _ := ParseAllowList(strings.TrimPrefix(srv.URL, "http://"))
	client := &http.Client{Transport: NewTransport(&Guard{Allow: allow}, Timeouts{})}
	ctx, tr := withTrace(context.Background(), 1000)
	get := func() error {
		req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL, nil)
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		_, err = io.ReadAll(resp.Body)
		return err
	}
	if err := get(); err != nil {
		t.Fatalf("first 600 bytes: %v", err)
	}
	if err := get(); !errors.Is(err, errBudget) {
		t.Fatalf("second read past 1000 bytes: %v, want the budget error", err)
	}
	if err := get(); !errors.Is(err, errBudget) {
		t.Fatalf("request after the budget: %v, want the budget error", err)
	}
	if _, n, _, over := tr.snapshot(); !over || n > 1200 {
		t.Fatalf("trace: %d bytes, over %v", n, over)
	}
}
