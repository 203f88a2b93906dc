package ignore

import (
	"strings"
	"testing"
)

func TestMatch(t *testing.T) {
	tests := []struct {
		patterns []string
		path     string
		isDir    bool
		want     bool
	}{
		{[]string{"*.log"}, "debug.log", false, true},
		{[]string{"*.log"}, "logs/debug.log", false, true},
		{[]string{"*.log"}, "debug.log.txt", false, false},
		{[]string{"/build"}, "build", true, true},
		{[]string{"/build"}, "src/build", true, false},
		{[]string{"build/"}, "build", false, false},
		{[]string{"build/"}, "build", true, true},
		{[]string{"build/"}, "src/build", true, true},
		{[]string{"doc/*.txt"}, "doc/notes.txt", false, true},
		{[]string{"doc/*.txt"}, "doc/server/arch.txt", false, false},
		{[]string{"**/foo"}, "foo", false, true},
		{[]string{"**/foo"}, "a/b/foo", false, true},
		{[]string{"**/foo/bar"}, "x/foo/bar", false, true},
		{[]string{"abc/**"}, "abc/x/y", false, true},
		{[]string{"abc/**"}, "abc", true, false},
		{[]string{"a/**/b"}, "a/b", false, true},
		{[]string{"a/**/b"}, "a/x/y/b", false, true},
		{[]string{"a/**/b"}, "ab", false, false},
		{[]string{"*.md", "!README.md"}, "README.md", false, false},
		{[]string{"*.md", "!README.md"}, "CHANGES.md", false, true},
		{[]string{"!README.md", "*.md"}, "README.md", false, true},
		{[]string{"file?.js"}, "file1.js", false, true},
		{[]string{"file?.js"}, "file10.js", false, false},
		{[]string{"file[0-9].js"}, "file7.js", false, true},
		{[]string{"file[!0-9].js"}, "file7.js", false, false},
		{[]string{"file[!0-9].js"}, "filex.js", false, true},
		{[]string{`\#notes`}, "#notes", false, true},
		{[]string{`\!important`}, "!important", false, true},
		{[]string{"# comment", "", "   "}, "# comment", false, false},
		{[]string{"trailing   "}, "trailing", false, true},
		{[]string{`space\ `}, "space ", false, true},
		{[]string{"test/fixtures"}, "test/fixtures", true, true},
		{[]string{"test/fixtures"}, "x/test/fixtures", true, false},
		{[]string{"*.tar.gz"}, "dist/app.tar.gz", false, true},
		{[]string{"(a+b).js"}, "(a+b).js", false, true},
		{[]string{"(a+b).js"}, "aab.js", false, false},
	}
	for _, tt := range tests {
		m, err := New(tt.patterns...)
		if err != nil {
			t.Fatalf("New(%q): %v", tt.patterns, err)
		}
		if got := m.Match(tt.path, tt.isDir); got != tt.want {
			t.Errorf("patterns %q: Match(%q, dir=%v) = %v, want %v", tt.patterns, tt.path, tt.isDir, got, tt.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	_, err := Parse(".aetherignore", strings.NewReader("ok\nbad[\n"))
	if err == nil || !strings.Contains(err.Error(), ".aetherignore:2") || !strings.Contains(err.Error(), "unterminated") {
		t.Fatalf("want an error naming line 2 and the problem, got %v", err)
	}
	many := strings.Repeat("x\n", MaxPatterns+1)
	if _, err := Parse("big", strings.NewReader(many)); err == nil || !strings.Contains(err.Error(), "more than") {
		t.Fatalf("want a pattern-count error, got %v", err)
	}
}

func TestNilMatcher(t *testing.T) {
	var m *Matcher
	if m.Match("a", false) || m.Len() != 0 {
		t.Fatal("nil matcher must match nothing")
	}
}

func FuzzMatch(f *testing.F) {
	f.Add("*.log\n!keep.log\nbuild/\na/**/b", "a/x/b", true)
	f.Add("[", "x", false)
	f.Add("\\", "\\", false)
	f.Fuzz(func(t *testing.T, patterns, path string, isDir bool) {
		m, err := Parse("fuzz", strings.NewReader(patterns))
		if err != nil {
			return
		}
		_ = m.Match(path, isDir)
	})
}
