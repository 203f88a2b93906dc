//go:build unix

package extract

import (
	"bufio"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// isMountPoint reports whether dir is on another device than its parent.
func isMountPoint(dir, parent string) bool {
	a, errA := os.Stat(dir)
	b, errB := os.Stat(parent)
	if errA != nil || errB != nil {
		return false
	}
	sa, okA := a.Sys().(*syscall.Stat_t)
	sb, okB := b.Sys().(*syscall.Stat_t)
	return okA && okB && sa.Dev != sb.Dev
}

// processUmask reads the umask without changing it (syscall.Umask would
// race with other goroutines creating files). Linux shows it in
// /proc/self/status; elsewhere it is unknown and every mode is set with an
// explicit chmod.
func processUmask() (fs.FileMode, bool) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, false
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), "Umask:"); ok {
			m, err := strconv.ParseUint(strings.TrimSpace(v), 8, 32)
			if err != nil {
				return 0, false
			}
			return fs.FileMode(m) & fs.ModePerm, true
		}
	}
	return 0, false
}

// renameDir renames a directory onto new, replacing new if it is an empty
// directory. os.Rename refuses any existing directory; rename(2) replaces
// an empty one atomically, which is what keeps DEST "untouched or
// complete" even when the pod pre-creates it.
func renameDir(old, new string) error {
	if err := syscall.Rename(old, new); err != nil {
		return &os.LinkError{Op: "rename", Old: old, New: new, Err: err}
	}
	return nil
}
