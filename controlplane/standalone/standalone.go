// Package standalone runs all of AetherEngine in one process on one
// machine, as `aether up` does: the control plane with SQLite, a local OCI
// registry with persistent storage (referrers API on), and the local
// runtime, all under one state directory. It writes the CLI's config so
// the next command needs no setup, and a signing key pair if there is none.
package standalone

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/aetherengine/aether/controlplane/config"
	"github.com/aetherengine/aether/controlplane/server"
	"github.com/aetherengine/aether/pkg/localregistry"
)

// Default addresses.
const (
	DefaultAddr         = "127.0.0.1:8080"
	DefaultRegistryAddr = "127.0.0.1:5000"
)

// Options configure Run; zero fields get defaults.
type Options struct {
	// StateDir holds everything: database, registry, apps, keys
	// (default: $XDG_DATA_HOME/aether, else ~/.local/share/aether).
	StateDir string
	// Addr is the control plane's listen address (default 127.0.0.1:8080).
	Addr string
	// RegistryAddr is the registry's listen address (default
	// 127.0.0.1:5000). Port 0 picks a free port for either.
	RegistryAddr string
	// Node is the Node.js binary apps run with (default: node on PATH).
	Node string
	// ConfigPath is the CLI config file to write (default
	// clientconfig.Path()); NoConfig leaves it alone.
	ConfigPath string
	NoConfig   bool
	// Getenv reads AETHER_* settings (log level, extra registries…;
	// default os.Getenv).
	Getenv func(string) string
	// Log receives the control plane's logs (default: stderr at the level
	// AETHER_LOG_LEVEL gives, info).
	Log *slog.Logger
	// Notice receives messages for the user (default stderr).
	Notice io.Writer
	// Ready is called once everything serves.
	Ready func(Info)
}

// Info is what a user (or a test) needs once Run serves.
type Info struct {
	// Server is the control plane's URL.
	Server string `json:"server"`
	// Registry is the registry's host:port, the registry part of
	// references (127.0.0.1:5000/app:tag).
	Registry string `json:"registry"`
	StateDir string `json:"stateDir"`
	// Config is the CLI config file written ("" with NoConfig).
	Config string `json:"config,omitempty"`
	// SigningKey and PublicKey are the cosign key pair's files.
	SigningKey string `json:"signingKey"`
	PublicKey  string `json:"publicKey"`
	// PID is this process, the one to signal to stop everything.
	PID int `json:"pid"`
}

// DefaultStateDir is $XDG_DATA_HOME/aether, else ~/.local/share/aether.
func DefaultStateDir() string { return config.DataDir() }

// Run starts everything and serves until ctx ends, then stops the apps,
// the control plane and the registry, in that order. It refuses to start
// when a port is taken or another Run uses the state directory.
func Run(ctx context.Context, o Options) error {
	o, err := withDefaults(o)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(o.StateDir, 0o700); err != nil {
		return fmt.Errorf("create the state directory: %w", err)
	}
	unlock, err := lockState(o.StateDir)
	if err != nil {
		return err
	}
	defer unlock()

	regLn, err := listen(o.RegistryAddr, "registry", "--registry-addr")
	if err != nil {
		return err
	}
	defer regLn.Close()
	srvLn, err := listen(o.Addr, "control plane", "--addr")
	if err != nil {
		return err
	}
	defer srvLn.Close()
	regAddr, srvAddr := regLn.Addr().String(), srvLn.Addr().String()

	reg, err := localregistry.Open(filepath.Join(o.StateDir, "registry"), localregistry.Options{Log: o.Log.With("component", "registry")})
	if err != nil {
		return err
	}
	defer reg.Close()
	regSrv := &http.Server{Handler: reg, ReadHeaderTimeout: 30 * time.Second, IdleTimeout: 120 * time.Second,
		ErrorLog: slog.NewLogLogger(o.Log.Handler(), slog.LevelDebug)}
	regErr := make(chan error, 1)
	go func() { regErr <- regSrv.Serve(regLn) }()
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = regSrv.Shutdown(sctx)
	}()

	priv, pub, err := ensureKeyPair(filepath.Join(o.StateDir, "keys"))
	if err != nil {
		return err
	}
	secret, err := adminSecret(o.StateDir)
	if err != nil {
		return err
	}
	cfg, err := o.config(srvAddr, regAddr, secret)
	if err != nil {
		return err
	}
	deps := server.Deps{Log: o.Log, Notice: o.Notice}
	h, err := server.Build(ctx, cfg, deps)
	if err != nil {
		return err
	}
	if secret, err = ensureAdminKey(ctx, h.Store, o.StateDir, secret); err != nil {
		h.Close()
		return err
	}
	info := Info{Server: "http://" + srvAddr, Registry: regAddr, StateDir: o.StateDir, SigningKey: priv, PublicKey: pub, PID: os.Getpid()}
	if !o.NoConfig {
		if err := writeCLIConfig(o.ConfigPath, info, secret, o.Notice); err != nil {
			h.Close()
			return err
		}
		info.Config = o.ConfigPath
	}
	deps.Listening = func(string) {
		if o.Ready != nil {
			o.Ready(info)
		}
	}
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	srvErr := make(chan error, 1)
	go func() { srvErr <- server.Serve(sctx, cfg, deps, h, srvLn) }()
	select {
	case err = <-srvErr:
	case err = <-regErr:
		// The registry stopped on its own: stop the rest.
		err = fmt.Errorf("the local registry stopped: %w", err)
		cancel()
		<-srvErr
	}
	return err
}

