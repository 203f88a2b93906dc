package local

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aetherengine/aether/controlplane/runtime"
	"github.com/aetherengine/aether/internal/regtest"
	"github.com/aetherengine/aether/pkg/api"
	xt "github.com/aetherengine/aether/pkg/extract/extracttest"
)

// TestRolloutOutcomes: each way a rollout ends is reported with its
// reason, and a failed new version never replaces the serving one.
func TestRolloutOutcomes(t *testing.T) {
	reg := regtest.InProcess(t)
	image := testAppImage(t, reg)
	repo, _, _ := strings.Cut(image, "@")
	missing := repo + "@sha256:" + strings.Repeat("0", 64)
	self, _ := os.Executable()
	badCommand := pushApp(t, reg, "badcmd", 0, []string{"./no-such-start-script"})
	notExecutable := pushApp(t, reg, "notexec", 0, []string{self + ".missing"})

	cases := []struct {
		name     string
		pinned   string
		env      func(dir string) map[string]string
		timeout  time.Duration
		status   api.DeploymentStatus
		reason   string
		contains []string
	}{
		{name: "ready", pinned: image, env: func(d string) map[string]string { return appEnv(d, "serve", "v2") },
			status: api.StatusReady, contains: []string{"serving at http://127.0.0.1:"}},
		{name: "crash loop", pinned: image, env: func(d string) map[string]string { return appEnv(d, "crash", "v2") },
			status: api.StatusFailed, reason: ReasonCrashLoop,
			contains: []string{"exited 3 times", "exited with code 3", "Last log lines", "boom: v2 cannot reach its database"}},
		{name: "readiness timeout", pinned: image, env: func(d string) map[string]string { return appEnv(d, "hang", "v2") },
			timeout: 500 * time.Millisecond, status: api.StatusFailed, reason: ReasonReadinessTimeout,
			contains: []string{"readiness probe", "testapp v2 starting in mode hang"}},
		{name: "fetch failed", pinned: missing, env: func(d string) map[string]string { return appEnv(d, "serve", "v2") },
			status: api.StatusFailed, reason: ReasonFetchFailed, contains: []string{"registry problem"}},
		{name: "start command missing", pinned: badCommand, env: func(d string) map[string]string { return nil },
			status: api.StatusFailed, reason: ReasonStartFailed, contains: []string{"no-such-start-script"}},
		{name: "binary missing", pinned: notExecutable, env: func(d string) map[string]string { return nil },
			status: api.StatusFailed, reason: ReasonStartFailed, contains: []string{"could not start"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			rt := newRuntime(t, func(o *Options) {
				if tc.timeout > 0 {
					o.ReadinessTimeout = tc.timeout
				}
			})
			mustReady(t, deploy(t, rt, rollout("web", "dep_v1", image, appEnv(dir, "serve", "v1"))))
			url := rt.URL("web")

			rec := deploy(t, rt, rollout("web", "dep_v2", tc.pinned, tc.env(dir)))
			last := rec.last(t)
			if last.Status != tc.status || last.Reason != tc.reason {
				t.Fatalf("last report = %+v, want %s %q", last, tc.status, tc.reason)
			}
			for _, want := range tc.contains {
				if !strings.Contains(last.Message, want) {
					t.Errorf("message %q does not contain %q", last.Message, want)
				}
			}
			want := "v1"
			if tc.status == api.StatusReady {
				want = "v2"
			}
			code, body, err := get(url)
			if err != nil || code != 200 || body != want {
				t.Fatalf("GET %s = %d %q %v, want 200 %q", url, code, body, err, want)
			}
			st, err := rt.AppState(t.Context(), "web")
			if err != nil {
				t.Fatal(err)
			}
			wantDep := "dep_v1"
			if tc.status == api.StatusReady {
				wantDep = "dep_v2"
			}
			if st.DeploymentID != wantDep || !st.Ready || st.URL != url {
				t.Fatalf("state = %+v, want %s ready at %s", st, wantDep, url)
			}
		})
	}
}

