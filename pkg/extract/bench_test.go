//go:build unix

package extract

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	xt "github.com/aetherengine/aether/pkg/extract/extracttest"
)

// benchLayer is the ~20k-file / ~150 MB node_modules layer, generated once
// per benchmark run into a fresh directory that TestMain removes.
var (
	benchOnce  sync.Once
	benchDir   string
	benchPath  string
	benchTree  xt.TreeLayer
	benchError error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if benchDir != "" {
		os.RemoveAll(benchDir)
	}
	os.Exit(code)
}

func benchmarkLayer(b *testing.B) string {
	b.Helper()
	benchOnce.Do(func() {
		benchDir, benchError = os.MkdirTemp("", "aether-extract-bench-")
		if benchError != nil {
			return
		}
		benchPath = filepath.Join(benchDir, "layer.tar.gz")
		f, err := os.Create(benchPath)
		if err != nil {
			benchError = err
			return
		}
		defer f.Close()
		benchTree, benchError = xt.WriteTree(f, xt.BenchTree)
	})
	if benchError != nil {
		b.Fatal(benchError)
	}
	return benchPath
}

// cpuTime is the user+system CPU time of this process (RUSAGE_SELF) or of
// its waited-for children (RUSAGE_CHILDREN), steadier than wall time on a
// shared machine.
func cpuTime(who int) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(who, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func extractFile(b *testing.B, layer, dest string, opts Options) Stats {
	f, err := os.Open(layer)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	st, err := Extract(context.Background(), dest, opts, f)
	if err != nil {
		b.Fatal(err)
	}
	return st
}

// BenchmarkExtractVsTar extracts the node_modules layer with this package
// and with `tar -xzf` (GNU tar piping through gzip, two processes) in the
// same iterations, and reports the ratio ours/tar. Hashing every file
// (what fetch's VerifyFiles uses) is measured separately.
func BenchmarkExtractVsTar(b *testing.B) {
	layer := benchmarkLayer(b)
	tarBin, err := exec.LookPath("tar")
	if err != nil {
		b.Skip("tar not installed: no baseline to compare with")
	}
	for _, hash := range []bool{false, true} {
		b.Run(fmt.Sprintf("hash=%v", hash), func(b *testing.B) {
			var ours, base, cpuOurs, cpuBase time.Duration
			var st Stats
			for i := 0; i < b.N; i++ {
				root := b.TempDir()
				t0, c0 := time.Now(), cpuTime(syscall.RUSAGE_SELF)
				st = extractFile(b, layer, filepath.Join(root, "ours"), Options{HashFiles: hash})
				ours += time.Since(t0)
				cpuOurs += cpuTime(syscall.RUSAGE_SELF) - c0
				dir := filepath.Join(root, "tar")
				if err := os.Mkdir(dir, 0o755); err != nil {
					b.Fatal(err)
				}
				t0, c0 = time.Now(), cpuTime(syscall.RUSAGE_CHILDREN)
				if out, err := exec.Command(tarBin, "-xzf", layer, "-C", dir).CombinedOutput(); err != nil {
					b.Fatalf("tar: %v\n%s", err, out)
				}
				base += time.Since(t0)
				cpuBase += cpuTime(syscall.RUSAGE_CHILDREN) - c0
			}
			b.ReportMetric(float64(ours.Milliseconds())/float64(b.N), "ours-ms/op")
			b.ReportMetric(float64(base.Milliseconds())/float64(b.N), "tar-ms/op")
			b.ReportMetric(float64(ours)/float64(base), "ours/tar")
			b.ReportMetric(float64(cpuOurs.Milliseconds())/float64(b.N), "ours-cpu-ms/op")
			b.ReportMetric(float64(cpuBase.Milliseconds())/float64(b.N), "tar-cpu-ms/op")
			b.ReportMetric(float64(cpuOurs)/float64(cpuBase), "cpu-ours/tar")
			b.ReportMetric(float64(st.Files), "files")
			b.ReportMetric(float64(st.FileBytes)/(1<<20), "MiB")
		})
	}
}

// BenchmarkGunzip extracts the same layer with each gzip reader, in the
// same iterations, and reports each one's time relative to the stdlib's.
func BenchmarkGunzip(b *testing.B) {
	layer := benchmarkLayer(b)
	impls := []struct {
		name string
		impl gunzipImpl
	}{{"stdlib", gunzipStdlib}, {"klauspost", gunzipKlauspost}}
	defer func(g gunzipImpl) { gunzip = g }(gunzip)
	total := make([]time.Duration, len(impls))
	cpu := make([]time.Duration, len(impls))
	for i := 0; i < b.N; i++ {
		root := b.TempDir()
		for k, im := range impls {
			gunzip = im.impl
			t0, c0 := time.Now(), cpuTime(syscall.RUSAGE_SELF)
			extractFile(b, layer, filepath.Join(root, im.name), Options{})
			total[k] += time.Since(t0)
			cpu[k] += cpuTime(syscall.RUSAGE_SELF) - c0
		}
	}
	for k, im := range impls {
		b.ReportMetric(float64(total[k].Milliseconds())/float64(b.N), im.name+"-ms/op")
		b.ReportMetric(float64(cpu[k].Milliseconds())/float64(b.N), im.name+"-cpu-ms/op")
		if k > 0 {
			b.ReportMetric(float64(total[k])/float64(total[0]), im.name+"/stdlib")
			b.ReportMetric(float64(cpu[k])/float64(cpu[0]), "cpu-"+im.name+"/stdlib")
		}
	}
}
