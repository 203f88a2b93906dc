package cli

import (
	"os"

	"github.com/spf13/cobra"

	"github.com/aetherengine/aether/controlplane/config"
	"github.com/aetherengine/aether/controlplane/server"
)

func init() { register(newServerCommand) }

// newServerCommand runs the control plane in this process, for a laptop;
// production runs the aether-controlplane binary (same settings).
func newServerCommand(g *Global) *cobra.Command {
	var configPath string
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Run the control plane in this process (SQLite by default)",
		Long: `Runs the same control plane as the aether-controlplane binary, in this process.
Settings come from these flags, then AETHER_* environment variables, then the
--config file. On first start with an empty store it prints an admin API key once.
Stop it with Ctrl-C; in-flight requests finish first.`,
		Example: "  aether server --addr 127.0.0.1:8080 --database sqlite:///tmp/aether.db",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			set := map[string]string{}
			for _, s := range config.Settings {
				if f := cmd.Flags().Lookup(s.Name); f != nil && f.Changed {
					set[s.Name] = f.Value.String()
				}
			}
			if configPath == "" {
				configPath = os.Getenv(config.ConfigEnv)
			}
			cfg, err := config.Resolve(configPath, os.Getenv, set)
			if err != nil {
				return withExitCode(ExitUsage, err)
			}
			log := server.NewLogger(g.Streams.Err, cfg)
			return server.Run(cmd.Context(), cfg, server.Deps{Log: log, Notice: g.Streams.Err})
		},
	}
	defaults := config.Defaults()
	shown := map[string]string{"addr": defaults.Addr, "database": defaults.Database, "log-level": defaults.LogLevel, "log-format": defaults.LogFormat}
	for _, s := range config.Settings {
		if s.Secret {
			continue
		}
		cmd.Flags().String(s.Name, shown[s.Name], s.Usage+" (env "+s.Env+")")
	}
	cmd.Flags().StringVar(&configPath, "config", "", "config file, YAML or JSON (env "+config.ConfigEnv+")")
	return cmd
}
