package admission

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
)

// AllowList is the set of registries the server may fetch from: host[:port]
// patterns, "*.example.com" for any subdomain, "*" for any registry, and an
// "http://" prefix for a registry served over plain HTTP. An empty list
// allows nothing.
//
// Only entries without a wildcard are explicit: the connect-time guard lets
// an explicit host reach a loopback or private address (a registry on this
// machine or in the cluster), never a wildcard one, so that DNS under a
// wildcard cannot point the server at internal services.
type AllowList struct {
	entries []allowEntry
}

type allowEntry struct {
	raw string
	// host is lower-case, without brackets; "*" or "*.suffix" for wildcards.
	host string
	// port is "" for any port.
	port      string
	plainHTTP bool
}

// maxAllowEntries bounds the list.
const maxAllowEntries = 256

// ParseAllowList parses a comma-separated list (the --registries setting).
func ParseAllowList(s string) (*AllowList, error) {
	l := &AllowList{}
	var errs []error
	for _, raw := range strings.Split(s, ",") {
		raw = strings.TrimSpace(raw)
		if raw == "" {
			continue
		}
		e, err := parseAllowEntry(raw)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		l.entries = append(l.entries, e)
	}
	if len(l.entries) > maxAllowEntries {
		errs = append(errs, fmt.Errorf("registries: %d entries, at most %d", len(l.entries), maxAllowEntries))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return l, nil
}

func parseAllowEntry(raw string) (allowEntry, error) {
	e := allowEntry{raw: raw}
	s := raw
	if rest, ok := strings.CutPrefix(strings.ToLower(s), "http://"); ok {
		e.plainHTTP, s = true, rest
	} else if rest, ok := strings.CutPrefix(strings.ToLower(s), "https://"); ok {
		s = rest
	}
	bad := func(why string) (allowEntry, error) {
		return allowEntry{}, fmt.Errorf("registries: %q %s; use host[:port], *.domain[:port] or *, e.g. ghcr.io,*.corp.example,127.0.0.1:5000", raw, why)
	}
	if strings.ContainsAny(s, "/?#@ \t") {
		return bad("is not a registry host (no paths, users or spaces)")
	}
	host, port := splitHostPort(s)
	if port != "" {
		if p, ok := parsePort(port); !ok || p == 0 {
			return bad("has an invalid port")
		}
	}
	if host == "*." {
		return bad("has a wildcard without a domain")
	}
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	switch {
	case host == "":
		return bad("has no host")
	case host == "*":
	case strings.HasPrefix(host, "*."):
		if !validHostname(host[2:]) {
			return bad("has an invalid domain after *.")
		}
	case strings.Contains(host, "*"):
		return bad("may only use * as the whole host or as the first label (*.example.com)")
	default:
		if _, err := netip.ParseAddr(host); err != nil && !validHostname(host) {
			return bad("is not a valid host name or IP address")
		}
	}
	e.host, e.port = host, port
	return e, nil
}

// splitHostPort splits host[:port] and [v6]:port; a bare IPv6 address has
// no port.
func splitHostPort(s string) (host, port string) {
	if h, p, err := net.SplitHostPort(s); err == nil {
		return strings.Trim(h, "[]"), p
	}
	return strings.Trim(s, "[]"), ""
}

func parsePort(p string) (uint16, bool) {
	if len(p) == 0 || len(p) > 5 {
		return 0, false
	}
	n := 0
	for _, c := range p {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return uint16(n), n <= 65535
}

func validHostname(h string) bool {
	if len(h) == 0 || len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if len(label) == 0 || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// Empty reports whether the list allows nothing.
func (l *AllowList) Empty() bool { return l == nil || len(l.entries) == 0 }

// String is the list as configured.
func (l *AllowList) String() string {
	if l.Empty() {
		return ""
	}
	out := make([]string, len(l.entries))
	for i, e := range l.entries {
		out[i] = e.raw
	}
	return strings.Join(out, ",")
}

// Allows reports whether a reference's registry (host[:port]) is on the
// list, and whether it is to be reached over plain HTTP.
func (l *AllowList) Allows(registry string) (ok, plainHTTP bool) {
	if l == nil {
		return false, false
	}
	host, port := splitHostPort(registry)
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	for _, e := range l.entries {
		if e.matchHost(host) && e.matchPort(port) {
			return true, e.plainHTTP
		}
	}
	return false, false
}

// Explicit reports whether host:port, as dialled, is named by an entry
// without a wildcard: only such a host may be on a loopback or private
// address.
func (l *AllowList) Explicit(host, port string) bool {
	if l == nil {
		return false
	}
	host = strings.TrimSuffix(strings.ToLower(strings.Trim(host, "[]")), ".")
	for _, e := range l.entries {
		if !strings.Contains(e.host, "*") && sameHost(e.host, host) && (e.port == "" || e.port == port) {
			return true
		}
	}
	return false
}

func (e allowEntry) matchHost(host string) bool {
	switch {
	case e.host == "*":
		return host != ""
	case strings.HasPrefix(e.host, "*."):
		return strings.HasSuffix(host, e.host[1:]) && len(host) > len(e.host)-1
	}
	return sameHost(e.host, host)
}

// matchPort: an entry without a port matches any; a reference without a
// port is on the scheme's default port.
func (e allowEntry) matchPort(port string) bool {
	if e.port == "" {
		return true
	}
	if port == "" {
		port = "443"
		if e.plainHTTP {
			port = "80"
		}
	}
	return e.port == port
}

// sameHost compares host names, and IP addresses in any spelling.
func sameHost(a, b string) bool {
	if a == b {
		return true
	}
	aa, err1 := netip.ParseAddr(a)
	bb, err2 := netip.ParseAddr(b)
	return err1 == nil && err2 == nil && aa.Unmap() == bb.Unmap()
}
