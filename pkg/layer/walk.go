// Package layer writes reproducible OCI layers: a sorted tar of a directory
// tree with fixed timestamps, owners and normalised modes, gzipped and hashed
// in one streaming pass. The same tree gives the same bytes on any machine,
// whatever the files' mtimes or the umask.
package layer

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
)

// Type is the kind of a tree entry.
type Type uint8

// Entry types.
const (
	TypeFile Type = iota
	TypeDir
	TypeSymlink
)

// Entry is one file, directory or symlink to put in a layer.
type Entry struct {
	// Path is slash-separated and relative (it includes the walk's Prefix).
	Path string
	// Src is the file's path on disk (regular files).
	Src  string
	Type Type
	// Mode is the normalised permission: 0755 for directories and executable
	// files, 0644 for other files, 0777 for symlinks.
	Mode fs.FileMode
	// Size is a regular file's size at walk time.
	Size int64
	// Link is a symlink's target, as stored (relative).
	Link string
}

// WalkOptions control Walk.
type WalkOptions struct {
	// Prefix is prepended to every entry path (e.g. "node_modules").
	// Directory entries for the prefix itself are emitted.
	Prefix string
	// Skip reports whether the slash path rel (relative to the walked root,
	// without Prefix) is excluded. A skipped directory is not descended.
	Skip func(rel string, isDir bool) bool
}

// EscapeError reports a symlink whose target is outside the tree.
type EscapeError struct {
	Path   string
	Target string
	Reason string
}

func (e *EscapeError) Error() string {
	return fmt.Sprintf("symlink %s -> %s %s: only relative links that stay inside the tree can be packaged; replace it with a copy or add it to .aetherignore", e.Path, e.Target, e.Reason)
}

// UnsupportedError reports a file type that cannot be packaged.
type UnsupportedError struct {
	Path string
	Kind string
}

func (e *UnsupportedError) Error() string {
	return fmt.Sprintf("%s is a %s, which cannot be packaged; remove it or add it to .aetherignore", e.Path, e.Kind)
}

// Walk lists the tree under root, sorted by path, with normalised modes. It
// fails on symlinks that leave root (directly or through other links), on
// absolute symlinks, and on special files (devices, fifos, sockets).
func Walk(root string, opts WalkOptions) ([]Entry, error) {
	root = filepath.Clean(root)
	var entries []Entry
	if opts.Prefix != "" {
		p := ""
		for _, part := range strings.Split(opts.Prefix, "/") {
			p = path.Join(p, part)
			entries = append(entries, Entry{Path: p, Type: TypeDir, Mode: 0o755})
		}
	}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == root {
			return nil
		}
		rel := filepath.ToSlash(p[len(root)+1:])
		if opts.Skip != nil && opts.Skip(rel, d.IsDir()) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		name := rel
		if opts.Prefix != "" {
			name = opts.Prefix + "/" + rel
		}
		switch t := d.Type(); {
		case t.IsDir():
			entries = append(entries, Entry{Path: name, Type: TypeDir, Mode: 0o755})
		case t&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			if err := checkLink(root, rel, target); err != nil {
				return err
			}
			entries = append(entries, Entry{Path: name, Type: TypeSymlink, Mode: 0o777, Link: filepath.ToSlash(target)})
		case t.IsRegular():
			info, err := d.Info()
			if err != nil {
				return err
			}
			mode := fs.FileMode(0o644)
			if info.Mode().Perm()&0o111 != 0 {
				mode = 0o755
			}
			entries = append(entries, Entry{Path: name, Src: p, Type: TypeFile, Mode: mode, Size: info.Size()})
		default:
			return &UnsupportedError{Path: rel, Kind: kindName(t)}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	SortEntries(entries)
	return entries, nil
}

// SortEntries sorts by path bytes; a directory sorts before its children
// because its path is their prefix.
func SortEntries(entries []Entry) {
	sort.Slice(entries, func(i, j int) bool { return entries[i].Path < entries[j].Path })
}

func kindName(t fs.FileMode) string {
	switch {
	case t&fs.ModeNamedPipe != 0:
		return "named pipe (fifo)"
	case t&fs.ModeSocket != 0:
		return "socket"
	case t&fs.ModeDevice != 0:
		return "device file"
	}
	return "special file"
}

// checkLink resolves the symlink at rel (relative to root) component by
// component, following links that are themselves inside root, and fails if
// any step leaves root. A dangling target is fine as long as its path stays
// inside.
func checkLink(root, rel, target string) error {
	if filepath.IsAbs(target) || strings.HasPrefix(target, "/") {
		return &EscapeError{Path: rel, Target: target, Reason: "is absolute"}
	}
	if _, err := ResolveInRoot(root, path.Dir(rel)+"/"+filepath.ToSlash(target)); err != nil {
		var esc *EscapeError
		if errors.As(err, &esc) {
			esc.Path, esc.Target = rel, target
			return esc
		}
		return fmt.Errorf("symlink %s -> %s: %w", rel, target, err)
	}
	return nil
}

// maxLinkHops bounds symlink resolution (Linux allows 40).
const maxLinkHops = 40

// ResolveInRoot resolves the slash path p (relative to root) inside root,
// following symlinks one component at a time as the kernel would, and returns
// the resolved relative path. It fails with *EscapeError when a step would
// leave root, when a link is absolute, or after too many links. Components
// that do not exist are taken lexically.
func ResolveInRoot(root, p string) (string, error) {
	var resolved []string
	pending := splitPath(p)
	hops := 0
	for len(pending) > 0 {
		c := pending[0]
		pending = pending[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			if len(resolved) == 0 {
				return "", &EscapeError{Path: p, Target: p, Reason: "leaves the tree"}
			}
			resolved = resolved[:len(resolved)-1]
			continue
		}
		cand := append(append([]string(nil), resolved...), c)
		full := filepath.Join(root, filepath.FromSlash(strings.Join(cand, "/")))
		fi, err := os.Lstat(full)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
				resolved = cand
				continue
			}
			return "", err
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			resolved = cand
			continue
		}
		hops++
		if hops > maxLinkHops {
			return "", &EscapeError{Path: p, Target: p, Reason: "has too many levels of symbolic links"}
		}
		t, err := os.Readlink(full)
		if err != nil {
			return "", err
		}
		if filepath.IsAbs(t) || strings.HasPrefix(t, "/") {
			return "", &EscapeError{Path: p, Target: t, Reason: "goes through an absolute symlink"}
		}
		pending = append(splitPath(filepath.ToSlash(t)), pending...)
	}
	return strings.Join(resolved, "/"), nil
}

func splitPath(p string) []string { return strings.Split(p, "/") }
