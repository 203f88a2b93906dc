package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aetherengine/aether/controlplane/runtime/local"
	"github.com/aetherengine/aether/controlplane/runtime/local/localtest"
	"github.com/aetherengine/aether/controlplane/standalone"
	"github.com/aetherengine/aether/pkg/clientconfig"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	xt "github.com/aetherengine/aether/pkg/extract/extracttest"
)

// binary is the real aether, built once for these tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "aether-up-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "aether")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build aether:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// up is a running `aether up`.
type up struct {
	cmd    *exec.Cmd
	info   standalone.Info
	stderr *strings.Builder
	done   chan error
}

// startUp runs `aether up` on state with free ports and waits until it
// prints its addresses.
func startUp(t *testing.T, state, configHome string) *up {
	t.Helper()
	u := &up{stderr: &strings.Builder{}, done: make(chan error, 1)}
	u.cmd = exec.Command(binary, "up", "--state", state, "--addr", "127.0.0.1:0", "--registry-addr", "127.0.0.1:0", "-o", "json")
	u.cmd.Env = append(os.Environ(), "XDG_CONFIG_HOME="+configHome, "AETHER_LOG_LEVEL=warn")
	u.cmd.Stderr = u.stderr
	out, err := u.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := u.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if u.cmd.ProcessState == nil {
			_ = u.cmd.Process.Kill()
			<-u.done
		}
	})
	infoc := make(chan error, 1)
	go func() {
		dec := json.NewDecoder(bufio.NewReader(out))
		infoc <- dec.Decode(&u.info)
		_, _ = io.Copy(io.Discard, out)
		u.done <- u.cmd.Wait()
	}()
	select {
	case err := <-infoc:
		if err != nil {
			t.Fatalf("aether up printed no info: %v\nstderr: %s", err, u.stderr)
		}
	case <-time.After(2 * time.Minute):
		t.Fatalf("aether up did not start\nstderr: %s", u.stderr)
	}
	return u
}

// stop sends SIGTERM and returns the exit code.
func (u *up) stop(t *testing.T) int {
	t.Helper()
	if err := u.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-u.done:
	case <-time.After(time.Minute):
		t.Fatalf("aether up did not stop after SIGTERM\nstderr: %s", u.stderr)
	}
	return u.cmd.ProcessState.ExitCode()
}

