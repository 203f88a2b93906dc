package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/aetherengine/aether/pkg/api"
	"github.com/aetherengine/aether/pkg/client"
)

func init() {
	register(newStatusCommand)
	register(newLogsCommand)
	register(newRollbackCommand)
}

func newStatusCommand(g *Global) *cobra.Command {
	var sf serverFlags
	cmd := &cobra.Command{
		Use:     "status APP",
		Short:   "Show what runs for an app: deployment, digest, URL, ready",
		Example: "  aether status hello",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := sf.client()
			if err != nil {
				return err
			}
			s, err := c.AppStatus(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if g.JSON() {
				return writeJSON(g.Streams.Out, s)
			}
			w := g.Streams.Out
			fmt.Fprintf(w, "app:        %s (runtime %s)\n", s.App, s.Runtime)
			if s.Current == nil {
				fmt.Fprintf(w, "current:    none ready yet\n")
			} else {
				fmt.Fprintf(w, "current:    %s (%s, %s)\n", s.Current.ID, s.Current.Status, s.Current.UpdatedAt.Local().Format(time.DateTime))
				fmt.Fprintf(w, "artifact:   %s\n", s.Current.Pinned())
			}
			if s.URL != "" {
				fmt.Fprintf(w, "url:        %s\n", s.URL)
			}
			ready := "no"
			if s.Ready {
				ready = "yes"
			}
			fmt.Fprintf(w, "ready:      %s (restarts %d)\n", ready, s.Restarts)
			if s.Message != "" {
				fmt.Fprintf(w, "runtime:    %s\n", s.Message)
			}
			if l := s.Latest; l != nil {
				fmt.Fprintf(w, "latest:     %s is %s", l.ID, l.Status)
				if l.Reason != "" {
					fmt.Fprintf(w, " (%s)", l.Reason)
				}
				fmt.Fprintln(w)
				if l.Message != "" {
					fmt.Fprintf(w, "            %s\n", firstLines(l.Message, 3))
				}
			}
			return nil
		},
	}
	sf.add(cmd)
	return cmd
}

func newLogsCommand(g *Global) *cobra.Command {
	var (
		sf         serverFlags
		deployment string
		tail       int
	)
	cmd := &cobra.Command{
		Use:   "logs APP",
		Short: "Print the last lines an app's processes wrote (local runtime)",
		Long: `Logs prints the tail of a deployment's log: its processes' stdout and stderr,
and the runtime's own lines (marked [aether]). By default it is the deployment
the app serves, or its newest one when none serves yet.`,
		Example: "  aether logs hello --tail 50\n  aether logs hello --deployment dep_abc123",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if tail < 1 || tail > api.MaxLogTail {
				return usageError("--tail must be between 1 and %d", api.MaxLogTail)
			}
			c, err := sf.client()
			if err != nil {
				return err
			}
			id := deployment
			if id == "" {
				if id, err = logsDeployment(cmd.Context(), c, args[0]); err != nil {
					return err
				}
			}
			l, err := c.DeploymentLogs(cmd.Context(), id, tail)
			if err != nil {
				return err
			}
			if g.JSON() {
				return writeJSON(g.Streams.Out, l)
			}
			if l.Truncated {
				g.Statusf("(older lines of %s exist; --tail shows more)", id)
			}
			for _, line := range l.Lines {
				fmt.Fprintln(g.Streams.Out, line)
			}
			return nil
		},
	}
	sf.add(cmd)
	cmd.Flags().StringVar(&deployment, "deployment", "", "deployment id (default: the one the app serves)")
	cmd.Flags().IntVar(&tail, "tail", api.DefaultLogTail, "number of lines")
	return cmd
}

// logsDeployment picks the deployment whose logs to show: the newest one
// when it is not the serving one (a failed or rolling-out version is what
// one looks at), else the serving one.
func logsDeployment(ctx context.Context, c *client.Client, app string) (string, error) {
	s, err := c.AppStatus(ctx, app)
	if err != nil {
		return "", err
	}
	switch {
	case s.Latest != nil:
		return s.Latest.ID, nil
	case s.Current != nil:
		return s.Current.ID, nil
	}
	return "", fmt.Errorf("app %s has no deployment yet; deploy it with aether deploy", app)
}

func newRollbackCommand(g *Global) *cobra.Command {
	var (
		sf     serverFlags
		to     string
		noWait bool
		wait   time.Duration
	)
	cmd := &cobra.Command{
		Use:   "rollback APP",
		Short: "Deploy the app's previous ready version again",
		Long: `Rollback deploys again the artifact of the app's newest ready deployment whose
digest differs from the one serving now (or of --to DEPLOYMENT), pinned by
digest, with that deployment's env. It goes through admission like any deploy.
It waits until the version is ready and prints its URL on stdout.`,
		Example: "  aether rollback hello\n  aether rollback hello --to dep_abc123",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := sf.client()
			if err != nil {
				return err
			}
			d, err := c.Rollback(cmd.Context(), args[0], to)
			if err != nil {
				return err
			}
			g.Statusf("rolling back %s to %s (deployment %s)", args[0], shortDigest(d.Digest), d.ID)
			if noWait {
				if g.JSON() {
					return writeJSON(g.Streams.Out, d)
				}
				fmt.Fprintln(g.Streams.Out, d.ID)
				return nil
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), wait)
			defer cancel()
			d, err = c.WatchDeployment(ctx, d.ID, client.WatchOptions{}, func(e api.Event) {
				msg := e.Message
				if e.Reason != "" {
					msg = e.Reason + ": " + msg
				}
				g.Statusf("  %-11s %s", e.Status, firstLines(msg, 1))
			})
			if errors.Is(err, context.DeadlineExceeded) {
				return fmt.Errorf("deployment %s is not ready after %s; see aether status %s", d.ID, wait, args[0])
			}
			if err != nil {
				return err
			}
			if d.Status != api.StatusReady {
				return fmt.Errorf("rollback of %s failed: %s (%s); see aether logs %s --deployment %s", args[0], d.Status, d.Reason, args[0], d.ID)
			}
			if g.JSON() {
				return writeJSON(g.Streams.Out, d)
			}
			s, err := c.AppStatus(cmd.Context(), args[0])
			if err == nil && s.URL != "" {
				fmt.Fprintln(g.Streams.Out, s.URL)
			}
			return nil
		},
	}
	sf.add(cmd)
	cmd.Flags().StringVar(&to, "to", "", "the earlier ready deployment to go back to (default: the previous version)")
	cmd.Flags().BoolVar(&noWait, "no-wait", false, "return once the deployment is accepted")
	cmd.Flags().DurationVar(&wait, "timeout", 5*time.Minute, "how long to wait for the version to be ready")
	return cmd
}

// firstLines keeps the first n lines of s.
func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	if len(lines) > n {
		lines = append(lines[:n], "…")
	}
	return strings.Join(lines, "\n            ")
}
