package sbom

import (
	"encoding/json"
	"strings"
	"sync"

	cdx "github.com/CycloneDX/cyclonedx-go"
)

// spdxIDs maps the lowercased SPDX license and exception ids to their
// canonical spelling. The list is the enum of the embedded spdx.schema.json,
// the very list Validate checks license.id against, so what we write as an
// id always validates.
var spdxIDs = sync.OnceValue(func() map[string]string {
	data, err := schemaFS.ReadFile("schema/spdx.schema.json")
	if err != nil {
		panic("sbom: embedded spdx.schema.json missing: " + err.Error())
	}
	var s struct {
		Enum []string `json:"enum"`
	}
	if err := json.Unmarshal(data, &s); err != nil || len(s.Enum) == 0 {
		panic("sbom: embedded spdx.schema.json has no enum")
	}
	ids := make(map[string]string, len(s.Enum))
	for _, id := range s.Enum {
		ids[strings.ToLower(id)] = id
	}
	return ids
})

// spdxID returns the canonical SPDX id matching s (ids match without regard
// to case, as the SPDX specification says).
func spdxID(s string) (string, bool) {
	id, ok := spdxIDs()[strings.ToLower(s)]
	return id, ok
}

// licenseChoices turns a package's declared license into CycloneDX: a known
// SPDX id becomes license.id, a valid SPDX expression becomes expression,
// anything else ("SEE LICENSE IN LICENSE.md", "UNLICENSED", "BSD") becomes
// license.name. All are "declared": they come from the package's metadata,
// not from reading its files.
func licenseChoices(s string) *cdx.Licenses {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	declared := cdx.LicenseAcknowledgementDeclared
	if id, ok := spdxID(s); ok {
		return &cdx.Licenses{{License: &cdx.License{ID: id, Acknowledgement: declared}}}
	}
	if isSPDXExpression(s) {
		return &cdx.Licenses{{Expression: s, Acknowledgement: &declared}}
	}
	return &cdx.Licenses{{License: &cdx.License{Name: s, Acknowledgement: declared}}}
}

// isSPDXExpression reports whether s is a valid SPDX license expression
// (SPDX 2.3 annex D): ids or LicenseRefs, optionally with "+", joined by
// AND / OR, with WITH exceptions and parentheses. Operators must be upper
// case, as the specification and npm's own parser require.
func isSPDXExpression(s string) bool {
	toks := tokenizeExpression(s)
	if len(toks) == 0 || len(toks) > 1000 {
		return false
	}
	p := exprParser{toks: toks}
	return p.compound(0) && p.pos == len(p.toks)
}

func tokenizeExpression(s string) []string {
	var toks []string
	for _, f := range strings.Fields(s) {
		for f != "" {
			i := strings.IndexAny(f, "()")
			switch {
			case i < 0:
				toks = append(toks, f)
				f = ""
			case i == 0:
				toks = append(toks, f[:1])
				f = f[1:]
			default:
				toks = append(toks, f[:i])
				f = f[i:]
			}
		}
	}
	return toks
}

// exprParser is a recursive-descent parser over expression tokens.
type exprParser struct {
	toks []string
	pos  int
}

func (p *exprParser) peek() string {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return ""
}

// compound = term { ("AND" | "OR") term }. depth bounds the nesting.
func (p *exprParser) compound(depth int) bool {
	if depth > 50 || !p.term(depth) {
		return false
	}
	for op := p.peek(); op == "AND" || op == "OR"; op = p.peek() {
		p.pos++
		if !p.term(depth) {
			return false
		}
	}
	return true
}

// term = "(" compound ")" | simple [ "WITH" exception ].
func (p *exprParser) term(depth int) bool {
	if p.peek() == "(" {
		p.pos++
		if !p.compound(depth+1) || p.peek() != ")" {
			return false
		}
		p.pos++
		return true
	}
	if !isSimpleLicense(p.peek()) {
		return false
	}
	p.pos++
	if p.peek() == "WITH" {
		p.pos++
		if _, ok := spdxID(p.peek()); !ok {
			return false
		}
		p.pos++
	}
	return true
}

// isSimpleLicense accepts an SPDX id (optionally with "+"), LicenseRef-x or
// DocumentRef-x:LicenseRef-y.
func isSimpleLicense(t string) bool {
	switch {
	case t == "" || t == "AND" || t == "OR" || t == "WITH" || t == "(" || t == ")":
		return false
	case strings.HasPrefix(t, "LicenseRef-"):
		return isIDString(t[len("LicenseRef-"):])
	case strings.HasPrefix(t, "DocumentRef-"):
		doc, ref, ok := strings.Cut(t[len("DocumentRef-"):], ":LicenseRef-")
		return ok && isIDString(doc) && isIDString(ref)
	}
	if _, ok := spdxID(t); ok {
		return true
	}
	_, ok := spdxID(strings.TrimSuffix(t, "+"))
	return ok && strings.HasSuffix(t, "+")
}

func isIDString(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}
