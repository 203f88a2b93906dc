package extract

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

type destDirs struct{ dest, tmp string }

// prepareDest checks DEST and makes the private temporary sibling the
// layers are extracted into. A sibling, not a directory under /tmp: the
// final rename must not cross file systems. MkdirTemp makes it 0700, so no
// other user can race the extraction inside it.
func prepareDest(dest string) (destDirs, error) {
	if dest == "" {
		return destDirs{}, fmt.Errorf("%w: DEST is empty", ErrDest)
	}
	abs, err := filepath.Abs(dest)
	if err != nil {
		return destDirs{}, fmt.Errorf("%w: %v", ErrDest, err)
	}
	parent := filepath.Dir(abs)
	if parent == abs {
		return destDirs{}, fmt.Errorf("%w: DEST %s is the file system root", ErrDest, abs)
	}
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return destDirs{}, fmt.Errorf("%w: cannot create the parent of DEST: %v", ErrDest, err)
	}
	fi, err := os.Lstat(abs)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return destDirs{}, fmt.Errorf("%w: %v", ErrDest, err)
	case fi.Mode()&fs.ModeSymlink != 0:
		return destDirs{}, fmt.Errorf("%w: DEST %s is a symlink; give the real path", ErrDest, abs)
	case !fi.IsDir():
		return destDirs{}, fmt.Errorf("%w: DEST %s exists and is not a directory", ErrDest, abs)
	default:
		empty, err := isEmptyDir(abs)
		if err != nil {
			return destDirs{}, fmt.Errorf("%w: %v", ErrDest, err)
		}
		if !empty {
			return destDirs{}, fmt.Errorf("%w: DEST %s is not empty; extract into an absent or empty directory", ErrDest, abs)
		}
		if isMountPoint(abs, parent) {
			return destDirs{}, fmt.Errorf("%w: DEST %s is a mount point; the atomic rename needs a path inside the volume (mount the volume at %s, use %s/app)", ErrDest, abs, abs, abs)
		}
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(abs)+".extract-")
	if err != nil {
		return destDirs{}, fmt.Errorf("%w: cannot create a temporary directory next to DEST: %v", ErrDest, err)
	}
	return destDirs{dest: abs, tmp: tmp}, nil
}

func isEmptyDir(dir string) (bool, error) {
	f, err := os.Open(dir)
	if err != nil {
		return false, err
	}
	defer f.Close()
	_, err = f.Readdirnames(1)
	if err == io.EOF {
		return true, nil
	}
	return false, err
}

// publish makes the finished tree DEST in one rename. rename(2) replaces
// an empty directory atomically and fails on a non-empty one, so a DEST
// that filled up meanwhile is never merged into.
func publish(tmp, dest string) error {
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	if err := renameDir(tmp, dest); err != nil {
		return fmt.Errorf("%w: cannot move the extracted tree to DEST: %v", ErrDest, err)
	}
	return nil
}

// applyDirModes gives directories the modes their entries asked for, the
// deepest first, so a read-only parent cannot block a child's chmod.
func (x *Extractor) applyDirModes() error {
	created := createdDirMode &^ x.umask
	var todo []string
	for d, mode := range x.dirs {
		if d != "" && (mode != created || !x.umaskOK) {
			todo = append(todo, d)
		}
	}
	sort.Slice(todo, func(i, j int) bool {
		return strings.Count(todo[i], "/") > strings.Count(todo[j], "/")
	})
	for _, d := range todo {
		if err := os.Chmod(x.abs(d), x.dirs[d]); err != nil {
			return fmt.Errorf("directory %q: %w", d, err)
		}
	}
	return nil
}

// removeTree removes the temporary tree, making directories writable first
// if a plain RemoveAll fails (the archive may have asked for 0555).
func removeTree(dir string) error {
	if err := os.RemoveAll(dir); err == nil {
		return nil
	}
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			_ = os.Chmod(p, 0o700)
		}
		return nil
	})
	return os.RemoveAll(dir)
}
