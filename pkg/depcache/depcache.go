// Package depcache is a content-keyed directory cache that concurrent
// builds can share: an entry is filled in a private temporary directory and
// published with one atomic rename, so a reader sees a complete entry or
// none, and a build that loses the race simply uses the winner's entry.
package depcache

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"syscall"
)

// Cache is a directory of immutable entries.
type Cache struct {
	// Dir is the cache root.
	Dir string
}

// DefaultDir is $AETHER_CACHE_DIR, else $XDG_CACHE_HOME/aether, else
// ~/.cache/aether.
func DefaultDir() (string, error) {
	if d := os.Getenv("AETHER_CACHE_DIR"); d != "" {
		return d, nil
	}
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "aether"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("no cache directory: set AETHER_CACHE_DIR or XDG_CACHE_HOME (%v)", err)
	}
	return filepath.Join(home, ".cache", "aether"), nil
}

var validKey = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$`)

// entryDir is where a published entry lives.
func (c *Cache) entryDir(bucket, key string) string {
	return filepath.Join(c.Dir, bucket, key)
}

// Lookup returns the directory of a published entry.
func (c *Cache) Lookup(bucket, key string) (string, bool) {
	if !validKey.MatchString(key) || !validKey.MatchString(bucket) {
		return "", false
	}
	dir := c.entryDir(bucket, key)
	fi, err := os.Stat(dir)
	return dir, err == nil && fi.IsDir()
}

// Fill returns the entry for key, creating it with fill when absent. fill
// writes into an empty private directory; when it fails, nothing is
// published. hit reports whether the entry already existed.
func (c *Cache) Fill(ctx context.Context, bucket, key string, fill func(ctx context.Context, dir string) error) (dir string, hit bool, err error) {
	if !validKey.MatchString(key) || !validKey.MatchString(bucket) {
		return "", false, fmt.Errorf("invalid cache key %q", key)
	}
	if dir, ok := c.Lookup(bucket, key); ok {
		return dir, true, nil
	}
	tmpRoot := filepath.Join(c.Dir, "tmp")
	if err := os.MkdirAll(tmpRoot, 0o755); err != nil {
		return "", false, fmt.Errorf("creating cache directory: %w", err)
	}
	if err := os.MkdirAll(filepath.Join(c.Dir, bucket), 0o755); err != nil {
		return "", false, fmt.Errorf("creating cache directory: %w", err)
	}
	tmp, err := os.MkdirTemp(tmpRoot, key+".")
	if err != nil {
		return "", false, err
	}
	published := false
	defer func() {
		if !published {
			_ = os.RemoveAll(tmp)
		}
	}()
	if err := fill(ctx, tmp); err != nil {
		return "", false, err
	}
	if err := ctx.Err(); err != nil {
		return "", false, err
	}
	final := c.entryDir(bucket, key)
	if err := os.Rename(tmp, final); err != nil {
		if isExist(err) {
			// Another build published the same key first; entries with the
			// same key are interchangeable.
			return final, true, nil
		}
		return "", false, fmt.Errorf("publishing cache entry: %w", err)
	}
	published = true
	return final, false, nil
}

// PublishFile atomically places a file into a published entry (used to add
// derived artifacts, such as a built layer, next to the entry's content).
// The file is written by write into a temporary file in the same directory
// and renamed; if the name already exists, the existing file wins.
func PublishFile(dir, name string, write func(f *os.File) error) (string, error) {
	final := filepath.Join(dir, name)
	if _, err := os.Stat(final); err == nil {
		return final, nil
	}
	f, err := os.CreateTemp(dir, "."+name+".tmp-")
	if err != nil {
		return "", err
	}
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err := write(f); err != nil {
		return "", err
	}
	if err := f.Close(); err != nil {
		return "", err
	}
	if err := os.Rename(f.Name(), final); err != nil {
		return "", err
	}
	ok = true
	return final, nil
}

func isExist(err error) bool {
	return errors.Is(err, os.ErrExist) || errors.Is(err, syscall.ENOTEMPTY) || errors.Is(err, syscall.EEXIST)
}
