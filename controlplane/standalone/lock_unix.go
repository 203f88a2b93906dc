//go:build unix

package standalone

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// lockState takes an exclusive lock on the state directory, so that two
// `aether up` never share a database, registry and apps. The kernel drops
// the lock when the process dies, however it dies.
func lockState(dir string) (unlock func(), err error) {
	path := filepath.Join(dir, "up.lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock the state directory: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		b := make([]byte, 32)
		n, _ := f.ReadAt(b, 0)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			owner := strings.TrimSpace(string(b[:n]))
			if _, err := strconv.Atoi(owner); err != nil {
				owner = "?"
			}
			return nil, fmt.Errorf("another `aether up` (pid %s) is using %s; stop it first, or give this one another --state directory", owner, dir)
		}
		return nil, fmt.Errorf("lock the state directory: %w", err)
	}
	_ = f.Truncate(0)
	_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return func() {
		_ = f.Truncate(0)
		f.Close()
	}, nil
}
