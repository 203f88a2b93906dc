package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/spf13/cobra"

	"github.com/aetherengine/aether/pkg/build"
	"github.com/aetherengine/aether/pkg/progress"
	"github.com/aetherengine/aether/pkg/provenance"
	"github.com/aetherengine/aether/pkg/publish"
	"github.com/aetherengine/aether/pkg/push"
	"github.com/aetherengine/aether/pkg/registry"
	"github.com/aetherengine/aether/pkg/signing"
)

func init() { register(newPushCommand) }

// registryFlags are the flags of every command that talks to a registry.
type registryFlags struct {
	plainHTTP    bool
	dockerConfig string
}

func (f *registryFlags) add(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&f.plainHTTP, "plain-http", false, "use plain HTTP (automatic for localhost and 127.0.0.1)")
	cmd.Flags().StringVar(&f.dockerConfig, "docker-config", "", "Docker config file with registry credentials (default $DOCKER_CONFIG/config.json or ~/.docker/config.json)")
}

func (f *registryFlags) options(g *Global) registry.Options {
	o := registry.Options{PlainHTTP: f.plainHTTP, DockerConfig: f.dockerConfig}
	if g.Verbose {
		o.Log = g.Log
	}
	return o
}

// pushOutput is what push prints with --output json.
type pushOutput struct {
	Build *build.Result  `json:"build,omitempty"`
	Push  *push.Result   `json:"push"`
	Steps []publish.Step `json:"steps,omitempty"`
}

// signFlags are push's (and deploy's) signing flags.
type signFlags struct {
	key        string
	sign       bool
	sbom       bool
	provenance bool
	source     string
	builderID  string
}

func (f *signFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.key, "key", "", "private key (cosign.key) to sign and attest with")
	cmd.Flags().BoolVar(&f.sign, "sign", false, "sign the pushed digest (cosign-compatible)")
	cmd.Flags().BoolVar(&f.sbom, "sbom", false, "attach the build's CycloneDX SBOM as a signed attestation")
	cmd.Flags().BoolVar(&f.provenance, "provenance", false, "attach SLSA v1 provenance as a signed attestation")
	cmd.Flags().StringVar(&f.source, "source", "", "source directory for provenance (default: the app directory)")
	cmd.Flags().StringVar(&f.builderID, "builder-id", "", "override the provenance builder id")
}

// signer loads the key when signing or attesting was asked for.
func (f *signFlags) signer(g *Global) (signing.Signer, error) {
	if !f.sign && !f.sbom && !f.provenance {
		if f.key != "" {
			return nil, usageError("--key given without --sign, --sbom or --provenance: say what to do with it")
		}
		return nil, nil
	}
	if f.key == "" {
		return nil, usageError("--sign, --sbom and --provenance need --key cosign.key (make one with aether keygen)")
	}
	return loadSigner(g, f.key)
}

