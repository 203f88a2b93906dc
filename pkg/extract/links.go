package extract

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"strings"
)

// maxSymlinkHops is Linux's MAXSYMLINKS: the kernel gives up after 40.
const maxSymlinkHops = 40

// checkSymlinks resolves every symlink of the finished tree, component by
// component, on disk, and refuses the extraction if one leads outside the
// root. Each link was checked lexically when it was written, but a lexical
// check cannot see chains: with `d -> .`, `e -> d/..` is lexically "." yet
// resolves to the root's parent. Running after the last layer makes the
// order of entries irrelevant.
func (x *Extractor) checkSymlinks() error {
	names := make([]string, 0, len(x.links))
	for n := range x.links {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if rule, detail, err := x.resolveInside(n); err != nil {
			return fmt.Errorf("checking symlink %q: %w", n, err)
		} else if rule != "" {
			return &Error{Layer: x.links[n].layer, Entry: n, Rule: rule, Detail: detail}
		}
	}
	return nil
}

// resolveInside follows the symlink at name like the kernel would, with the
// root as a wall: ".." at the root escapes. Directories on the way are
// lstat-ed, so a link is never followed by the lookup itself. A missing
// component ends the physical walk (the link dangles) and the rest is
// checked lexically, so creating that path later cannot make it escape.
func (x *Extractor) resolveInside(name string) (Rule, string, error) {
	target := x.links[name].target
	var stack []string // resolved real directories, from the root
	if p := parentOf(name); p != "" {
		stack = strings.Split(p, "/")
	}
	pending := strings.Split(target, "/")
	hops := 0
	escape := func(via string) (Rule, string, error) {
		return RuleSymlinkEscape, fmt.Sprintf("target %s resolves outside the extraction root%s", quoteEntry(target), via), nil
	}
	for len(pending) > 0 {
		c := pending[0]
		pending = pending[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			if len(stack) == 0 {
				if hops > 0 {
					return escape(" through other symlinks")
				}
				return escape("")
			}
			stack = stack[:len(stack)-1]
			continue
		}
		p := strings.Join(append(stack, c), "/")
		fi, err := os.Lstat(x.abs(p))
		switch {
		case errors.Is(err, fs.ErrNotExist), err == nil && fi.Mode().IsRegular():
			// Dangling, or a file: the kernel stops here. Check the rest
			// lexically from this point.
			rest := strings.Join(pending, "/")
			if !lexicallyInside(p, rest) {
				return escape(" once its missing parts exist")
			}
			return "", "", nil
		case err != nil:
			return "", "", err
		case fi.Mode()&fs.ModeSymlink != 0:
			hops++
			if hops > maxSymlinkHops {
				return RuleSymlinkLoop, fmt.Sprintf("resolving target %s takes more than %d symlinks", quoteEntry(target), maxSymlinkHops), nil
			}
			next, err := os.Readlink(x.abs(p))
			if err != nil {
				return "", "", err
			}
			if strings.HasPrefix(next, "/") {
				return RuleSymlinkAbsolute, fmt.Sprintf("target %s goes through %q, which is absolute", quoteEntry(target), p), nil
			}
			pending = append(strings.Split(next, "/"), pending...)
		case fi.IsDir():
			stack = append(stack, c)
		default:
			return "", "", fmt.Errorf("unexpected file type %v at %q", fi.Mode().Type(), p)
		}
	}
	return "", "", nil
}
