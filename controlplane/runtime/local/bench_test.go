package local

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/aetherengine/aether/controlplane/runtime/local/localtest"
	"github.com/aetherengine/aether/internal/regtest"
	xt "github.com/aetherengine/aether/pkg/extract/extracttest"
)

// BenchmarkRedeploy measures a redeploy of a running Node.js app on the
// local runtime (fetch by digest, verify, extract, start, probe, switch,
// drain the old version) against the floor: starting the same `node
// server.js` by hand, with the same environment, and waiting until its
// port answers. Report the ratio of the two ns/op; the difference is what
// the runtime adds. (The environment matters: NODE_EXTRA_CA_CERTS, passed
// through to apps, makes every Node.js start load a CA bundle.)
func BenchmarkRedeploy(b *testing.B) {
	node, err := nodePath("")
	if err != nil {
		b.Skipf("skipping: %v", err)
	}
	reg := regtest.InProcess(b)
	image := localtest.Push(b, reg.Host, "bench", "v1", 0, []string{"node", "server.js"}, xt.File("server.js", localtest.NodeServer))

	b.Run("local-runtime", func(b *testing.B) {
		rt, err := New(Options{StateDir: b.TempDir(), Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			b.Fatal(err)
		}
		defer rt.Close()
		i := 0
		deployOnce := func() {
			i++
			rec := &recorder{}
			if err := rt.Deploy(context.Background(), rollout("bench", fmt.Sprintf("dep_%d", i), image, nil), rec.report); err != nil {
				b.Fatal(err)
			}
			if last := rec.all(); len(last) == 0 || last[len(last)-1].Status != "ready" {
				b.Fatalf("rollout ended %+v", last)
			}
		}
		deployOnce()
		for b.Loop() {
			deployOnce()
		}
	})

	b.Run("bare-node", func(b *testing.B) {
		dir := b.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "server.js"), []byte(localtest.NodeServer), 0o644); err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			port, err := freePort()
			if err != nil {
				b.Fatal(err)
			}
			cmd := exec.Command(node, "server.js")
			env, _ := buildEnv(dir, nil)
			cmd.Dir, cmd.Env = dir, append(env, "PORT="+strconv.Itoa(port))
			if err := cmd.Start(); err != nil {
				b.Fatal(err)
			}
			for {
				c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port))
				if err == nil {
					c.Close()
					break
				}
				time.Sleep(time.Millisecond)
			}
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
}
