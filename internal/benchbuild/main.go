// Command benchbuild times aether build's packaging (pkg/layer: walk, tar,
// gzip, SHA-256 of every file and of the layer) against GNU `tar -czf` of
// the same tree and against the limit (reading every file and hashing it),
// in one run, and prints the ratios. Trees are generated once into a cache
// directory and never deleted (mass deletes slow these disks down).
package main

import (
	"context"
	"crypto/sha256"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"time"

	"github.com/aetherengine/aether/internal/treegen"
	"github.com/aetherengine/aether/pkg/layer"
)

func main() {
	home, _ := os.UserCacheDir()
	cache := flag.String("cache", filepath.Join(home, "aether-bench"), "where generated trees are kept")
	runs := flag.Int("runs", 3, "runs per tool (the median is reported)")
	only := flag.String("only", "", "run only this tree (10, 100, 500, 20k)")
	flag.Parse()
	specs := []struct {
		name string
		spec treegen.Spec
	}{
		{"10", treegen.Spec{Files: 10, Bytes: 40 << 10, Seed: 10}},
		{"100", treegen.Spec{Files: 100, Bytes: 400 << 10, Seed: 100}},
		{"500", treegen.Spec{Files: 500, Bytes: 2 << 20, Seed: 500}},
		{"20k", treegen.Realistic},
	}
	out, err := os.MkdirTemp("", "aether-bench-out-")
	check(err)
	defer os.RemoveAll(out)
	fmt.Printf("%-5s %7s %9s %10s %10s %12s %10s %10s\n", "tree", "files", "MB", "aether ms", "tar ms", "read+sha ms", "aether/tar", "aether/lim")
	for _, s := range specs {
		if *only != "" && *only != s.name {
			continue
		}
		dir := filepath.Join(*cache, fmt.Sprintf("tree-%d-%d-%d", s.spec.Files, s.spec.Bytes, s.spec.Seed))
		if _, err := os.Stat(filepath.Join(dir, ".complete")); err != nil {
			tmp := dir + fmt.Sprintf(".tmp-%d", time.Now().UnixNano())
			_, _, err := treegen.Generate(tmp, s.spec)
			check(err)
			check(os.WriteFile(filepath.Join(tmp, ".complete"), nil, 0o644))
			check(os.Rename(tmp, dir))
		}
		files, bytes := count(filepath.Join(dir, "node_modules"))
		var ta, tt, tl []time.Duration
		for r := 0; r < *runs; r++ {
			ta = append(ta, timeIt(func() { aether(dir, filepath.Join(out, "aether.tgz")) }))
			tt = append(tt, timeIt(func() { gnuTar(dir, filepath.Join(out, "tar.tgz")) }))
			tl = append(tl, timeIt(func() { readSHA(filepath.Join(dir, "node_modules")) }))
		}
		a, t, l := median(ta), median(tt), median(tl)
		fmt.Printf("%-5s %7d %9.1f %10.1f %10.1f %12.1f %10.2f %10.2f\n", s.name, files, float64(bytes)/1e6,
			ms(a), ms(t), ms(l), float64(a)/float64(t), float64(a)/float64(l))
	}
}

func aether(dir, out string) {
	entries, err := layer.Walk(filepath.Join(dir, "node_modules"), layer.WalkOptions{Prefix: "node_modules"})
	check(err)
	f, err := os.Create(out)
	check(err)
	_, err = layer.Write(context.Background(), f, entries, layer.Options{})
	check(err)
	check(f.Close())
}

func gnuTar(dir, out string) {
	cmd := exec.Command("tar", "-czf", out, "-C", dir, "node_modules")
	cmd.Stderr = os.Stderr
	check(cmd.Run())
}

func readSHA(root string) {
	buf := make([]byte, 1<<20)
	check(filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		h := sha256.New()
		_, err = io.CopyBuffer(h, f, buf)
		f.Close()
		return err
	}))
}

func count(root string) (files int, bytes int64) {
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			fi, _ := d.Info()
			files++
			bytes += fi.Size()
		}
		return nil
	})
	return
}

func timeIt(f func()) time.Duration {
	start := time.Now()
	f()
	return time.Since(start)
}

func median(d []time.Duration) time.Duration {
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	return d[len(d)/2]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchbuild:", err)
		os.Exit(1)
	}
}
