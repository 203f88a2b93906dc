package local

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os/exec"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Policy is how a version's process is restarted and stopped.
type Policy struct {
	// Backoff is the pause before the first restart (default 250ms); it
	// doubles on each exit up to MaxBackoff (default 30s).
	Backoff    time.Duration
	MaxBackoff time.Duration
	// ResetAfter: a process that ran at least this long before exiting
	// starts the backoff and the crash count afresh (default 30s).
	ResetAfter time.Duration
	// CrashLoopExits exits within CrashLoopWindow make a crash loop
	// (defaults 3 and 60s), the local CrashLoopBackOff.
	CrashLoopExits  int
	CrashLoopWindow time.Duration
	// StopGrace is how long a stopped process has between SIGTERM and
	// SIGKILL (default 10s).
	StopGrace time.Duration
}

func (p Policy) withDefaults() Policy {
	if p.Backoff <= 0 {
		p.Backoff = 250 * time.Millisecond
	}
	if p.MaxBackoff < p.Backoff {
		p.MaxBackoff = max(30*time.Second, p.Backoff)
	}
	if p.ResetAfter <= 0 {
		p.ResetAfter = 30 * time.Second
	}
	if p.CrashLoopExits <= 0 {
		p.CrashLoopExits = 3
	}
	if p.CrashLoopWindow <= 0 {
		p.CrashLoopWindow = 60 * time.Second
	}
	if p.StopGrace <= 0 {
		p.StopGrace = 10 * time.Second
	}
	return p
}

// spec is how to start one version of an app.
type spec struct {
	// dir is the working directory: the extracted artifact.
	dir string
	// argv is the command; argv[0] is already a path.
	argv []string
	// env is the environment, without PORT (each start picks a port).
	env []string
}

// eventKind is what a rollout waits for.
type eventKind int

const (
	evReady eventKind = iota
	evCrashLoop
	evStartFailed
)

type event struct {
	kind eventKind
	msg  string
}

// instance supervises one version of an app: it starts the process on a
// free port, probes it until it answers, and restarts it with exponential
// backoff when it exits, until it is stopped. The front proxy reads its
// port on every request; 0 means no process of it answers now.
type instance struct {
	spec  spec
	pol   Policy
	probe Probe
	log   *logFile
	slog  *slog.Logger

	port     atomic.Int32
	inflight atomic.Int64
	restarts atomic.Int32

	mu           sync.Mutex
	status       string
	crashLooping bool

	// events carries the first ready, crash loop and start failure to the
	// rollout; later ones are dropped (non-blocking sends).
	events   chan event
	stopc    chan struct{}
	stopOnce sync.Once
	done     chan struct{}
}

func startInstance(s spec, pol Policy, probe Probe, log *logFile, l *slog.Logger) *instance {
	in := &instance{spec: s, pol: pol.withDefaults(), probe: probe.withDefaults(), log: log, slog: l,
		status: "starting", events: make(chan event, 4), stopc: make(chan struct{}), done: make(chan struct{})}
	go in.run()
	return in
}

// Port returns the port of the process that answers now, or 0.
func (in *instance) Port() int { return int(in.port.Load()) }

// state says how the instance is doing, for status.
func (in *instance) state() (ready bool, restarts int, msg string) {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.Port() != 0, int(in.restarts.Load()), in.status
}

func (in *instance) setStatus(format string, args ...any) {
	in.mu.Lock()
	in.status = fmt.Sprintf(format, args...)
	in.mu.Unlock()
}

func (in *instance) emit(k eventKind, msg string) {
	select {
	case in.events <- event{kind: k, msg: msg}:
	default:
	}
}

// stop asks the supervisor to terminate the process (SIGTERM, then SIGKILL
// after the grace period) and not to restart it; wait waits for that.
func (in *instance) stop()        { in.stopOnce.Do(func() { close(in.stopc) }) }
func (in *instance) wait()        { <-in.done }
func (in *instance) stopAndWait() { in.stop(); in.wait() }
func (in *instance) stopped() bool {
	select {
	case <-in.stopc:
		return true
	default:
		return false
	}
}

func (in *instance) run() {
	defer close(in.done)
	defer in.log.Close()
	var exits []time.Time
	delay := in.pol.Backoff
	for {
		if in.stopped() {
			return
		}
		started, err := in.once()
		if err != nil {
			// A command that cannot start (missing binary, not executable)
			// will not start on the next try either.
			in.log.Printf("cannot start %q: %v", in.spec.argv[0], err)
			in.setStatus("cannot start: %v", err)
			in.emit(evStartFailed, err.Error())
			return
		}
		if started.stopped {
			return
		}
		now := time.Now()
		if started.ran >= in.pol.ResetAfter {
			exits, delay = exits[:0], in.pol.Backoff
		}
		exits = append(exits, now)
		for len(exits) > 0 && now.Sub(exits[0]) > in.pol.CrashLoopWindow {
			exits = exits[1:]
		}
		looping := len(exits) >= in.pol.CrashLoopExits
		in.mu.Lock()
		in.crashLooping = looping
		in.mu.Unlock()
		if looping {
			msg := fmt.Sprintf("the process exited %d times within %s; last: %s after %s", len(exits), in.pol.CrashLoopWindow, started.exit, started.ran.Round(time.Millisecond))
			in.emit(evCrashLoop, msg)
			in.setStatus("crash-looping: %s; restarting in %s", started.exit, delay)
		} else {
			in.setStatus("restarting in %s: %s after %s", delay, started.exit, started.ran.Round(time.Millisecond))
		}
		in.log.Printf("process %s after %s; restarting in %s", started.exit, started.ran.Round(time.Millisecond), delay)
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-in.stopc:
			t.Stop()
			return
		}
		delay = min(delay*2, in.pol.MaxBackoff)
		in.restarts.Add(1)
	}
}

