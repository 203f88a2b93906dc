package admission

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"syscall"
	"time"
)

// AddrClass says what kind of address a registry connection would reach.
type AddrClass string

// Address classes. Only public addresses are reachable for any allowed
// registry; loopback and private ones only for a host the allow-list
// names explicitly; the others never.
const (
	ClassPublic      AddrClass = "public"
	ClassLoopback    AddrClass = "loopback"
	ClassPrivate     AddrClass = "private"
	ClassLinkLocal   AddrClass = "link-local"
	ClassMetadata    AddrClass = "cloud metadata"
	ClassUnspecified AddrClass = "unspecified"
	ClassMulticast   AddrClass = "multicast"
	ClassReserved    AddrClass = "reserved"
)

// metadataAddrs are cloud instance-metadata endpoints: credentials live
// there, so they are refused even when listed.
var metadataAddrs = map[netip.Addr]bool{
	netip.MustParseAddr("169.254.169.254"): true, // AWS, GCP, Azure, OpenStack…
	netip.MustParseAddr("169.254.170.2"):   true, // AWS ECS task metadata
	netip.MustParseAddr("100.100.100.200"): true, // Alibaba Cloud
	netip.MustParseAddr("fd00:ec2::254"):   true, // AWS IMDS over IPv6
}

var (
	cgnat     = netip.MustParsePrefix("100.64.0.0/10")
	thisNet   = netip.MustParsePrefix("0.0.0.0/8")
	ietf      = netip.MustParsePrefix("192.0.0.0/24")
	benchmark = netip.MustParsePrefix("198.18.0.0/15")
	future    = netip.MustParsePrefix("240.0.0.0/4")
	siteLocal = netip.MustParsePrefix("fec0::/10")
	nat64     = netip.MustParsePrefix("64:ff9b::/96")
	nat64Loc  = netip.MustParsePrefix("64:ff9b:1::/48")
	sixToFour = netip.MustParsePrefix("2002::/16")
	v4compat  = netip.MustParsePrefix("::/96")
)

// Classify says what kind of address ip is. IPv6 forms that embed an IPv4
// address (mapped, NAT64, 6to4, IPv4-compatible) are classified by it, so
// 64:ff9b::a9fe:a9fe is the metadata address it translates to.
func Classify(ip netip.Addr) AddrClass {
	ip = ip.Unmap()
	if ip.Is6() {
		b := ip.As16()
		switch {
		case nat64.Contains(ip):
			return Classify(netip.AddrFrom4([4]byte(b[12:16])))
		case sixToFour.Contains(ip):
			return Classify(netip.AddrFrom4([4]byte(b[2:6])))
		case v4compat.Contains(ip) && !ip.IsUnspecified() && !ip.IsLoopback():
			return Classify(netip.AddrFrom4([4]byte(b[12:16])))
		case nat64Loc.Contains(ip):
			return ClassPrivate
		}
	}
	switch {
	case metadataAddrs[ip]:
		return ClassMetadata
	case ip.IsUnspecified() || thisNet.Contains(ip):
		return ClassUnspecified
	case ip.IsLoopback():
		return ClassLoopback
	case ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast():
		return ClassLinkLocal
	case ip.IsMulticast() || ip.IsInterfaceLocalMulticast():
		return ClassMulticast
	case ip.IsPrivate() || cgnat.Contains(ip) || siteLocal.Contains(ip):
		return ClassPrivate
	case ietf.Contains(ip) || benchmark.Contains(ip) || future.Contains(ip):
		return ClassReserved
	}
	return ClassPublic
}

// RefusedError is a connection the guard refused; no packet was sent.
type RefusedError struct {
	// Host is the name dialled (as in the URL), Addr the address refused.
	Host  string
	Addr  netip.Addr
	Class AddrClass
	// Explicit reports whether the allow-list names Host explicitly.
	Explicit bool
}

func (e *RefusedError) Error() string {
	what := fmt.Sprintf("connection to %s refused: it resolves to %s, a %s address", e.Host, e.Addr, e.Class)
	if e.Host == e.Addr.String() {
		what = fmt.Sprintf("connection to %s refused: a %s address", e.Host, e.Class)
	}
	switch e.Class {
	case ClassLoopback, ClassPrivate:
		return what + "; the server reaches loopback and private addresses only for registries listed explicitly (not by wildcard) in --registries / AETHER_REGISTRIES"
	case ClassMetadata, ClassLinkLocal:
		return what + "; the server never connects to link-local or cloud metadata addresses (a registry or a redirect pointed there)"
	}
	return what + "; a registry cannot live there"
}

// Resolver looks host names up; *net.Resolver implements it.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Guard dials registry connections after checking, at connect time, every
// address they would reach: the check happens for each connection, so it
// covers redirects to other hosts and DNS answers that change between
// lookups (rebinding); the address checked is the address dialled.
type Guard struct {
	// Allow is the registry allow-list (for its explicit entries).
	Allow *AllowList
	// DialTimeout bounds one TCP connect (default 5s).
	DialTimeout time.Duration
	// Resolver defaults to net.DefaultResolver.
	Resolver Resolver
}

// maxResolved bounds the addresses tried for one host.
const maxResolved = 16

// DialContext is an http.Transport's DialContext.
func (g *Guard) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("dial %s: bad port", addr)
	}
	explicit := g.Allow.Explicit(host, port)
	ips, err := g.resolve(ctx, host)
	if err != nil {
		return nil, err
	}
	// One refused address refuses the host: a name that answers with a
	// public and a private address is a rebinding attempt, not a mirror.
	for _, ip := range ips {
		if err := check(host, ip, explicit); err != nil {
			noteRefused(ctx, err)
			return nil, err
		}
	}
	d := net.Dialer{Timeout: g.dialTimeout(), KeepAlive: 30 * time.Second}
	// Defence in depth: the address the socket connects to is checked
	// again, whatever dialled it.
	d.Control = func(_, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return err
		}
		if err := check(host, ap.Addr(), explicit); err != nil {
			noteRefused(ctx, err)
			return err
		}
		return nil
	}
	var errs []error
	for _, ip := range ips {
		c, err := d.DialContext(ctx, network, netip.AddrPortFrom(ip, uint16(p)).String())
		if err == nil {
			return c, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	return nil, errors.Join(errs...)
}

func (g *Guard) dialTimeout() time.Duration {
	if g.DialTimeout > 0 {
		return g.DialTimeout
	}
	return 5 * time.Second
}

func (g *Guard) resolve(ctx context.Context, host string) ([]netip.Addr, error) {
	if ip, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{ip}, nil
	}
	r := g.Resolver
	if r == nil {
		r = net.DefaultResolver
	}
	ips, err := r.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil, err
	}
	if len(ips) == 0 {
		return nil, &net.DNSError{Err: "no addresses", Name: host, IsNotFound: true}
	}
	if len(ips) > maxResolved {
		ips = ips[:maxResolved]
	}
	return ips, nil
}

// check decides one address.
func check(host string, ip netip.Addr, explicit bool) error {
	switch c := Classify(ip); c {
	case ClassPublic:
		return nil
	case ClassLoopback, ClassPrivate:
		if explicit {
			return nil
		}
		return &RefusedError{Host: host, Addr: ip.Unmap(), Class: c}
	default:
		return &RefusedError{Host: host, Addr: ip.Unmap(), Class: c, Explicit: explicit}
	}
}
