//go:build !unix

package extract

import (
	"io/fs"
	"os"
)

func isMountPoint(dir, parent string) bool { return false }

func processUmask() (fs.FileMode, bool) { return 0, false }

// renameDir replaces an empty directory at new; not atomic here.
func renameDir(old, new string) error {
	if err := os.Remove(new); err != nil && !os.IsNotExist(err) {
		return err
	}
	return os.Rename(old, new)
}
