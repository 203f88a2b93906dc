// Package ignore matches paths against gitignore-syntax patterns, as read
// from an .aetherignore file.
//
// Supported: comments (#), blank lines, negation (!), escaped leading # and !
// (\# \!), trailing-space trimming (unless escaped), directory-only patterns
// (trailing /), anchoring (a / at the start or in the middle), *, ?, [...]
// classes, and ** in the leading (**/x), trailing (x/**) and middle (a/**/b)
// positions. As in git, a path inside an excluded directory cannot be
// re-included, because the walk never enters that directory.
package ignore

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"regexp"
	"strings"
)

// MaxPatterns bounds the number of patterns read from one file.
const MaxPatterns = 10000

// Matcher holds compiled patterns; the last matching pattern wins.
type Matcher struct {
	rules []rule
}

type rule struct {
	negate  bool
	dirOnly bool
	re      *regexp.Regexp
	src     string
}

// Parse reads gitignore-syntax patterns from r. The name is used in errors.
func Parse(name string, r io.Reader) (*Matcher, error) {
	m := &Matcher{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 64<<10)
	line := 0
	for sc.Scan() {
		line++
		if err := m.Add(sc.Text()); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, line, err)
		}
		if len(m.rules) > MaxPatterns {
			return nil, fmt.Errorf("%s: more than %d patterns", name, MaxPatterns)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return m, nil
}

// New compiles the given patterns.
func New(patterns ...string) (*Matcher, error) {
	m := &Matcher{}
	for _, p := range patterns {
		if err := m.Add(p); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// Add compiles one gitignore line (comments and blank lines are ignored).
func (m *Matcher) Add(line string) error {
	line = strings.TrimSuffix(line, "\r")
	line = trimTrailingSpace(line)
	if line == "" || strings.HasPrefix(line, "#") {
		return nil
	}
	src := line
	r := rule{src: src}
	if strings.HasPrefix(line, "!") {
		r.negate = true
		line = line[1:]
	} else if strings.HasPrefix(line, `\!`) || strings.HasPrefix(line, `\#`) {
		line = line[1:]
	}
	if strings.HasSuffix(line, "/") {
		r.dirOnly = true
		line = strings.TrimRight(line, "/")
	}
	if line == "" {
		return nil
	}
	anchored := strings.Contains(line, "/")
	line = strings.TrimPrefix(line, "/")
	expr, err := globToRegexp(line)
	if err != nil {
		return fmt.Errorf("pattern %q: %w", src, err)
	}
	if !anchored {
		// A pattern without a slash matches at any depth.
		expr = "(?:.*/)?" + expr
	}
	re, err := regexp.Compile("^" + expr + "$")
	if err != nil {
		return fmt.Errorf("pattern %q: %w", src, err)
	}
	r.re = re
	m.rules = append(m.rules, r)
	return nil
}

// Match reports whether the slash-separated relative path is ignored.
// isDir tells whether it names a directory.
func (m *Matcher) Match(path string, isDir bool) bool {
	if m == nil {
		return false
	}
	ignored := false
	for i := range m.rules {
		r := &m.rules[i]
		if r.dirOnly && !isDir {
			continue
		}
		if r.re.MatchString(path) {
			ignored = !r.negate
		}
	}
	return ignored
}

// Len returns the number of patterns.
func (m *Matcher) Len() int {
	if m == nil {
		return 0
	}
	return len(m.rules)
}

func trimTrailingSpace(s string) string {
	for strings.HasSuffix(s, " ") && !strings.HasSuffix(s, `\ `) {
		s = s[:len(s)-1]
	}
	if strings.HasSuffix(s, `\ `) {
		s = s[:len(s)-2] + " "
	}
	return s
}

// globToRegexp translates one gitignore glob (without leading / or trailing
// /) into a regular expression.
func globToRegexp(glob string) (string, error) {
	var b bytes.Buffer
	segs := strings.Split(glob, "/")
	for i, seg := range segs {
		last := i == len(segs)-1
		if seg == "**" {
			switch {
			case len(segs) == 1:
				b.WriteString(".*")
			case i == 0:
				b.WriteString("(?:.*/)?")
			case last:
				b.WriteString(".*")
			default:
				b.WriteString("(?:.*/)?")
			}
			continue
		}
		if err := segmentToRegexp(&b, seg); err != nil {
			return "", err
		}
		if !last {
			b.WriteString("/")
		}
	}
	return b.String(), nil
}

func segmentToRegexp(b *bytes.Buffer, seg string) error {
	for i := 0; i < len(seg); i++ {
		c := seg[i]
		switch c {
		case '*':
			// Consecutive stars inside a segment behave like one.
			for i+1 < len(seg) && seg[i+1] == '*' {
				i++
			}
			b.WriteString("[^/]*")
		case '?':
			b.WriteString("[^/]")
		case '\\':
			if i+1 < len(seg) {
				i++
				b.WriteString(regexp.QuoteMeta(string(seg[i])))
			} else {
				b.WriteString(`\\`)
			}
		case '[':
			end := strings.IndexByte(seg[i+1:], ']')
			if end < 0 {
				return fmt.Errorf("unterminated character class")
			}
			class := seg[i+1 : i+1+end]
			if end == 0 { // "[]...]": ']' first is literal
				end2 := strings.IndexByte(seg[i+2:], ']')
				if end2 < 0 {
					return fmt.Errorf("unterminated character class")
				}
				class = seg[i+1 : i+2+end2]
				end = end2 + 1
			}
			if strings.HasPrefix(class, "!") {
				class = "^" + class[1:]
			}
			class = strings.ReplaceAll(class, `\`, `\\`)
			b.WriteString("[" + class + "]")
			i += end + 1
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	return nil
}