// seedApp records, in a state directory, an app that a previous run
// served (a Node.js server answering "seeded"), so `aether up` starts it.
func seedApp(t *testing.T, state string) (frontPort int) {
	t.Helper()
	appDir := filepath.Join(state, "apps", "demo", "dep_seed", "app")
	if err := os.MkdirAll(appDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(appDir, "server.js"), []byte(localtest.NodeServer), 0o644); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	frontPort = ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	rec := local.AppRecord{Version: local.StateVersion, App: "demo", FrontPort: frontPort, Current: &local.Launch{
		Deployment: "dep_seed", Digest: "sha256:" + strings.Repeat("5", 64), Command: []string{"node", "server.js"},
		Env: map[string]string{"GREETING": "seeded"}}}
	b, _ := json.Marshal(rec)
	if err := os.WriteFile(filepath.Join(state, "apps", "demo", "app.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	return frontPort
}

// TestUp runs the real `aether up`: it serves the API and the registry,
// writes the CLI config and a key pair, brings back the apps of the
// previous run, keeps pushed artifacts across a restart, stops on SIGTERM
// with exit code 0 and no process left behind, and leaves none behind
// when it is killed either.
func TestUp(t *testing.T) {
	rt, err := local.New(local.Options{StateDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.Ready(t.Context()); err != nil {
		t.Skipf("skipping: apps cannot run here: %v", err)
	}
	state, configHome := t.TempDir(), t.TempDir()
	front := seedApp(t, state)
	appURL := "http://127.0.0.1:" + strconv.Itoa(front)

	u := startUp(t, state, configHome)
	for _, url := range []string{u.info.Server + "/readyz", "http://" + u.info.Registry + "/v2/"} {
		if code := status(url); code != 200 {
			t.Fatalf("GET %s = %d\nstderr: %s", url, code, u.stderr)
		}
	}
	cfg, err := clientconfig.Load(filepath.Join(configHome, "aether", "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Server != u.info.Server || cfg.Registry != u.info.Registry || cfg.APIKey == "" || cfg.SigningKey != u.info.SigningKey || cfg.PublicKey != u.info.PublicKey {
		t.Fatalf("CLI config = %+v, info = %+v", cfg, u.info)
	}
	for _, p := range []string{cfg.SigningKey, cfg.PublicKey} {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("key pair: %v", err)
		}
	}
	// The next command just works, with the written config.
	cli := exec.Command(binary, "apps", "list")
	cli.Env = append(os.Environ(), "XDG_CONFIG_HOME="+configHome)
	if out, err := cli.CombinedOutput(); err != nil {
		t.Fatalf("aether apps list: %v\n%s", err, out)
	}
	waitAnswer(t, appURL, "seeded")
	children := descendants(u.cmd.Process.Pid)
	if len(children) == 0 {
		t.Fatal("the restored app runs no process under aether up")
	}
	pushed := localtest.Push(t, u.info.Registry, "hello", "v1", 0, []string{"node", "server.js"}, xt.File("server.js", localtest.NodeServer))
	key := cfg.APIKey

	if code := u.stop(t); code != 0 {
		t.Fatalf("aether up exited %d after SIGTERM\nstderr: %s", code, u.stderr)
	}
	for _, pid := range children {
		if alive(pid) {
			t.Errorf("process %d (started by aether up) still runs after it stopped", pid)
		}
	}
	if status(appURL) != 0 {
		t.Fatal("the app's port still answers after aether up stopped")
	}

	// A restart keeps everything: artifact, key, app.
	u2 := startUp(t, state, configHome)
	ref, err := name.ParseReference(strings.Replace(pushed, strings.Split(pushed, "/")[0], u2.info.Registry, 1), name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := remote.Head(ref); err != nil {
		t.Fatalf("the artifact pushed before the restart is gone: %v", err)
	}
	cfg2, _ := clientconfig.Load(filepath.Join(configHome, "aether", "config.json"))
	if cfg2.APIKey != key {
		t.Fatal("the admin key changed across a restart")
	}
	waitAnswer(t, appURL, "seeded")

	// A crashed aether up (SIGKILL: no cleanup at all) leaves no app
	// behind either (Pdeathsig), nor its lock.
	if children = descendants(u2.cmd.Process.Pid); len(children) == 0 {
		t.Fatal("the restored app runs no process under the second aether up")
	}
	if err := u2.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-u2.done
	deadline := time.Now().Add(30 * time.Second)
	for _, pid := range children {
		for alive(pid) && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if alive(pid) {
			t.Errorf("process %d survived the SIGKILL of aether up", pid)
		}
	}
	u3 := startUp(t, state, configHome)
	waitAnswer(t, appURL, "seeded")
	if code := u3.stop(t); code != 0 {
		t.Fatalf("aether up after a crash exited %d\nstderr: %s", code, u3.stderr)
	}
}

// TestUpRefuses: a taken port or a state directory in use is refused
// with a message that says what to do, before anything starts.
func TestUpRefuses(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	inUse := t.TempDir()
	running := startUp(t, inUse, t.TempDir())
	defer running.stop(t)

	cases := []struct {
		name string
		args []string
		want string
	}{
		{"control plane port taken", []string{"--state", t.TempDir(), "--addr", busy.Addr().String(), "--registry-addr", "127.0.0.1:0"}, "--addr 127.0.0.1:PORT"},
		{"registry port taken", []string{"--state", t.TempDir(), "--addr", "127.0.0.1:0", "--registry-addr", busy.Addr().String()}, "--registry-addr 127.0.0.1:PORT"},
		{"state in use", []string{"--state", inUse, "--addr", "127.0.0.1:0", "--registry-addr", "127.0.0.1:0"}, "another `aether up` (pid " + strconv.Itoa(running.cmd.Process.Pid) + ")"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, binary, append([]string{"up", "--no-config"}, tc.args...)...)
			out, err := cmd.CombinedOutput()
			if err == nil || cmd.ProcessState.ExitCode() == 0 || !strings.Contains(string(out), tc.want) {
				t.Fatalf("aether up = %v\n%s\nwant a failure saying %q", err, out, tc.want)
			}
		})
	}
}

// status returns the HTTP status of a GET, 0 when nothing answers.
func status(url string) int {
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

func waitAnswer(t *testing.T, url, want string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		resp, err := http.Get(url)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 && string(b) == want {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never answered %q (last error %v)", url, want, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// descendants lists the processes below pid (from /proc).
func descendants(pid int) []int {
	parents := map[int][]int{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid …; comm may hold spaces.
		fields := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
		if len(fields) < 2 {
			continue
		}
		ppid, _ := strconv.Atoi(fields[1])
		parents[ppid] = append(parents[ppid], p)
	}
	var out []int
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, c := range parents[p] {
			out = append(out, c)
			queue = append(queue, c)
		}
	}
	return out
}

// alive reports whether pid runs (a zombie does not).
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	return len(fields) > 0 && fields[0] != "Z"
}
