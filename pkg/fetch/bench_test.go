//go:build unix

package fetch

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aetherengine/aether/internal/regtest"
	"github.com/aetherengine/aether/internal/testtools"
	xt "github.com/aetherengine/aether/pkg/extract/extracttest"
)

// treeArtifact generates the ~20k-file / ~150 MB node_modules tree plus a
// small app layer into dir (once per benchmark run) and assembles the
// artifact around it.
func treeArtifact(b *testing.B, dir string) testArtifact {
	b.Helper()
	gzPath := filepath.Join(dir, "deps.tar.gz")
	f, err := os.Create(gzPath)
	if err != nil {
		b.Fatal(err)
	}
	tree, err := xt.WriteTree(f, xt.BenchTree)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		b.Fatal(err)
	}
	gz, err := os.ReadFile(gzPath)
	if err != nil {
		b.Fatal(err)
	}
	deps := xt.Layer{Gz: gz, DiffID: tree.DiffID, Files: tree.Files, Size: tree.Size}
	layers := appLayers()
	layers[0].layer = deps
	return assemble(b, configFor(layers), layers, nil)
}

// cpuTime is the user+system CPU time of this process (RUSAGE_SELF) or of
// its waited-for children (RUSAGE_CHILDREN). On a shared machine, CPU time
// compares implementations more steadily than wall time.
func cpuTime(who int) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(who, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkFetchVsCrane pulls the same artifact from the distribution
// registry three ways in every iteration, each into a new DEST under
// b.TempDir(): Fetch with file verification (the default), Fetch without
// it, and `crane export REF - | tar -x -C DIR`. It reports each time and
// the ratios against crane in the same run, in wall time and in CPU time
// (ours includes the in-process recording proxy regtest puts in front of the
// registry). crane's time includes starting two processes; `crane version`
// is timed too, to show that share.
func BenchmarkFetchVsCrane(b *testing.B) {
	crane := testtools.Require(b, testtools.Crane)
	if _, err := exec.LookPath("tar"); err != nil {
		b.Skip("tar is not installed: no `crane export | tar x` baseline")
	}
	reg := regtest.Distribution(b)
	sizes := []struct {
		name  string
		build func(b *testing.B) testArtifact
	}{
		{"app", func(b *testing.B) testArtifact {
			l := appLayers()
			return assemble(b, configFor(l), l, nil)
		}},
		{"node_modules-20k-150MB", func(b *testing.B) testArtifact { return treeArtifact(b, b.TempDir()) }},
	}
	for _, size := range sizes {
		b.Run(size.name, func(b *testing.B) {
			a := size.build(b)
			ref := push(b, reg.Host, "bench/"+strings.ToLower(size.name), "v1", a)
			ctx := context.Background()
			var verify, noVerify, base, craneStart time.Duration
			var cpuVerify, cpuNoVerify, cpuBase time.Duration
			var files int
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				root := b.TempDir()
				t0, c0 := time.Now(), cpuTime(syscall.RUSAGE_SELF)
				res, err := Fetch(ctx, ref, filepath.Join(root, "verify"), Options{})
				if err != nil {
					b.Fatal(err)
				}
				verify += time.Since(t0)
				cpuVerify += cpuTime(syscall.RUSAGE_SELF) - c0
				files = res.Files

				t0, c0 = time.Now(), cpuTime(syscall.RUSAGE_SELF)
				if _, err := Fetch(ctx, ref, filepath.Join(root, "noverify"), Options{NoVerifyFiles: true}); err != nil {
					b.Fatal(err)
				}
				noVerify += time.Since(t0)
				cpuNoVerify += cpuTime(syscall.RUSAGE_SELF) - c0

				t0, c0 = time.Now(), cpuTime(syscall.RUSAGE_CHILDREN)
				if err := craneExport(ctx, crane, ref, filepath.Join(root, "crane")); err != nil {
					b.Fatal(err)
				}
				base += time.Since(t0)
				cpuBase += cpuTime(syscall.RUSAGE_CHILDREN) - c0

				t0 = time.Now()
				if err := exec.Command(crane, "version").Run(); err != nil {
					b.Fatal(err)
				}
				craneStart += time.Since(t0)
			}
			n := float64(b.N)
			b.ReportMetric(float64(verify.Milliseconds())/n, "fetch-ms/op")
			b.ReportMetric(float64(noVerify.Milliseconds())/n, "fetch-noverify-ms/op")
			b.ReportMetric(float64(base.Milliseconds())/n, "crane-tar-ms/op")
			b.ReportMetric(float64(craneStart.Milliseconds())/n, "crane-start-ms/op")
			b.ReportMetric(float64(verify)/float64(base), "fetch/crane")
			b.ReportMetric(float64(noVerify)/float64(base), "noverify/crane")
			b.ReportMetric(float64(verify)/float64(noVerify), "verify-cost")
			b.ReportMetric(float64(cpuVerify.Milliseconds())/n, "fetch-cpu-ms/op")
			b.ReportMetric(float64(cpuNoVerify.Milliseconds())/n, "fetch-noverify-cpu-ms/op")
			b.ReportMetric(float64(cpuBase.Milliseconds())/n, "crane-tar-cpu-ms/op")
			b.ReportMetric(float64(cpuVerify)/float64(cpuBase), "cpu-fetch/crane")
			b.ReportMetric(float64(cpuNoVerify)/float64(cpuBase), "cpu-noverify/crane")
			b.ReportMetric(float64(files), "files")
			b.ReportMetric(float64(len(a.Layers[0])+len(a.Layers[1]))/(1<<20), "compressed-MiB")
		})
	}
}