// TestSwitchWithoutDowntime: while a slow new version starts, the old one
// answers every request; the front port switches once the new one is
// ready; a client polling all along sees no error and never goes back to
// the old version; the old process gets SIGTERM afterwards.
func TestSwitchWithoutDowntime(t *testing.T) {
	reg := regtest.InProcess(t)
	image := testAppImage(t, reg)
	dir := t.TempDir()
	rt := newRuntime(t, nil)
	mustReady(t, deploy(t, rt, rollout("web", "dep_v1", image, appEnv(dir, "serve", "v1"))))
	url := rt.URL("web")

	stop := make(chan struct{})
	var (
		mu               sync.Mutex
		errs             []string
		oldWhileStarting int
		answers          = make([][]string, 4)
	)
	var wg sync.WaitGroup
	for i := range answers {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				_, v2Started := os.Stat(filepath.Join(dir, "v2.pid"))
				code, body, err := get(url)
				mu.Lock()
				switch {
				case err != nil:
					errs = append(errs, err.Error())
				case code != 200:
					errs = append(errs, strconv.Itoa(code)+" "+body)
				default:
					answers[i] = append(answers[i], body)
					if v2Started == nil && body == "v1" {
						oldWhileStarting++
					}
				}
				mu.Unlock()
			}
		})
	}
	rec := deploy(t, rt, rollout("web", "dep_v2", image, appEnv(dir, "slow", "v2", "TESTAPP_DELAY", "700ms")))
	mustReady(t, rec)
	// Keep polling until the old process has been told to stop and is gone.
	waitFor(t, "v1 to get SIGTERM", func() bool { _, err := os.Stat(filepath.Join(dir, "v1.term")); return err == nil })
	close(stop)
	wg.Wait()

	if len(errs) > 0 {
		t.Fatalf("%d requests failed during the switch, first: %s", len(errs), errs[0])
	}
	if oldWhileStarting == 0 {
		t.Fatal("no request was answered by v1 while v2 was starting")
	}
	// A poller sends one request at a time: once one of its requests was
	// answered by v2 (it started after the switch), all later ones start
	// after the switch too. So each poller sees v1… then v2….
	for i, seq := range answers {
		joined := strings.Join(seq, " ")
		if len(seq) == 0 || seq[len(seq)-1] != "v2" || strings.Contains(joined, "v2 v1") {
			t.Fatalf("poller %d saw %d answers ending %q; want v1… then v2… (went back to v1: %v)", i, len(seq), seq[max(0, len(seq)-1):], strings.Contains(joined, "v2 v1"))
		}
	}
	code, body, err := get(url)
	if err != nil || code != 200 || body != "v2" {
		t.Fatalf("after the switch GET = %d %q %v", code, body, err)
	}
	pid := readPid(t, dir, "v1")
	waitFor(t, "v1 to exit", func() bool { return !alive(pid) })
}

// TestSupersede: a deployment that starts while another is still coming
// up supersedes it; the older one is reported failed (superseded) and
// its process is stopped.
func TestSupersede(t *testing.T) {
	reg := regtest.InProcess(t)
	image := testAppImage(t, reg)
	dir := t.TempDir()
	rt := newRuntime(t, nil)
	slow := &recorder{}
	done := make(chan error, 1)
	go func() {
		done <- rt.Deploy(t.Context(), rollout("web", "dep_slow", image, appEnv(dir, "hang", "slow")), slow.report)
	}()
	waitFor(t, "the slow version to start", func() bool { _, err := os.Stat(filepath.Join(dir, "slow.pid")); return err == nil })
	mustReady(t, deploy(t, rt, rollout("web", "dep_fast", image, appEnv(dir, "serve", "fast"))))
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if last := slow.last(t); last.Status != api.StatusFailed || last.Reason != ReasonSuperseded {
		t.Fatalf("slow rollout ended %+v, want failed superseded", last)
	}
	if !exists(filepath.Join(dir, "slow.term")) {
		t.Fatal("the superseded process was not stopped with SIGTERM")
	}
	if _, body, _ := get(rt.URL("web")); body != "fast" {
		t.Fatalf("GET = %q, want fast", body)
	}
}

// TestCloseStopsEverything: Close stops every app process (SIGTERM) and a
// rollout in progress, which reports failed; nothing is left running.
func TestCloseStopsEverything(t *testing.T) {
	reg := regtest.InProcess(t)
	image := testAppImage(t, reg)
	dir := t.TempDir()
	rt := newRuntime(t, nil)
	mustReady(t, deploy(t, rt, rollout("a", "dep_a", image, appEnv(dir, "serve", "a"))))
	mustReady(t, deploy(t, rt, rollout("b", "dep_b", image, appEnv(dir, "serve", "b"))))
	pending := &recorder{}
	done := make(chan error, 1)
	go func() {
		done <- rt.Deploy(t.Context(), rollout("c", "dep_c", image, appEnv(dir, "hang", "c")), pending.report)
	}()
	waitFor(t, "c to start", func() bool { return exists(filepath.Join(dir, "c.pid")) })
	pids := []int{readPid(t, dir, "a"), readPid(t, dir, "b"), readPid(t, dir, "c")}

	if err := rt.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if last := pending.last(t); last.Status != api.StatusFailed || last.Reason != ReasonRuntimeStopped {
		t.Fatalf("rollout in progress ended %+v, want failed runtime_stopped", last)
	}
	for i, v := range []string{"a", "b", "c"} {
		if alive(pids[i]) {
			t.Errorf("process %s (pid %d) still runs after Close", v, pids[i])
		}
		if !exists(filepath.Join(dir, v+".term")) {
			t.Errorf("process %s did not get SIGTERM", v)
		}
	}
	rec := &recorder{}
	if err := rt.Deploy(t.Context(), rollout("a", "dep_a2", image, nil), rec.report); !errors.Is(err, errClosed) {
		t.Fatalf("Deploy after Close = %v, want errClosed", err)
	}
}

