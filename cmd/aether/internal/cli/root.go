// Package cli holds the aether commands. Commands are thin: they parse flags,
// call a pkg/ library and print its result (data on stdout, status on stderr).
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/aetherengine/aether/pkg/term"
	"github.com/aetherengine/aether/pkg/version"
)

// Exit codes.
const (
	ExitOK    = 0
	ExitError = 1
	ExitUsage = 2
	// ExitVerify is returned when an artifact fails verification.
	ExitVerify = 3
)

// Streams are the command's standard streams.
type Streams struct {
	In  io.Reader
	Out io.Writer
	Err io.Writer
}

// StdStreams returns the process's standard streams.
func StdStreams() Streams { return Streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr} }

// Global holds the flags every command shares.
type Global struct {
	Streams Streams
	// Output is "text" or "json".
	Output  string
	Verbose bool
	Log     *slog.Logger
}

// JSON reports whether --output json was asked for.
func (g *Global) JSON() bool { return g.Output == "json" }

// Progress reports whether progress may be drawn on stderr (a terminal, and
// not JSON output).
func (g *Global) Progress() bool { return !g.JSON() && term.IsTerminal(g.Streams.Err) }

// Statusf writes a status line to stderr (never stdout, which is data).
func (g *Global) Statusf(format string, args ...any) {
	fmt.Fprintf(g.Streams.Err, format+"\n", args...)
}

// exitError carries an exit code through cobra.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// withExitCode wraps err so that Execute exits with code.
func withExitCode(code int, err error) error {
	if err == nil {
		return nil
	}
	return &exitError{code: code, err: err}
}

// usageError marks err as a usage error (exit 2).
func usageError(format string, args ...any) error {
	return withExitCode(ExitUsage, fmt.Errorf(format, args...))
}

// commandFactories are the subcommands; each command file adds its own in an
// init function so that the files stay independent.
var commandFactories []func(*Global) *cobra.Command

func register(f func(*Global) *cobra.Command) { commandFactories = append(commandFactories, f) }

// NewRootCommand builds the aether command tree.
func NewRootCommand(s Streams) (*cobra.Command, *Global) {
	g := &Global{Streams: s, Output: "text"}
	root := &cobra.Command{
		Use:   "aether",
		Short: "Ship Node.js services to Kubernetes as signed OCI artifacts",
		Long: `aether builds a Node.js app into a reproducible OCI artifact on your machine or in CI,
pushes it to any OCI registry, signs it and attaches a CycloneDX SBOM and SLSA
provenance as OCI 1.1 referrers, and deploys it through the AetherEngine control plane.`,
		Version:       version.String(),
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			switch g.Output {
			case "text", "json":
			default:
				return usageError("--output must be text or json, not %q", g.Output)
			}
			level := slog.LevelWarn
			if g.Verbose {
				level = slog.LevelDebug
			}
			g.Log = slog.New(slog.NewTextHandler(g.Streams.Err, &slog.HandlerOptions{Level: level}))
			return nil
		},
	}
	root.SetIn(s.In)
	root.SetOut(s.Out)
	root.SetErr(s.Err)
	root.PersistentFlags().StringVarP(&g.Output, "output", "o", "text", "output format: text or json")
	root.PersistentFlags().BoolVarP(&g.Verbose, "verbose", "v", false, "log debug details to stderr")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return withExitCode(ExitUsage, err) })
	for _, f := range commandFactories {
		root.AddCommand(f(g))
	}
	return root, g
}

// Execute runs the command line and returns the process exit code.
func Execute(ctx context.Context, args []string, s Streams) int {
	root, _ := NewRootCommand(s)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	fmt.Fprintf(s.Err, "Error: %v\n", err)
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	if isUsage(err) {
		return ExitUsage
	}
	return ExitError
}

// isUsage recognises cobra's argument errors.
func isUsage(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand", "accepts ", "requires at least", "requires at most"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}
