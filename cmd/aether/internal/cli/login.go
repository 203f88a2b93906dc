package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"oras.land/oras-go/v2/registry/remote/auth"
	"oras.land/oras-go/v2/registry/remote/credentials"

	"github.com/aetherengine/aether/pkg/registry"
)

func init() { register(newLoginCommand) }

func newLoginCommand(g *Global) *cobra.Command {
	var (
		rf            registryFlags
		username      string
		password      string
		passwordStdin bool
		server        string
		apiKeyStdin   bool
	)
	cmd := &cobra.Command{
		Use:   "login REGISTRY | login --server URL",
		Short: "Log in to an OCI registry (Docker config) or to the control plane (--server)",
		Long: `With --server, login checks an API key against the control plane and saves the
server URL and key in the CLI config ($XDG_CONFIG_HOME/aether/config.json, mode
0600), so later commands find them.

Otherwise login checks the credentials against the registry and stores them where docker,
crane and oras read them: the credential helper named by credsStore/credHelpers
in the Docker config file, else the file itself ($DOCKER_CONFIG/config.json or
~/.docker/config.json).

Prefer --password-stdin: a password given with --password lands in your shell
history.`,
		Example: `  echo "$GITHUB_TOKEN" | aether login ghcr.io -u acme-bot --password-stdin
  echo "$AETHER_KEY" | aether login --server https://aether.example.com --api-key-stdin`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if server != "" {
				if len(args) > 0 {
					return usageError("give either REGISTRY or --server, not both")
				}
				return loginServer(cmd.Context(), g, server, apiKeyStdin)
			}
			if len(args) != 1 {
				return usageError("give the registry to log in to (aether login REGISTRY), or --server URL for the control plane")
			}
			host := args[0]
			if password != "" && passwordStdin {
				return usageError("--password and --password-stdin are mutually exclusive")
			}
			if passwordStdin {
				p, err := readSecretLine(g.Streams.In)
				if err != nil {
					return err
				}
				password = p
			}
			if username == "" || password == "" {
				return usageError("give --username and a password (--password-stdin)")
			}
			opts := rf.options(g)
			store, err := registry.CredentialStore(opts)
			if err != nil {
				return err
			}
			reg, err := registry.NewRegistry(host, opts)
			if err != nil {
				return withExitCode(ExitUsage, err)
			}
			cred := auth.Credential{Username: username, Password: password}
			if err := credentials.Login(cmd.Context(), store, reg, cred); err != nil {
				err = registry.Explain(err, host)
				if errors.Is(err, registry.ErrUnauthorized) {
					return fmt.Errorf("%s refused the credentials of %q: check the user name and the password or token; nothing was saved", host, username)
				}
				return err
			}
			g.Statusf("Login succeeded: credentials for %s stored", host)
			return nil
		},
	}
	rf.add(cmd)
	cmd.Flags().StringVarP(&username, "username", "u", "", "registry user name")
	cmd.Flags().StringVarP(&password, "password", "p", "", "registry password or token (prefer --password-stdin)")
	cmd.Flags().BoolVar(&passwordStdin, "password-stdin", false, "read the password or token from stdin")
	cmd.Flags().StringVar(&server, "server", "", "log in to this control plane URL instead of a registry")
	cmd.Flags().BoolVar(&apiKeyStdin, "api-key-stdin", false, "with --server: read the API key from stdin (else $AETHER_API_KEY)")
	return cmd
}

// readSecretLine reads one line from r, without its line ending.
func readSecretLine(r io.Reader) (string, error) {
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", fmt.Errorf("reading stdin: %w", err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}