func withDefaults(o Options) (Options, error) {
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	if o.StateDir == "" {
		o.StateDir = DefaultStateDir()
	}
	abs, err := filepath.Abs(o.StateDir)
	if err != nil {
		return o, err
	}
	o.StateDir = abs
	if o.Addr == "" {
		o.Addr = DefaultAddr
	}
	if o.RegistryAddr == "" {
		o.RegistryAddr = DefaultRegistryAddr
	}
	if o.Notice == nil {
		o.Notice = os.Stderr
	}
	if o.Log == nil {
		cfg, err := config.Resolve("", o.Getenv, nil)
		if err != nil {
			cfg = config.Defaults()
		}
		o.Log = server.NewLogger(os.Stderr, cfg)
	}
	return o, nil
}

// config is the control plane's configuration: AETHER_* settings from the
// environment, with what `aether up` owns set on top.
func (o Options) config(addr, registry, adminKey string) (config.Config, error) {
	getenv := func(k string) string {
		switch k {
		// Up decides these; a value meant for another server in the
		// environment must not redirect this one.
		case "AETHER_ADDR", "AETHER_DATABASE", "AETHER_RUNTIME", "AETHER_STATE_DIR", "AETHER_BOOTSTRAP_ADMIN_KEY":
			return ""
		}
		return o.Getenv(k)
	}
	flags := map[string]string{"addr": addr}
	if o.Node != "" {
		flags["node"] = o.Node
	}
	cfg, err := config.Resolve("", getenv, flags)
	if err != nil {
		return cfg, err
	}
	cfg.Database = "sqlite://" + filepath.Join(o.StateDir, "aether.db")
	cfg.Runtime = config.RuntimeLocal
	cfg.StateDir = o.StateDir
	cfg.BootstrapAdminKey = adminKey
	// The local registry is plain HTTP on loopback: it must be listed
	// explicitly, with its scheme; registries from AETHER_REGISTRIES come
	// after it.
	regs := []string{"http://" + registry}
	if host, port, err := net.SplitHostPort(registry); err == nil && host == "127.0.0.1" {
		regs = append(regs, "http://localhost:"+port)
	}
	if extra := strings.TrimSpace(cfg.Registries); extra != "" {
		regs = append(regs, extra)
	}
	cfg.Registries = strings.Join(regs, ",")
	// A laptop stops quickly: in-flight requests get a few seconds.
	cfg.ShutdownTimeout = config.Duration(5 * time.Second)
	return cfg, cfg.Validate()
}

// listen opens addr, or says clearly that the port is taken and which
// flag picks another.
func listen(addr, what, flag string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err == nil {
		return ln, nil
	}
	if errors.Is(err, syscall.EADDRINUSE) {
		host, _, _ := net.SplitHostPort(addr)
		if host == "" {
			host = "127.0.0.1"
		}
		return nil, fmt.Errorf("cannot start the %s: %s is already in use (another `aether up`, or another program); stop it, or pick a free port with %s %s:PORT", what, addr, flag, host)
	}
	return nil, fmt.Errorf("cannot start the %s on %s: %w", what, addr, err)
}
