// Command aether-fetch is the init container of an Aether deployment: it
// pulls an artifact by digest, verifies it, and extracts it safely into a
// directory the app container then runs from. See docs/fetch.md.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/aetherengine/aether/pkg/fetch"
	"github.com/aetherengine/aether/pkg/version"
)

// Exit codes, one per class of failure, so a Pod's status tells an operator
// where to look without reading logs.
const (
	exitOK       = 0
	exitInternal = 1
	exitUsage    = 2
	exitRegistry = 3
	exitVerify   = 4
	exitExtract  = 5
)

const usage = `usage: aether-fetch REF DEST [flags]

Pulls the Aether artifact REF (REPO@sha256:DIGEST) from its registry,
verifies the manifest, config, every layer digest and every file, and
extracts it into DEST, which must be absent or an empty directory inside a
volume (not the volume's mount point). DEST appears complete, or not at all.

Flags (before or after REF and DEST):
  --docker-config FILE  registry credentials: a Docker config file, e.g. a
                        mounted kubernetes.io/dockerconfigjson secret's
                        .dockerconfigjson (default: $DOCKER_CONFIG/config.json
                        or ~/.docker/config.json)
  --allow-tag           accept REPO:TAG; it is resolved once and the digest
                        logged (default: digests only)
  --plain-http          talk plain HTTP to the registry (always on for
                        localhost and 127.0.0.0/8)
  --verify-files        check every file against the artifact's per-file
                        list (default true; --verify-files=false skips it)
  --key FILE            before pulling, verify the artifact's cosign
                        signature against this public key (repeatable: any
                        of them may sign); fails with exit 4 when unsigned
  --require-sbom        with --key: also require a signed, valid CycloneDX
                        SBOM attestation
  --output text|json    what to print on stdout when done (default text)
  --quiet, -q           log warnings only
  --verbose, -v         log every layer
  --version             print the version and exit

Exit codes:
  0  DEST holds the verified, extracted artifact
  1  internal error (local I/O, disk full, interrupted)
  2  usage: bad flags, a tag without --allow-tag, unusable DEST or
     credentials file
  3  registry: unreachable, credentials refused, artifact not found
  4  verification: the registry served something else than REF (digest
     mismatch, not an Aether artifact, config inconsistent with layers)
  5  extraction refused: a layer breaks a safety rule (path escape,
     special file, size limits); the message names the entry and the rule
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

type options struct {
	dockerConfig string
	allowTag     bool
	plainHTTP    bool
	verifyFiles  bool
	output       string
	quiet        bool
	verbose      bool
	version      bool
	keys         []string
	requireSBOM  bool
}

// run is main without the process: tests call it.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var o options
	fs := newFlags(&o)
	pos, err := parseInterspersed(fs, args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprint(stdout, usage)
		return exitOK
	case err != nil:
		return fail(stderr, exitUsage, fmt.Sprintf("%v (see aether-fetch --help)", err))
	case o.version:
		fmt.Fprintln(stdout, "aether-fetch", version.String())
		return exitOK
	case len(pos) != 2:
		return fail(stderr, exitUsage, fmt.Sprintf("want 2 arguments, REF and DEST; got %d (see aether-fetch --help)", len(pos)))
	case o.output != "text" && o.output != "json":
		return fail(stderr, exitUsage, fmt.Sprintf("--output is %q; want text or json", o.output))
	}

	level := slog.LevelInfo
	if o.quiet {
		level = slog.LevelWarn
	}
	if o.verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	ref, dest := pos[0], pos[1]
	if len(o.keys) > 0 {
		pinned, err := verifySignature(ctx, ref, o, log)
		if err != nil {
			return fail(stderr, exitCodeVerify(ctx, err), err.Error())
		}
		ref = pinned
	}
	res, err := fetch.Fetch(ctx, ref, dest, fetch.Options{
		AllowTag:      o.allowTag,
		PlainHTTP:     o.plainHTTP,
		DockerConfig:  o.dockerConfig,
		NoVerifyFiles: !o.verifyFiles,
		UserAgent:     "aether-fetch/" + version.String(),
		Logger:        log,
	})
	if err != nil {
		return fail(stderr, exitCode(ctx, err), err.Error())
	}
	if o.output == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			return fail(stderr, exitInternal, err.Error())
		}
		return exitOK
	}
	fmt.Fprintf(stdout, "%s extracted to %s: %d files, %.1f MB in %s\n",
		res.Reference, res.Dest, res.Files, float64(res.Bytes)/1e6, res.Timings.Total.Round(time.Millisecond))
	return exitOK
}

// newFlags defines the flags; the usage text documents them.
func newFlags(o *options) *flag.FlagSet {
	fs := flag.NewFlagSet("aether-fetch", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&o.dockerConfig, "docker-config", "", "")
	fs.BoolVar(&o.allowTag, "allow-tag", false, "")
	fs.BoolVar(&o.plainHTTP, "plain-http", false, "")
	fs.BoolVar(&o.verifyFiles, "verify-files", true, "")
	fs.StringVar(&o.output, "output", "text", "")
	fs.BoolVar(&o.quiet, "quiet", false, "")
	fs.BoolVar(&o.quiet, "q", false, "")
	fs.BoolVar(&o.verbose, "verbose", false, "")
	fs.BoolVar(&o.verbose, "v", false, "")
	fs.BoolVar(&o.version, "version", false, "")
	fs.Func("key", "", func(v string) error { o.keys = append(o.keys, v); return nil })
	fs.BoolVar(&o.requireSBOM, "require-sbom", false, "")
	return fs
}

// parseInterspersed lets flags follow the positional arguments, as in
// `aether-fetch REF DEST --allow-tag`; "--" ends flag parsing.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		// flag stops at "--" or the first non-flag; fs.Args() then starts
		// after "--" (all positional) or at that argument.
		consumed := len(args) - len(rest)
		if consumed > 0 && args[consumed-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

func exitCode(ctx context.Context, err error) int {
	if ctx.Err() != nil {
		return exitInternal
	}
	switch fetch.ClassOf(err) {
	case fetch.ClassUsage:
		return exitUsage
	case fetch.ClassRegistry:
		return exitRegistry
	case fetch.ClassVerify:
		return exitVerify
	case fetch.ClassExtract:
		return exitExtract
	}
	return exitInternal
}

// fail prints one line an operator reading `kubectl logs` can act on.
func fail(stderr io.Writer, code int, msg string) int {
	msg = strings.ReplaceAll(strings.TrimSpace(msg), "\n", " ")
	fmt.Fprintf(stderr, "aether-fetch: %s\n", msg)
	return code
}
