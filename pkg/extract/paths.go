package extract

import (
	"strconv"
	"strings"
)

// cleanName turns an entry name (or a hardlink target) into a relative,
// slash-separated path with no empty, "." or ".." components. It refuses
// instead of repairing: "a/../b" stays inside the root lexically, but no
// honest archive writer produces it, so it is treated as an attack.
// The root itself ("." or "./") yields "" with no rule broken.
func cleanName(name string, maxLen int) (string, Rule, string) {
	if len(name) > maxLen {
		return "", RulePathLength, "name is longer than the limit of " + strconv.Itoa(maxLen) + " bytes"
	}
	if strings.IndexByte(name, 0) >= 0 {
		return "", RuleInvalidPath, "name contains a NUL byte"
	}
	if strings.HasPrefix(name, "/") {
		return "", RuleAbsolutePath, "absolute paths would be written outside the extraction root"
	}
	// Fast path: most names are already clean ("node_modules/x/index.js").
	if isClean(name) {
		return name, "", ""
	}
	parts := make([]string, 0, strings.Count(name, "/")+1)
	for _, c := range strings.Split(name, "/") {
		switch c {
		case "", ".":
			continue
		case "..":
			return "", RulePathTraversal, `".." components would leave the extraction root`
		}
		if len(c) > maxNameLen {
			return "", RulePathLength, "a path component is longer than 255 bytes"
		}
		parts = append(parts, c)
	}
	return strings.Join(parts, "/"), "", ""
}

// isClean reports whether name needs no rewriting and breaks no rule: no
// empty, ".", ".." or over-long component.
func isClean(name string) bool {
	if name == "" {
		return false
	}
	start := 0
	for i := 0; i <= len(name); i++ {
		if i < len(name) && name[i] != '/' {
			continue
		}
		c := name[start:i]
		if c == "" || c == "." || c == ".." || len(c) > maxNameLen {
			return false
		}
		start = i + 1
	}
	return true
}

// parentOf returns the parent of a clean relative path ("" for the root).
func parentOf(p string) string {
	i := strings.LastIndexByte(p, '/')
	if i < 0 {
		return ""
	}
	return p[:i]
}

// baseOf returns the last component of a clean relative path.
func baseOf(p string) string {
	return p[strings.LastIndexByte(p, '/')+1:]
}

// lexicallyInside reports whether joining target to the directory dir (both
// relative to the root) stays inside the root, reading ".." lexically.
func lexicallyInside(dir, target string) bool {
	depth := 0
	if dir != "" {
		depth = strings.Count(dir, "/") + 1
	}
	for _, c := range strings.Split(target, "/") {
		switch c {
		case "", ".":
		case "..":
			depth--
			if depth < 0 {
				return false
			}
		default:
			depth++
		}
	}
	return true
}
