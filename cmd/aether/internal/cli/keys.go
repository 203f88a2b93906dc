package cli

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/aetherengine/aether/pkg/api"
	"github.com/aetherengine/aether/pkg/client"
)

func init() { register(newKeysCommand) }

func newKeysCommand(g *Global) *cobra.Command {
	var sf serverFlags
	cmd := &cobra.Command{
		Use:   "keys",
		Short: "Manage control-plane API keys (admin key)",
	}
	sf.add(cmd)
	cmd.AddCommand(newKeysCreateCommand(g, &sf), newKeysListCommand(g, &sf), newKeysRevokeCommand(g, &sf))
	return cmd
}

func newKeysCreateCommand(g *Global, sf *serverFlags) *cobra.Command {
	var (
		name string
		role string
		apps []string
	)
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Create an API key; the key is printed once, on stdout",
		Example: `  aether keys create --name ci-web --role deployer --app web
  aether keys create --name dashboards --role viewer --app '*'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if name == "" {
				return usageError("--name is required")
			}
			c, err := sf.client()
			if err != nil {
				return err
			}
			k, err := c.CreateKey(cmd.Context(), api.APIKeyCreate{Name: name, Role: api.Role(role), Apps: apps})
			if err != nil {
				return err
			}
			if g.JSON() {
				return printJSON(g.Streams.Out, k)
			}
			g.Statusf("Created API key %s (%s, %s). It is shown only now; store it:", k.ID, k.Name, describeScope(k.APIKey))
			fmt.Fprintln(g.Streams.Out, k.Key)
			return nil
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "what the key is for (shown in listings and the audit log)")
	cmd.Flags().StringVar(&role, "role", string(api.RoleViewer), "admin, deployer or viewer")
	cmd.Flags().StringArrayVar(&apps, "app", nil, "app the key may act on (repeatable; '*' for every app)")
	return cmd
}

func newKeysListCommand(g *Global, sf *serverFlags) *cobra.Command {
	var lf listFlags
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List API keys (never their secrets)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := sf.client()
			if err != nil {
				return err
			}
			items, next, err := fetchList(cmd, &lf, func(ctx context.Context, o client.ListOptions) (api.List[api.APIKey], error) {
				return c.ListKeys(ctx, o)
			})
			if err != nil {
				return err
			}
			if g.JSON() {
				return printJSON(g.Streams.Out, api.List[api.APIKey]{Items: items, NextCursor: next})
			}
			w := tabwriter.NewWriter(g.Streams.Out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "ID\tNAME\tPREFIX\tROLE\tAPPS\tCREATED\tREVOKED")
			for _, k := range items {
				revoked := "-"
				if k.RevokedAt != nil {
					revoked = k.RevokedAt.Format(time.RFC3339)
				}
				fmt.Fprintf(w, "%s\t%s\t%s…\t%s\t%s\t%s\t%s\n", k.ID, k.Name, k.Prefix, k.Role, orNone(strings.Join(k.Apps, ",")), k.CreatedAt.Format(time.RFC3339), revoked)
			}
			if err := w.Flush(); err != nil {
				return err
			}
			moreHint(g, next)
			return nil
		},
	}
	lf.add(cmd)
	return cmd
}

func newKeysRevokeCommand(g *Global, sf *serverFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "revoke ID",
		Short: "Revoke an API key at once",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := sf.client()
			if err != nil {
				return err
			}
			k, err := c.RevokeKey(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if g.JSON() {
				return printJSON(g.Streams.Out, k)
			}
			g.Statusf("Revoked API key %s (%s)", k.ID, k.Name)
			return nil
		},
	}
}

func describeScope(k api.APIKey) string {
	if k.Role == api.RoleAdmin {
		return "admin, every app"
	}
	return fmt.Sprintf("%s of %s", k.Role, strings.Join(k.Apps, ", "))
}
