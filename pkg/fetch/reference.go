package fetch

import (
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
)

// maxReferenceLen bounds a reference; the distribution spec caps a
// repository name at 255 characters, and a digest adds ~72.
const maxReferenceLen = 1024

// ErrTagNotAllowed is returned for a reference by tag without AllowTag.
var ErrTagNotAllowed = errors.New("reference is a tag, not a digest")

// ParseReference parses an artifact reference. A reference by digest
// (REPO@sha256:HEX) is always accepted; a tag only with allowTag, because a
// tag can move between the deploy decision and the pull. Registries on the
// loopback interface, and every registry when plainHTTP is set, are
// contacted over plain HTTP.
func ParseReference(s string, allowTag, plainHTTP bool) (name.Reference, error) {
	if s == "" {
		return nil, errors.New("empty reference: give REPO@sha256:<digest>")
	}
	if len(s) > maxReferenceLen {
		return nil, fmt.Errorf("reference is %d bytes long, over the limit of %d", len(s), maxReferenceLen)
	}
	if strings.ContainsAny(s, " \t\r\n") {
		return nil, fmt.Errorf("reference %q contains white space", s)
	}
	var opts []name.Option
	if plainHTTP {
		opts = append(opts, name.Insecure)
	}
	ref, err := name.ParseReference(s, opts...)
	if err != nil {
		return nil, fmt.Errorf("invalid reference %q: %v", s, err)
	}
	if !plainHTTP && isLoopback(ref.Context().RegistryStr()) {
		if ref, err = name.ParseReference(s, name.Insecure); err != nil {
			return nil, fmt.Errorf("invalid reference %q: %v", s, err)
		}
	}
	switch r := ref.(type) {
	case name.Digest:
		if !strings.HasPrefix(r.DigestStr(), "sha256:") {
			return nil, fmt.Errorf("reference %q: only sha256 digests are supported", s)
		}
	case name.Tag:
		if !allowTag {
			return nil, fmt.Errorf("%w: %q can change after the deploy was decided; pass %s@sha256:<digest> (or --allow-tag to resolve the tag once)", ErrTagNotAllowed, s, r.Context().Name())
		}
	}
	return ref, nil
}

// isLoopback reports whether a registry host (with optional port) is
// localhost or a loopback address.
func isLoopback(registry string) bool {
	host := registry
	if h, _, err := net.SplitHostPort(registry); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
