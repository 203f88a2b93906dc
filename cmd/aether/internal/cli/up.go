package cli

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/aetherengine/aether/controlplane/config"
	"github.com/aetherengine/aether/controlplane/server"
	"github.com/aetherengine/aether/controlplane/standalone"
	"github.com/aetherengine/aether/pkg/clientconfig"
)

func init() { register(newUpCommand) }

func newUpCommand(g *Global) *cobra.Command {
	var o standalone.Options
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Run AetherEngine on this machine: control plane, registry and runtime in one process",
		Long: `Up starts, in this process, everything a deploy needs on a laptop:

  - the control plane (API on --addr) with its SQLite database,
  - a local OCI registry (on --registry-addr, referrers API on) that keeps
    what is pushed across restarts,
  - the local runtime, which runs each app as a supervised node process
    behind a stable port on 127.0.0.1.

Everything lives in the --state directory. On first start it generates a
cosign key pair there (keys/cosign.key, empty password) and an admin API key,
and writes the CLI config (server, API key, registry, signing key), so that
the next command just works:

  aether deploy examples/hello

Apps deployed earlier start again with it. Stop it with Ctrl-C: the apps
are stopped too.`,
		Example: `  aether up
  aether up --state /tmp/aether --addr 127.0.0.1:9080 --registry-addr 127.0.0.1:5001`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !o.NoConfig && o.ConfigPath == "" {
				p, err := clientconfig.Path()
				if err != nil {
					return err
				}
				o.ConfigPath = p
			}
			o.Notice = g.Streams.Err
			cfg, err := config.Resolve("", os.Getenv, nil)
			if err != nil {
				cfg = config.Defaults()
			}
			if g.Verbose {
				cfg.LogLevel = "debug"
			}
			o.Log = server.NewLogger(g.Streams.Err, cfg)
			o.Ready = func(info standalone.Info) {
				if g.JSON() {
					_ = writeJSON(g.Streams.Out, info)
					return
				}
				printUp(g, info)
			}
			return standalone.Run(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.StateDir, "state", standalone.DefaultStateDir(), "directory for the database, registry, apps and keys")
	f.StringVar(&o.Addr, "addr", standalone.DefaultAddr, "control plane listen address (port 0: any free port)")
	f.StringVar(&o.RegistryAddr, "registry-addr", standalone.DefaultRegistryAddr, "registry listen address (port 0: any free port)")
	f.StringVar(&o.Node, "node", "", "Node.js binary to run apps with (default: node on PATH)")
	f.BoolVar(&o.NoConfig, "no-config", false, "do not write the CLI config file")
	return cmd
}

func printUp(g *Global, info standalone.Info) {
	w := g.Streams.Err
	fmt.Fprintf(w, "\nAetherEngine is up.\n\n")
	fmt.Fprintf(w, "  control plane  %s\n", info.Server)
	fmt.Fprintf(w, "  registry       %s\n", info.Registry)
	fmt.Fprintf(w, "  state          %s\n", info.StateDir)
	fmt.Fprintf(w, "  signing key    %s\n", info.SigningKey)
	if info.Config != "" {
		fmt.Fprintf(w, "  CLI config     %s (server, API key, registry, signing key)\n", info.Config)
	}
	fmt.Fprintf(w, "\nNext, in another terminal:\n\n  aether deploy examples/hello\n\nStop with Ctrl-C (apps stop too).\n\n")
	fmt.Fprintln(g.Streams.Out, info.Server)
}
