package cli

import (
	"bufio"
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
	)
	cmd := &cobra.Command{
		Use:   "login REGISTRY",
		Short: "Log in to an OCI registry (writes the Docker config, like docker login)",
		Long: `Login checks the credentials against the registry and stores them where docker,
crane and oras read them: the credential helper named by credsStore/credHelpers
in the Docker config file, else the file itself ($DOCKER_CONFIG/config.json or
~/.docker/config.json).

Prefer --password-stdin: a password given with --password lands in your shell
history.`,
		Example: `  echo "$GITHUB_TOKEN" | aether login ghcr.io -u acme-bot --password-stdin`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
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
				return registry.Explain(err, host)
			}
			g.Statusf("Login succeeded: credentials for %s stored", host)
			return nil
		},
	}
	rf.add(cmd)
	cmd.Flags().StringVarP(&username, "username", "u", "", "registry user name")
	cmd.Flags().StringVarP(&password, "password", "p", "", "registry password or token (prefer --password-stdin)")
	cmd.Flags().BoolVar(&passwordStdin, "password-stdin", false, "read the password or token from stdin")
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
