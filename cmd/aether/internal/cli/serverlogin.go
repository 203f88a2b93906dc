package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/aetherengine/aether/pkg/client"
	"github.com/aetherengine/aether/pkg/clientconfig"
)

// serverFlags find the control plane and its key: --server/--api-key, then
// AETHER_SERVER/AETHER_API_KEY, then the file `aether login --server` wrote.
type serverFlags struct {
	server string
	apiKey string
}

func (f *serverFlags) add(cmd *cobra.Command) {
	cmd.PersistentFlags().StringVar(&f.server, "server", "", "control plane URL (default: $"+clientconfig.EnvServer+", then the aether login config)")
	cmd.PersistentFlags().StringVar(&f.apiKey, "api-key", "", "API key (prefer $"+clientconfig.EnvAPIKey+" or aether login: flags show in ps)")
}

// client returns an API client for the resolved server and key.
func (f *serverFlags) client() (*client.Client, error) {
	path, err := clientconfig.Path()
	if err != nil {
		return nil, err
	}
	r, err := clientconfig.Resolve(f.server, f.apiKey, os.Getenv, path)
	if err != nil {
		return nil, err
	}
	if r.Server == "" {
		return nil, usageError("no control plane configured: pass --server URL, set %s, or run aether login --server URL --api-key-stdin", clientconfig.EnvServer)
	}
	if r.APIKey == "" {
		return nil, usageError("no API key for %s: set %s, pass --api-key, or run aether login --server %s --api-key-stdin", r.Server, clientconfig.EnvAPIKey, r.Server)
	}
	c, err := client.New(r.Server, r.APIKey)
	if err != nil {
		return nil, withExitCode(ExitUsage, fmt.Errorf("%w (from the %s)", err, r.ServerSource))
	}
	return c, nil
}

// loginServer is `aether login --server URL [--api-key-stdin]`: it checks
// the key against the server (GET /v1/whoami) and only then writes server
// and key to the CLI config file (mode 0600), keeping its other settings.
// The key is read from stdin with apiKeyStdin, else from AETHER_API_KEY.
func loginServer(ctx context.Context, g *Global, server string, apiKeyStdin bool) error {
	server = strings.TrimRight(strings.TrimSpace(server), "/")
	var key string
	if apiKeyStdin {
		k, err := readSecretLine(g.Streams.In)
		if err != nil {
			return err
		}
		key = strings.TrimSpace(k)
	} else {
		key = os.Getenv(clientconfig.EnvAPIKey)
	}
	if key == "" {
		return usageError("no API key: pipe it in with --api-key-stdin (echo \"$KEY\" | aether login --server %s --api-key-stdin) or set %s", server, clientconfig.EnvAPIKey)
	}
	c, err := client.New(server, key)
	if err != nil {
		return withExitCode(ExitUsage, err)
	}
	p, err := c.Whoami(ctx)
	if err != nil {
		var ae *client.Error
		if errors.As(err, &ae) && ae.StatusCode == 401 {
			return fmt.Errorf("the server at %s refused the key: %s; nothing was saved", server, ae.Message)
		}
		return fmt.Errorf("cannot check the key against %s: %w; nothing was saved", server, err)
	}
	path, err := clientconfig.Path()
	if err != nil {
		return err
	}
	cfg, err := clientconfig.Load(path)
	if err != nil {
		return err
	}
	cfg.Server, cfg.APIKey = server, key
	if err := clientconfig.Save(path, cfg); err != nil {
		return err
	}
	g.Statusf("Logged in to %s as %q (%s); saved to %s", server, p.Name, p.Role, path)
	return nil
}
