package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/aetherengine/aether/pkg/api"
	"github.com/aetherengine/aether/pkg/client"
)

func init() { register(newAppsCommand) }

func newAppsCommand(g *Global) *cobra.Command {
	var sf serverFlags
	cmd := &cobra.Command{
		Use:   "apps",
		Short: "Create and inspect apps on the control plane",
	}
	sf.add(cmd)
	cmd.AddCommand(newAppsCreateCommand(g, &sf), newAppsListCommand(g, &sf), newAppsGetCommand(g, &sf), newAppsTrustCommand(g, &sf))
	return cmd
}

func newAppsCreateCommand(g *Global, sf *serverFlags) *cobra.Command {
	var (
		namespace string
		env       []string
	)
	cmd := &cobra.Command{
		Use:     "create NAME",
		Short:   "Create an app (admin key)",
		Example: "  aether apps create web --namespace team-a --env NODE_ENV=production",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			envMap, err := parseEnv(env)
			if err != nil {
				return err
			}
			c, err := sf.client()
			if err != nil {
				return err
			}
			a, err := c.CreateApp(cmd.Context(), api.AppCreate{Name: args[0], Namespace: namespace, Env: envMap})
			if err != nil {
				return err
			}
			return printApps(g, []api.App{a}, "", true)
		},
	}
	cmd.Flags().StringVar(&namespace, "namespace", "", "Kubernetes namespace (default: the server's default)")
	cmd.Flags().StringArrayVar(&env, "env", nil, "environment variable KEY=VALUE (repeatable)")
	return cmd
}

func newAppsListCommand(g *Global, sf *serverFlags) *cobra.Command {
	var lf listFlags
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the apps your key may read",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := sf.client()
			if err != nil {
				return err
			}
			items, next, err := fetchList(cmd, &lf, c.ListApps)
			if err != nil {
				return err
			}
			return printApps(g, items, next, false)
		},
	}
	lf.add(cmd)
	return cmd
}

func newAppsGetCommand(g *Global, sf *serverFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "get NAME",
		Short: "Show an app",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := sf.client()
			if err != nil {
				return err
			}
			a, err := c.GetApp(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return printApps(g, []api.App{a}, "", true)
		},
	}
}

func parseEnv(kvs []string) (map[string]string, error) {
	if len(kvs) == 0 {
		return nil, nil
	}
	m := map[string]string{}
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, usageError("--env %q is not KEY=VALUE", kv)
		}
		m[k] = v
	}
	return m, nil
}

// listFlags page through a list: the first --limit items, or --all.
type listFlags struct {
	limit  int
	cursor string
	all    bool
}

func (f *listFlags) add(cmd *cobra.Command) {
	cmd.Flags().IntVar(&f.limit, "limit", 50, "how many items to show (1-500)")
	cmd.Flags().StringVar(&f.cursor, "cursor", "", "continue from a previous listing's next cursor")
	cmd.Flags().BoolVar(&f.all, "all", false, "follow every page")
}

// fetchList returns the items f asks for and the next page's cursor.
func fetchList[T any](cmd *cobra.Command, f *listFlags, page func(ctx context.Context, o client.ListOptions) (api.List[T], error)) ([]T, string, error) {
	if f.limit < 1 || f.limit > 500 {
		return nil, "", usageError("--limit must be between 1 and 500")
	}
	if f.all {
		items, err := client.All(cmd.Context(), 0, page)
		return items, "", err
	}
	p, err := page(cmd.Context(), client.ListOptions{Limit: f.limit, Cursor: f.cursor})
	return p.Items, p.NextCursor, err
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func printApps(g *Global, apps []api.App, next string, single bool) error {
	if g.JSON() {
		if single && len(apps) == 1 {
			return printJSON(g.Streams.Out, apps[0])
		}
		return printJSON(g.Streams.Out, api.List[api.App]{Items: apps, NextCursor: next})
	}
	if single && len(apps) == 1 {
		a := apps[0]
		w := tabwriter.NewWriter(g.Streams.Out, 0, 4, 2, ' ', 0)
		fmt.Fprintf(w, "Name:\t%s\nNamespace:\t%s\nCreated:\t%s by %s\n", a.Name, a.Namespace, a.CreatedAt.Format(time.RFC3339), a.CreatedBy)
		keys := make([]string, 0, len(a.Env))
		for k := range a.Env {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(w, "Env:\t%s=%s\n", k, a.Env[k])
		}
		fmt.Fprintf(w, "Trust policy:\tv%d, %d key(s), requires %s\n", a.Trust.Version, len(a.Trust.Keys), strings.Join(a.Trust.RequiredAttestations, ", "))
		return w.Flush()
	}
	w := tabwriter.NewWriter(g.Streams.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "NAME\tNAMESPACE\tTRUST\tCREATED")
	for _, a := range apps {
		fmt.Fprintf(w, "%s\t%s\tv%d\t%s\n", a.Name, a.Namespace, a.Trust.Version, a.CreatedAt.Format(time.RFC3339))
	}
	if err := w.Flush(); err != nil {
		return err
	}
	moreHint(g, next)
	return nil
}

func moreHint(g *Global, next string) {
	if next != "" {
		g.Statusf("more results: add --cursor %s (or --all)", next)
	}
}
