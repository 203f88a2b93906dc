package depcache

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
)

func TestFillPublishesOnceAndHits(t *testing.T) {
	c := &Cache{Dir: t.TempDir()}
	var fills atomic.Int32
	fill := func(_ context.Context, dir string) error {
		fills.Add(1)
		return os.WriteFile(filepath.Join(dir, "data"), []byte("x"), 0o644)
	}
	dir, hit, err := c.Fill(context.Background(), "deps", "key1", fill)
	if err != nil || hit {
		t.Fatalf("first Fill: hit=%v err=%v", hit, err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "data")); string(b) != "x" {
		t.Fatal("entry content missing")
	}
	dir2, hit, err := c.Fill(context.Background(), "deps", "key1", fill)
	if err != nil || !hit || dir2 != dir || fills.Load() != 1 {
		t.Fatalf("second Fill: hit=%v dir=%s fills=%d err=%v", hit, dir2, fills.Load(), err)
	}
}

func TestFailedFillPublishesNothing(t *testing.T) {
	c := &Cache{Dir: t.TempDir()}
	boom := errors.New("npm failed")
	_, _, err := c.Fill(context.Background(), "deps", "k", func(_ context.Context, dir string) error {
		os.WriteFile(filepath.Join(dir, "half"), []byte("x"), 0o644)
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	if _, ok := c.Lookup("deps", "k"); ok {
		t.Fatal("a failed fill was published")
	}
	if tmp, _ := os.ReadDir(filepath.Join(c.Dir, "tmp")); len(tmp) != 0 {
		t.Fatalf("temporary directory left behind: %v", tmp)
	}
}

// TestConcurrentFills: racing fills of one key all succeed and agree on
// one entry; the losers' work is discarded, nothing is corrupted.
func TestConcurrentFills(t *testing.T) {
	c := &Cache{Dir: t.TempDir()}
	const n = 8
	dirs := make([]string, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			dirs[i], _, errs[i] = c.Fill(context.Background(), "deps", "same", func(_ context.Context, dir string) error {
				return os.WriteFile(filepath.Join(dir, "data"), []byte("same content"), 0o644)
			})
		}()
	}
	close(start)
	wg.Wait()
	for i := range n {
		if errs[i] != nil || dirs[i] != dirs[0] {
			t.Fatalf("fill %d: %s, %v (first %s)", i, dirs[i], errs[i], dirs[0])
		}
	}
	entries, _ := os.ReadDir(filepath.Join(c.Dir, "deps"))
	if len(entries) != 1 {
		t.Fatalf("%d entries for one key", len(entries))
	}
	if tmp, _ := os.ReadDir(filepath.Join(c.Dir, "tmp")); len(tmp) != 0 {
		t.Fatalf("losers left temporary directories: %v", tmp)
	}
}

func TestInvalidKeys(t *testing.T) {
	c := &Cache{Dir: t.TempDir()}
	for _, k := range []string{"", "../escape", "a/b", ".hidden"} {
		if _, _, err := c.Fill(context.Background(), "deps", k, func(context.Context, string) error { return nil }); err == nil {
			t.Errorf("key %q accepted", k)
		}
	}
}

func TestPublishFile(t *testing.T) {
	dir := t.TempDir()
	p, err := PublishFile(dir, "layer.tgz", func(f *os.File) error { _, err := f.WriteString("one"); return err })
	if err != nil {
		t.Fatal(err)
	}
	// An existing file wins: published files are immutable.
	if _, err := PublishFile(dir, "layer.tgz", func(f *os.File) error { _, err := f.WriteString("two"); return err }); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); string(b) != "one" {
		t.Fatalf("content %q", b)
	}
	if _, err := PublishFile(dir, "bad", func(*os.File) error { return errors.New("disk full") }); err == nil {
		t.Fatal("a failed write was published")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("left behind: %v", entries)
	}
}
