// Command aether-controlplane runs the AetherEngine control plane: the API
// that records apps and deployments, verifies artifacts and runs them.
//
// Settings come from flags, then AETHER_* environment variables, then an
// optional config file (--config or AETHER_CONFIG), then defaults.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/aetherengine/aether/controlplane/config"
	"github.com/aetherengine/aether/controlplane/server"
	"github.com/aetherengine/aether/pkg/version"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) int {
	fs := flag.NewFlagSet("aether-controlplane", flag.ContinueOnError)
	fs.SetOutput(stderr)
	defaults := config.Defaults()
	shown := map[string]string{"addr": defaults.Addr, "database": defaults.Database, "log-level": defaults.LogLevel, "log-format": defaults.LogFormat}
	for _, s := range config.Settings {
		if s.Secret {
			continue
		}
		usage := fmt.Sprintf("%s (env %s)", s.Usage, s.Env)
		if d := shown[s.Name]; d != "" {
			usage += fmt.Sprintf(" (default %s)", d)
		}
		fs.String(s.Name, "", usage)
	}
	configPath := fs.String("config", "", "config file, YAML or JSON (env "+config.ConfigEnv+")")
	showVersion := fs.Bool("version", false, "print the version and exit")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "aether-controlplane takes no arguments, got %q\n", fs.Args())
		return 2
	}
	if *showVersion {
		fmt.Fprintln(stderr, version.String())
		return 0
	}
	set := map[string]string{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = f.Value.String() })
	path := *configPath
	if path == "" {
		path = getenv(config.ConfigEnv)
	}
	cfg, err := config.Resolve(path, getenv, set)
	if err != nil {
		fmt.Fprintf(stderr, "aether-controlplane: %v\n", err)
		return 2
	}
	log := server.NewLogger(stderr, cfg)
	if err := server.Run(ctx, cfg, server.Deps{Log: log, Notice: stderr}); err != nil {
		log.Error("control plane stopped", "err", err)
		return 1
	}
	return 0
}