// TestRestore: a new runtime over the same state directory serves the
// apps of the previous one, on the same front port, from disk.
func TestRestore(t *testing.T) {
	reg := regtest.InProcess(t)
	image := testAppImage(t, reg)
	dir := t.TempDir()
	state := t.TempDir()
	rt := newRuntime(t, func(o *Options) { o.StateDir = state })
	mustReady(t, deploy(t, rt, rollout("web", "dep_1", image, appEnv(dir, "serve", "one"))))
	url := rt.URL("web")
	rt.Close()
	if _, _, err := get(url); err == nil {
		t.Fatal("the front port still answers after Close")
	}

	rt2 := newRuntime(t, func(o *Options) { o.StateDir = state })
	if err := rt2.Restore(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := rt2.URL("web"); got != url {
		t.Fatalf("restored URL %s, want %s", got, url)
	}
	waitFor(t, "the restored app to answer", func() bool { c, b, _ := get(url); return c == 200 && b == "one" })
	lines, err := rt2.Logs(t.Context(), "web", "dep_1", 0)
	if err != nil {
		t.Fatal(err)
	}
	if !containsLine(lines.Lines, "restoring deployment dep_1") {
		t.Fatalf("log does not say the app was restored: %q", lines.Lines)
	}

	if err := rt2.RemoveApp(t.Context(), "web"); err != nil {
		t.Fatal(err)
	}
	if exists(filepath.Join(state, "apps", "web")) {
		t.Fatal("RemoveApp left the app's files")
	}
	if _, err := rt2.Logs(t.Context(), "web", "dep_1", 0); !errors.Is(err, runtime.ErrNoLogs) {
		t.Fatalf("Logs after RemoveApp = %v, want ErrNoLogs", err)
	}
}

// TestRealNode runs an artifact with a real `node server.js`, with a
// dependency from node_modules, PORT and the app's env.
func TestRealNode(t *testing.T) {
	if _, err := nodePath(""); err != nil {
		t.Skipf("skipping: %v", err)
	}
	reg := regtest.InProcess(t)
	image := pushApp(t, reg, "hello", 3999, []string{"node", "server.js"},
		xt.File("server.js", `const http = require('node:http');
http.createServer((q, s) => s.end('hello ' + process.env.GREETING + ' from ' + process.env.NODE_ENV)).listen(Number(process.env.PORT), () => console.log('listening on', process.env.PORT));
process.on('SIGTERM', () => process.exit(0));
`))
	rt := newRuntime(t, nil)
	rec := deploy(t, rt, rollout("hello", "dep_n1", image, map[string]string{"GREETING": "world", "PORT": "1"}))
	mustReady(t, rec)
	code, body, err := get(rt.URL("hello"))
	if err != nil || code != 200 || body != "hello world from production" {
		t.Fatalf("GET = %d %q %v", code, body, err)
	}
	logs, err := rt.Logs(t.Context(), "hello", "dep_n1", 50)
	if err != nil {
		t.Fatal(err)
	}
	if !containsLine(logs.Lines, "listening on") || !containsLine(logs.Lines, "ignoring the app's PORT") {
		t.Fatalf("log = %q", logs.Lines)
	}
}

func readPid(t *testing.T, dir, version string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, version+".pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(string(b))
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

// alive reports whether pid runs (and is not a zombie awaiting its parent).
func alive(pid int) bool {
	if err := syscall.Kill(pid, 0); err != nil {
		return false
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	return err != nil || !strings.Contains(string(b), ") Z ")
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }

func containsLine(lines []string, s string) bool {
	for _, l := range lines {
		if strings.Contains(l, s) {
			return true
		}
	}
	return false
}
