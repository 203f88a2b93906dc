package fetch

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/aetherengine/aether/internal/regtest"
	"github.com/aetherengine/aether/internal/testtools"
)

// craneExport runs `crane export REF - | tar -x -C dir`, the stock way to
// unpack an image's filesystem.
func craneExport(ctx context.Context, crane, ref, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	export := exec.CommandContext(ctx, crane, "export", ref, "-")
	untar := exec.CommandContext(ctx, "tar", "-x", "-C", dir)
	pipe, err := export.StdoutPipe()
	if err != nil {
		return err
	}
	untar.Stdin = pipe
	var exportErr, untarErr bytes.Buffer
	export.Stderr, untar.Stderr = &exportErr, &untarErr
	if err := untar.Start(); err != nil {
		return err
	}
	if err := export.Run(); err != nil {
		_ = untar.Wait()
		return fmt.Errorf("crane export: %v: %s", err, exportErr.String())
	}
	if err := untar.Wait(); err != nil {
		return fmt.Errorf("tar -x: %v: %s", err, untarErr.String())
	}
	return nil
}

// TestCraneExportInterop checks that the stock `crane export | tar x` and
// our fetch produce the same tree (paths, types, contents, modes, link
// targets) from the same artifact, on both registries.
func TestCraneExportInterop(t *testing.T) {
	crane := testtools.Require(t, testtools.Crane)
	if _, err := exec.LookPath("tar"); err != nil {
		t.Skip("tar is not installed: cannot run `crane export | tar x`")
	}
	layers := appLayers()
	a := assemble(t, configFor(layers), layers, nil)
	for _, reg := range regtest.All(t) {
		t.Run(reg.Kind, func(t *testing.T) {
			ref := push(t, reg.Host, "apps/interop", "v1", a)
			ours := newDest(t)
			if _, err := Fetch(context.Background(), ref, ours, Options{}); err != nil {
				t.Fatal(err)
			}
			theirs := filepath.Join(t.TempDir(), "crane")
			if err := craneExport(context.Background(), crane, ref, theirs); err != nil {
				t.Fatal(err)
			}
			a, b := treeOf(t, ours), treeOf(t, theirs)
			if len(a) < 8 {
				t.Fatalf("our tree has only %d entries: %v", len(a), a)
			}
			if d := diffTrees(a, b); len(d) > 0 {
				t.Fatalf("aether-fetch and crane export differ (ours vs crane):\n%v", d)
			}
		})
	}
}
