package local

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aetherengine/aether/controlplane/runtime"
	"github.com/aetherengine/aether/controlplane/runtime/local/localtest"
	"github.com/aetherengine/aether/internal/regtest"
	"github.com/aetherengine/aether/pkg/api"
	xt "github.com/aetherengine/aether/pkg/extract/extracttest"
)

// fastPolicy restarts quickly, so crash loops show in milliseconds.
var fastPolicy = Policy{Backoff: 20 * time.Millisecond, MaxBackoff: 100 * time.Millisecond, CrashLoopExits: 3, CrashLoopWindow: time.Minute, StopGrace: 5 * time.Second}

// newRuntime returns a runtime over a temporary state directory, closed
// when the test ends.
func newRuntime(t *testing.T, mod func(*Options)) *Runtime {
	t.Helper()
	o := Options{StateDir: t.TempDir(), Policy: fastPolicy, ReadinessTimeout: 30 * time.Second,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if testing.Verbose() {
		o.Log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if mod != nil {
		mod(&o)
	}
	rt, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rt.Close() })
	return rt
}

// pushApp pushes an artifact to the test registry (see localtest.Push).
func pushApp(t *testing.T, reg *regtest.Registry, repo string, port int, command []string, files ...xt.Entry) string {
	t.Helper()
	return localtest.Push(t, reg.Host, repo, "latest", port, command, files...)
}

// testAppImage pushes an artifact whose command is this test binary (see
// TestMain), which the runtime runs with the deployment's env.
func testAppImage(t *testing.T, reg *regtest.Registry) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return pushApp(t, reg, "testapp", 0, []string{self, "-test.run=^$"})
}

// rollout is a deployment of pinned (REPO@DIGEST) with env.
func rollout(app, id, pinned string, env map[string]string) runtime.Rollout {
	repo, digest, _ := strings.Cut(pinned, "@")
	return runtime.Rollout{
		App:        api.App{Name: app},
		Deployment: api.Deployment{ID: id, App: app, ArtifactRef: repo + ":latest", Digest: digest, Env: env},
	}
}

// recorder collects a rollout's reports.
type recorder struct {
	mu      sync.Mutex
	reports []runtime.Progress
}

func (r *recorder) report(_ context.Context, p runtime.Progress) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reports = append(r.reports, p)
	return nil
}

func (r *recorder) all() []runtime.Progress {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]runtime.Progress(nil), r.reports...)
}

// last returns the final report, failing the test when there is none.
func (r *recorder) last(t *testing.T) runtime.Progress {
	t.Helper()
	all := r.all()
	if len(all) == 0 {
		t.Fatal("no progress reported")
	}
	return all[len(all)-1]
}

// deploy runs a rollout to its end and returns its reports.
func deploy(t *testing.T, rt *Runtime, r runtime.Rollout) *recorder {
	t.Helper()
	rec := &recorder{}
	if err := rt.Deploy(context.Background(), r, rec.report); err != nil {
		t.Fatalf("Deploy %s: %v", r.Deployment.ID, err)
	}
	return rec
}

// mustReady checks that a rollout ended ready after rolling_out.
func mustReady(t *testing.T, rec *recorder) {
	t.Helper()
	all := rec.all()
	if len(all) < 2 || all[0].Status != api.StatusRollingOut || all[len(all)-1].Status != api.StatusReady {
		t.Fatalf("reports = %+v, want rolling_out then ready", all)
	}
}

// get fetches url and returns the status and body.
func get(url string) (int, string, error) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// appEnv is the env of a test app in mode, answering version.
func appEnv(dir, mode, version string, extra ...string) map[string]string {
	env := map[string]string{"TESTAPP_MODE": mode, "TESTAPP_VERSION": version, "TESTAPP_DIR": dir}
	for i := 0; i+1 < len(extra); i += 2 {
		env[extra[i]] = extra[i+1]
	}
	return env
}

// waitFor polls cond until it holds, failing the test after a generous
// bound (the bound is a hang guard, not an assertion about speed).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
