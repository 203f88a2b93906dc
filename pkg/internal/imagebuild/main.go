// Command imagebuild builds the container images of aether-controlplane
// and aether-fetch without a Docker engine: it cross-compiles each command
// (CGO_ENABLED=0, -trimpath, no build id) for every platform, puts the
// binary on a base image with go-containerregistry, and writes one
// multi-platform OCI image index per command into an OCI layout (and
// optionally pushes it). Alongside each layout it writes the command's
// CycloneDX SBOM, made from `go version -m` of the binaries.
//
// The default base is built here too, reproducibly: a distroless-static
// equivalent (passwd/group with the nonroot user 65532, this machine's CA
// bundle, /tmp 1777). --base takes an OCI layout directory or an image
// reference instead.
//
// Every timestamp is SOURCE_DATE_EPOCH (0 when unset) and every tar is
// sorted, so two builds of the same tree give the same digests.
//
//	go run ./pkg/internal/imagebuild --out dist/images --version v1.2.3 [aether-fetch …]
//
// stdout gets one line per image: NAME DIGEST LAYOUT_DIR [PUSHED_REF@DIGEST].
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// defaultImages are the commands built when none is named.
var defaultImages = []string{"aether-controlplane", "aether-fetch"}

// validVersion keeps the version usable as an OCI tag and in -ldflags.
var validVersion = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.+-]{0,127}$`)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	opts, err := parseFlags(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "imagebuild: %v\n", err)
		return 2
	}
	results, err := build(ctx, opts, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "imagebuild: %v\n", err)
		return 1
	}
	for _, r := range results {
		line := fmt.Sprintf("%s %s %s", r.Name, r.Digest, r.Layout)
		if r.Pushed != "" {
			line += " " + r.Pushed
		}
		fmt.Fprintln(stdout, line)
	}
	return 0
}

func parseFlags(args []string, getenv func(string) string, stderr io.Writer) (options, error) {
	fs := flag.NewFlagSet("imagebuild", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: go run ./pkg/internal/imagebuild [flags] [COMMAND…]  (default: "+strings.Join(defaultImages, " ")+")")
		fs.PrintDefaults()
	}
	var o options
	version := getenv("VERSION")
	if version == "" {
		version = "dev"
	}
	fs.StringVar(&o.Repo, "repo", ".", "module root holding ./cmd/COMMAND")
	fs.StringVar(&o.Out, "out", "dist/images", "directory for the OCI layouts (OUT/COMMAND) and SBOMs (OUT/COMMAND.cdx.json)")
	fs.StringVar(&o.Release.Version, "version", version, "release version: pkg/version.Version, the layout's tag and org.opencontainers.image.version (env VERSION)")
	fs.StringVar(&o.Release.Revision, "revision", "", "source revision (git commit) for org.opencontainers.image.revision")
	fs.StringVar(&o.Release.Source, "source", "https://github.com/aetherengine/aether", "source repository URL for org.opencontainers.image.source")
	platforms := fs.String("platforms", "linux/amd64,linux/arm64", "comma-separated platforms of each index")
	fs.StringVar(&o.Base, "base", "", "base image: an OCI layout directory or an image reference; empty builds the static base here")
	fs.StringVar(&o.CABundle, "ca-bundle", "/etc/ssl/certs/ca-certificates.crt", "CA bundle copied into the built-in base")
	epoch := fs.String("source-date-epoch", getenv("SOURCE_DATE_EPOCH"), "every timestamp, in seconds since 1970 (env SOURCE_DATE_EPOCH; default 0)")
	fs.StringVar(&o.Push, "push", "", "also push each index to PUSH/COMMAND:VERSION (e.g. ghcr.io/org); credentials from the Docker config")
	fs.StringVar(&o.PushedFile, "pushed-file", "", "with --push, write \"COMMAND REF@DIGEST\" lines here (default OUT/pushed.txt)")
	fs.BoolVar(&o.SBOM, "sbom", true, "write OUT/COMMAND.cdx.json, the CycloneDX SBOM of the command's Go modules")
	fs.StringVar(&o.GoBin, "go", "go", "the go command")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	o.Images = fs.Args()
	if len(o.Images) == 0 {
		o.Images = defaultImages
	}
	for _, n := range o.Images {
		if !validVersion.MatchString(n) || strings.Contains(n, "..") {
			return o, fmt.Errorf("command %q is not a directory name under ./cmd", n)
		}
	}
	if !validVersion.MatchString(o.Release.Version) {
		return o, fmt.Errorf("--version %q: use letters, digits and . _ + - (it becomes an OCI tag)", o.Release.Version)
	}
	secs := int64(0)
	if *epoch != "" {
		n, err := strconv.ParseInt(*epoch, 10, 64)
		if err != nil || n < 0 {
			return o, fmt.Errorf("source date epoch %q is not a number of seconds since 1970", *epoch)
		}
		secs = n
	}
	o.Release.Created = time.Unix(secs, 0).UTC()
	for _, s := range strings.Split(*platforms, ",") {
		p, err := v1.ParsePlatform(strings.TrimSpace(s))
		if err != nil || p.OS == "" || p.Architecture == "" {
			return o, fmt.Errorf("--platforms: %q is not OS/ARCH such as linux/arm64", s)
		}
		o.Platforms = append(o.Platforms, *p)
	}
	if o.PushedFile == "" && o.Push != "" {
		o.PushedFile = o.Out + "/pushed.txt"
	}
	return o, nil
}