func newPushCommand(g *Global) *cobra.Command {
	var (
		f  buildFlags
		rf registryFlags
		sf signFlags
	)
	cmd := &cobra.Command{
		Use:   "push [DIR|LAYOUT] REF",
		Short: "Push an artifact to an OCI registry (building it first from a source directory)",
		Long: `Push copies the artifact to any OCI registry (Harbor, GHCR, ECR, distribution, ...).
Blobs the registry already has are skipped, so an unchanged dependency layer is
never uploaded twice. Given an app directory, push builds it first; given an OCI
layout (from aether build), it pushes what is there.

Credentials come from the Docker config file and its credential helpers, as for
docker, crane and oras (see aether login). Registries on localhost and 127.0.0.1
use plain HTTP.

With --key and --sign, --sbom, --provenance, push also signs the digest and
attaches the SBOM and SLSA provenance as signed attestations (cosign-compatible
OCI 1.1 referrers). What this key already attached to the digest is skipped.

Prints REPOSITORY@sha256:DIGEST on stdout: deploy or sign that, not the tag.`,
		Example: `  aether push examples/hello ghcr.io/acme/hello:v1
  aether push .aether/layout localhost:5000/hello --output json
  aether push . ghcr.io/acme/hello:v2 --key cosign.key --sign --sbom --provenance`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			src, ref := ".", args[0]
			if len(args) == 2 {
				src, ref = args[0], args[1]
			}
			if _, err := registry.ParseReference(ref); err != nil {
				return withExitCode(ExitUsage, err)
			}
			signer, err := sf.signer(g)
			if err != nil {
				return err
			}
			out := pushOutput{}
			layout := src
			started := time.Now()
			source := sf.source
			if !push.IsLayout(src) {
				if _, err := os.Stat(filepath.Join(src, "package.json")); err != nil {
					return usageError("%s is neither an OCI layout nor an app directory with package.json", src)
				}
				res, err := build.Build(cmd.Context(), f.options(g, src))
				if err != nil {
					return err
				}
				out.Build = res
				layout = res.Layout
				if source == "" {
					source = src
				}
				if !g.JSON() {
					printBuildSummary(g.Streams.Err, res)
				}
			}
			if source == "" {
				source = "."
			}
			opts := publish.Options{
				Push:       push.Options{Registry: rf.options(g), Log: g.Log},
				Signer:     signer,
				SBOM:       sf.sbom,
				Provenance: sf.provenance,
				ProvenanceOptions: provenance.Options{Dir: source, BuilderID: sf.builderID,
					StartedOn: started, FinishedOn: time.Now()},
				Log: g.Log,
			}
			var bars *progress.Bars
			if g.Progress() {
				bars = progress.New(g.Streams.Err)
				attachBars(bars, &opts.Push)
			}
			res, err := publish.Publish(cmd.Context(), layout, ref, opts)
			if bars != nil {
				bars.Stop()
			}
			if res != nil {
				out.Push, out.Steps = res.Push, res.Steps
			}
			if err != nil {
				return err
			}
			if g.JSON() {
				return writeJSON(g.Streams.Out, out)
			}
			fmt.Fprintln(g.Streams.Out, res.Push.Reference)
			printPushSummary(g.Streams.Err, res.Push)
			for _, s := range res.Steps {
				if s.Status == publish.StatusSkipped {
					fmt.Fprintf(g.Streams.Err, "  %-12s skipped: already attached by this key (%s)\n", s.Name, short(s.Referrer))
				} else {
					fmt.Fprintf(g.Streams.Err, "  %-12s attached %s (%s)\n", s.Name, short(s.Referrer), (time.Duration(s.DurationMS) * time.Millisecond).String())
				}
			}
			return nil
		},
	}
	f.add(cmd)
	rf.add(cmd)
	sf.add(cmd)
	return cmd
}

// attachBars draws one bar per blob: uploads fill up, skipped blobs show
// "exists".
func attachBars(bars *progress.Bars, opts *push.Options) {
	var mu sync.Mutex
	byDigest := map[string]*progress.Bar{}
	get := func(d ocispec.Descriptor, label string) *progress.Bar {
		mu.Lock()
		defer mu.Unlock()
		b, ok := byDigest[d.Digest.String()]
		if !ok {
			b = bars.Add(label, d.Size)
			byDigest[d.Digest.String()] = b
		}
		return b
	}
	opts.OnBlob = func(d ocispec.Descriptor, label string) func(int64) { return get(d, label).Set }
	opts.OnBlobDone = func(d ocispec.Descriptor, label, status string) { get(d, label).Done(status) }
}

func printPushSummary(w io.Writer, r *push.Result) {
	fmt.Fprintf(w, "Pushed %s:%s\n", r.Repository, r.Tag)
	for _, b := range r.Blobs {
		status := b.Status
		if status == push.StatusExists {
			status = "skipped: already in the registry"
		}
		fmt.Fprintf(w, "  %-12s %s  %9s  %s\n", b.Label, short(b.Digest), progress.Bytes(b.Size), status)
	}
	fmt.Fprintf(w, "Uploaded %s, skipped %s (%s)\n", progress.Bytes(r.UploadedBytes), progress.Bytes(r.SkippedBytes),
		(time.Duration(r.DurationMS) * time.Millisecond).String())
}
