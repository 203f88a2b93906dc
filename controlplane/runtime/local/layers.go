package local

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/aetherengine/aether/pkg/artifact"
	"github.com/aetherengine/aether/pkg/fetch"
)

// sharedLayers keeps one extracted, verified copy of each dependency layer
// (by digest) and hard-links it into every deployment that uses it: a
// code-only redeploy extracts only the app's own files, not thousands of
// node_modules files again. Hard links (not a symlink to the share) keep
// every path the app sees inside its own directory, so packages that walk
// up from __dirname still find the app. A layer is shared only when every
// entry of it lies under node_modules/ (what aether build writes); its
// files are made read-only, since every deployment shares their inodes.
type sharedLayers struct {
	dir string
}

const completeMark = ".complete"

// unusedFor is how long an unreferenced shared layer is kept.
const unusedFor = time.Hour

func (s *sharedLayers) path(digest string) string {
	_, hex, _ := strings.Cut(digest, ":")
	return filepath.Join(s.dir, hex)
}

// has is fetch.Options.SkipLayer: a dependency layer already shared is
// not downloaded again. Using a layer marks it as recently used.
func (s *sharedLayers) has(l v1.Descriptor) bool {
	if l.Annotations[artifact.AnnotationLayerRole] != artifact.RoleDependencies || l.Digest.Hex == "" {
		return false
	}
	mark := filepath.Join(s.path(l.Digest.String()), completeMark)
	if _, err := os.Stat(mark); err != nil {
		return false
	}
	now := time.Now()
	_ = os.Chtimes(mark, now, now)
	return true
}

// link puts the shared dependency layer into appDir: a skipped layer is
// hard-linked from its shared copy; a freshly extracted one is first moved
// into the share (when it qualifies), then linked back.
func (s *sharedLayers) link(appDir string, res *fetch.Result) error {
	for i, lr := range res.LayerResults {
		if lr.Role != artifact.RoleDependencies {
			continue
		}
		shared := s.path(lr.Digest)
		nm := filepath.Join(appDir, "node_modules")
		if !lr.Skipped {
			if !onlyUnderNodeModules(res.Config, i) {
				continue // not shareable: it stays extracted in place
			}
			if _, err := os.Lstat(nm); err != nil {
				continue // an empty dependency layer
			}
			if err := s.adopt(nm, shared); err != nil {
				return err
			}
		}
		if err := linkTree(filepath.Join(shared, "node_modules"), nm); err != nil {
			return fmt.Errorf("linking the shared dependency layer %s: %w", lr.Digest, err)
		}
	}
	return nil
}

// adopt moves a verified node_modules tree into the share under its
// layer's digest. When another rollout shared the same digest first, ours
// is dropped: both are the same verified content.
func (s *sharedLayers) adopt(nm, shared string) error {
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(s.dir, ".adopt-")
	if err != nil {
		return err
	}
	if err := os.Rename(nm, filepath.Join(tmp, "node_modules")); err != nil {
		os.RemoveAll(tmp)
		return fmt.Errorf("sharing the dependency layer: %w", err)
	}
	readOnly(filepath.Join(tmp, "node_modules"))
	if err := os.WriteFile(filepath.Join(tmp, completeMark), nil, 0o400); err != nil {
		os.RemoveAll(tmp)
		return err
	}
	if err := os.Rename(tmp, shared); err != nil {
		if _, serr := os.Stat(filepath.Join(shared, completeMark)); serr == nil {
			go removeAll(tmp)
			return nil
		}
		os.RemoveAll(tmp)
		return fmt.Errorf("sharing the dependency layer: %w", err)
	}
	return nil
}

// linkTree recreates src at dst with directories, hard links to src's
// files, and symlinks.
func linkTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		switch t := d.Type(); {
		case t.IsDir():
			return os.Mkdir(target, 0o755)
		case t&fs.ModeSymlink != 0:
			l, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(l, target)
		case t.IsRegular():
			return os.Link(p, target)
		}
		return fmt.Errorf("%s: unexpected file type %s in a shared layer", p, d.Type())
	})
}

// onlyUnderNodeModules reports whether layer i of the config lists only
// entries under node_modules/.
func onlyUnderNodeModules(cfg *artifact.Config, i int) bool {
	if cfg == nil || i >= len(cfg.Layers) || len(cfg.Layers[i].Files) == 0 {
		return false
	}
	for _, f := range cfg.Layers[i].Files {
		if !strings.HasPrefix(f.Path, "node_modules/") {
			return false
		}
	}
	return true
}

// readOnly drops the write bits of a shared tree, so an app that writes
// into its node_modules fails instead of changing what later deployments
// run.
func readOnly(root string) {
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.Type()&fs.ModeSymlink != 0 {
			return nil
		}
		if info, err := d.Info(); err == nil && !d.IsDir() {
			_ = os.Chmod(p, info.Mode().Perm()&^0o222)
		}
		return nil
	})
}

// removeAll deletes a tree whose files may be read-only (directories are
// made writable first).
func removeAll(root string) {
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			_ = os.Chmod(p, 0o700)
		}
		return nil
	})
	_ = os.RemoveAll(root)
}

// prune deletes shared layers not used for an hour. Deployments hold
// their own hard links, so a pruned layer only costs the next deploy that
// needs it one extraction.
func (s *sharedLayers) prune() {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".adopt-") {
			if fi, err := e.Info(); err == nil && time.Since(fi.ModTime()) > unusedFor {
				removeAll(filepath.Join(s.dir, name))
			}
			continue
		}
		fi, err := os.Stat(filepath.Join(s.dir, name, completeMark))
		if errors.Is(err, fs.ErrNotExist) || (err == nil && time.Since(fi.ModTime()) > unusedFor) {
			removeAll(filepath.Join(s.dir, name))
		}
	}
}

// shortDigest abbreviates a digest for log lines.
func shortDigest(d string) string {
	if len(d) > 19 {
		return d[:19]
	}
	return d
}
