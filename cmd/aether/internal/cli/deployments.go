package cli

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/aetherengine/aether/pkg/api"
	"github.com/aetherengine/aether/pkg/client"
)

func init() { register(newDeploymentsCommand) }

func newDeploymentsCommand(g *Global) *cobra.Command {
	var sf serverFlags
	cmd := &cobra.Command{
		Use:     "deployments",
		Aliases: []string{"deployment", "deploys"},
		Short:   "Inspect deployments on the control plane",
	}
	sf.add(cmd)
	cmd.AddCommand(newDeploymentsListCommand(g, &sf), newDeploymentsGetCommand(g, &sf))
	return cmd
}

func newDeploymentsListCommand(g *Global, sf *serverFlags) *cobra.Command {
	var (
		lf  listFlags
		app string
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List deployments, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := sf.client()
			if err != nil {
				return err
			}
			items, next, err := fetchList(cmd, &lf, func(ctx context.Context, o client.ListOptions) (api.List[api.Deployment], error) {
				return c.ListDeployments(ctx, app, o)
			})
			if err != nil {
				return err
			}
			if g.JSON() {
				return printJSON(g.Streams.Out, api.List[api.Deployment]{Items: items, NextCursor: next})
			}
			w := tabwriter.NewWriter(g.Streams.Out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "ID\tAPP\tSTATUS\tDIGEST\tCREATED")
			for _, d := range items {
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", d.ID, d.App, d.Status, shortDigest(d.Digest), d.CreatedAt.Format(time.RFC3339))
			}
			if err := w.Flush(); err != nil {
				return err
			}
			moreHint(g, next)
			return nil
		},
	}
	lf.add(cmd)
	cmd.Flags().StringVar(&app, "app", "", "only this app's deployments")
	return cmd
}

func newDeploymentsGetCommand(g *Global, sf *serverFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "get ID",
		Short: "Show a deployment and its events",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := sf.client()
			if err != nil {
				return err
			}
			d, err := c.GetDeployment(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			events, err := client.All(cmd.Context(), 1000, func(ctx context.Context, o client.ListOptions) (api.List[api.Event], error) {
				return c.ListEvents(ctx, d.ID, o)
			})
			if err != nil {
				return err
			}
			if g.JSON() {
				return printJSON(g.Streams.Out, struct {
					api.Deployment
					Events []api.Event `json:"events"`
				}{d, events})
			}
			w := tabwriter.NewWriter(g.Streams.Out, 0, 4, 2, ' ', 0)
			fmt.Fprintf(w, "ID:\t%s\nApp:\t%s\nArtifact:\t%s\nDigest:\t%s\nStatus:\t%s\n", d.ID, d.App, d.ArtifactRef, orNone(d.Digest), d.Status)
			if d.Reason != "" {
				fmt.Fprintf(w, "Reason:\t%s\n", d.Reason)
			}
			if d.Message != "" {
				fmt.Fprintf(w, "Message:\t%s\n", d.Message)
			}
			fmt.Fprintf(w, "Created:\t%s by %s\n\nEVENTS\n", d.CreatedAt.Format(time.RFC3339), d.CreatedBy)
			for _, e := range events {
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", e.At.Format(time.RFC3339), e.Type, e.Status, e.Message)
			}
			return w.Flush()
		},
	}
}

func shortDigest(d string) string {
	if len(d) > 19 {
		return d[:19]
	}
	return orNone(d)
}

func orNone(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
