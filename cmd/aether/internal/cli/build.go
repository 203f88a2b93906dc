package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/aetherengine/aether/pkg/build"
	"github.com/aetherengine/aether/pkg/progress"
)

func init() { register(newBuildCommand) }

// buildFlags are the flags shared by build, push and deploy.
type buildFlags struct {
	layout   string
	cacheDir string
	node     string
	start    string
	port     int
}

func (f *buildFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.layout, "layout", "", "OCI layout directory to write (default DIR/.aether/layout)")
	cmd.Flags().StringVar(&f.cacheDir, "cache-dir", "", "dependency cache (default $AETHER_CACHE_DIR, else $XDG_CACHE_HOME/aether)")
	cmd.Flags().StringVar(&f.node, "node", "", "node binary that installs dependencies (default: node in PATH)")
	cmd.Flags().StringVar(&f.start, "start", "", `start command (default: package.json scripts.start, else main), e.g. "node server.js"`)
	cmd.Flags().IntVar(&f.port, "port", 0, "port the app listens on (default 3000)")
}

func (f *buildFlags) options(g *Global, dir string) build.Options {
	o := build.Options{Dir: dir, Layout: f.layout, CacheDir: f.cacheDir, Node: f.node, Start: f.start, Port: f.port, Log: g.Log}
	if g.Progress() || g.Verbose {
		o.Stage = func(s string) { g.Statusf("• %s", s) }
	}
	return o
}

func newBuildCommand(g *Global) *cobra.Command {
	var f buildFlags
	cmd := &cobra.Command{
		Use:   "build [DIR]",
		Short: "Build a Node.js app into a reproducible OCI artifact",
		Long: `Build installs the app's production dependencies with npm ci (cached by lockfile,
Node.js version and platform), packages them and the app's own files as two
reproducible layers, and writes the artifact with its CycloneDX SBOM into an
OCI image layout. Files listed in .aetherignore (gitignore syntax), .git and
the source tree's node_modules stay out of the app layer.

Prints the artifact digest on stdout; a summary goes to stderr.`,
		Example: `  aether build examples/hello
  aether build . --layout /tmp/out --output json`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := "."
			if len(args) == 1 {
				dir = args[0]
			}
			res, err := build.Build(cmd.Context(), f.options(g, dir))
			if err != nil {
				return err
			}
			if g.JSON() {
				return writeJSON(g.Streams.Out, res)
			}
			fmt.Fprintln(g.Streams.Out, res.Digest)
			printBuildSummary(g.Streams.Err, res)
			return nil
		},
	}
	f.add(cmd)
	return cmd
}

func printBuildSummary(w io.Writer, r *build.Result) {
	name := r.App.Name
	if r.App.Version != "" {
		name += "@" + r.App.Version
	}
	fmt.Fprintf(w, "Built %s in %s (node %s, %s)\n", name, (time.Duration(r.DurationMS) * time.Millisecond).String(), r.Node.Version, r.Node.Platform)
	for _, l := range r.Layers {
		note := ""
		if l.Role == "dependencies" {
			switch {
			case r.Cache.Hit && l.Cached:
				note = "  cache hit: npm ci skipped, layer reused"
			case r.Cache.Hit:
				note = "  cache hit: npm ci skipped"
			default:
				note = "  cache miss: installed with npm ci"
			}
		}
		fmt.Fprintf(w, "  %-12s %s  %6d files  %9s → %9s%s\n", l.Role, short(l.Digest), l.Files, progress.Bytes(l.ContentSize), progress.Bytes(l.Size), note)
	}
	fmt.Fprintf(w, "  %-12s %d components\n", "sbom", r.SBOM.Components)
	fmt.Fprintf(w, "  %-12s %s (tag %s)\n", "layout", r.Layout, r.Tag)
}

// short abbreviates a digest for display.
func short(d string) string {
	if len(d) > 19 {
		return d[:19] + "…"
	}
	return d
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
