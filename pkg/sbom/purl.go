package sbom

import (
	"strings"
)

// NpmPURL is the package URL of an npm package: pkg:npm/name@version, or
// pkg:npm/%40scope/name@version for a scoped one (the scope is the purl
// namespace). Names are kept as they are, not lowercased: npm still serves
// legacy mixed-case packages (JSONStream) under their exact names. An empty
// version gives a purl without one.
func NpmPURL(name, version string) string {
	var b strings.Builder
	b.WriteString("pkg:npm/")
	scope, base := splitScope(name)
	if scope != "" {
		b.WriteString(purlEscape(scope))
		b.WriteByte('/')
	}
	b.WriteString(purlEscape(base))
	if version != "" {
		b.WriteByte('@')
		b.WriteString(purlEscape(version))
	}
	return b.String()
}

// splitScope splits "@scope/name" into "@scope" and "name"; an unscoped name
// has no scope. The scope keeps its "@", as the purl namespace and the
// CycloneDX group do (cyclonedx-npm writes group "@types", name "node").
func splitScope(name string) (scope, base string) {
	if strings.HasPrefix(name, "@") {
		if i := strings.IndexByte(name, '/'); i > 1 && i < len(name)-1 {
			return name[:i], name[i+1:]
		}
	}
	return "", name
}

// purlEscape percent-encodes a purl component as the purl specification
// says: ASCII letters, digits, '.', '-', '_', '~' and ':' stay, every other
// byte of the UTF-8 form becomes %XX (so '@' is %40, '+' is %2B, '/' is %2F).
func purlEscape(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte(".-_~:", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}