// outcome is how one process ended.
type outcome struct {
	stopped bool
	exit    string
	ran     time.Duration
}

// once runs the process once: start, probe until ready, wait for it to
// exit or for stop. It returns an error only when the process could not
// start at all.
func (in *instance) once() (outcome, error) {
	port, err := freePort()
	if err != nil {
		return outcome{}, err
	}
	cmd := exec.Command(in.spec.argv[0], in.spec.argv[1:]...)
	cmd.Dir = in.spec.dir
	cmd.Env = append(append([]string(nil), in.spec.env...), "PORT="+strconv.Itoa(port))
	// The same writer for both: exec then shares one pipe, and the lines
	// keep their order.
	cmd.Stdout, cmd.Stderr = in.log, in.log
	cmd.SysProcAttr = sysProcAttr()
	// A grandchild that keeps stdout open must not hang Wait.
	cmd.WaitDelay = 2 * time.Second
	if err := cmd.Start(); err != nil {
		return outcome{}, err
	}
	start := time.Now()
	in.log.Printf("started pid %d on port %d: %q", cmd.Process.Pid, port, in.spec.argv)
	in.setStatus("starting (pid %d, port %d)", cmd.Process.Pid, port)
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	probeCtx, cancelProbe := context.WithCancel(context.Background())
	probed := make(chan struct{})
	go func() {
		defer close(probed)
		in.probeUntilReady(probeCtx, port, cmd.Process.Pid)
	}()
	endProbe := func() {
		cancelProbe()
		<-probed
		in.port.Store(0)
	}

	select {
	case err := <-exited:
		endProbe()
		// Children the app left behind in its group go with it.
		_ = signalGroup(cmd.Process, syscall.SIGKILL)
		return outcome{exit: describeExit(err), ran: time.Since(start)}, nil
	case <-in.stopc:
		endProbe()
		in.terminate(cmd, exited)
		return outcome{stopped: true}, nil
	}
}

// fastProbe is how long after a start the probe polls every
// fastProbeInterval before it falls back to the configured interval: a
// Node.js app usually listens within a few hundred milliseconds, each
// probe of a port nobody listens on costs microseconds, and every
// millisecond between "listening" and "ready" is deploy time.
const (
	fastProbe         = 3 * time.Second
	fastProbeInterval = 5 * time.Millisecond
)

// probeUntilReady probes the new process until it answers.
func (in *instance) probeUntilReady(ctx context.Context, port, pid int) {
	start := time.Now()
	for in.probe.check(ctx, port) != nil {
		wait := in.probe.Interval
		if time.Since(start) < fastProbe {
			wait = min(fastProbeInterval, wait)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
	if ctx.Err() != nil {
		return
	}
	in.port.Store(int32(port))
	in.mu.Lock()
	in.status, in.crashLooping = fmt.Sprintf("ready (pid %d, port %d)", pid, port), false
	in.mu.Unlock()
	in.log.Printf("ready: port %d answers the readiness probe", port)
	in.emit(evReady, "")
}

// terminate sends SIGTERM to the process group, then SIGKILL after the
// grace period, and waits for the process.
func (in *instance) terminate(cmd *exec.Cmd, exited <-chan error) {
	in.log.Printf("stopping pid %d (SIGTERM, SIGKILL after %s)", cmd.Process.Pid, in.pol.StopGrace)
	if err := signalGroup(cmd.Process, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		in.slog.Warn("SIGTERM failed", "pid", cmd.Process.Pid, "err", err)
	}
	t := time.NewTimer(in.pol.StopGrace)
	defer t.Stop()
	select {
	case err := <-exited:
		in.log.Printf("pid %d stopped: %s", cmd.Process.Pid, describeExit(err))
		_ = signalGroup(cmd.Process, syscall.SIGKILL)
		return
	case <-t.C:
	}
	in.log.Printf("pid %d did not stop within %s: SIGKILL", cmd.Process.Pid, in.pol.StopGrace)
	_ = signalGroup(cmd.Process, syscall.SIGKILL)
	<-exited
}

// describeExit says how a process ended, as Wait reported it.
func describeExit(err error) string {
	if err == nil {
		return "exited with code 0"
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return "was killed by signal " + ws.Signal().String()
		}
		return "exited with code " + strconv.Itoa(ee.ExitCode())
	}
	return "ended: " + err.Error()
}
