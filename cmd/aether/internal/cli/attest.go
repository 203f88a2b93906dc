package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/spf13/cobra"

	"github.com/aetherengine/aether/pkg/artifact"
	"github.com/aetherengine/aether/pkg/provenance"
	"github.com/aetherengine/aether/pkg/publish"
	"github.com/aetherengine/aether/pkg/referrers"
	"github.com/aetherengine/aether/pkg/registry"
	"github.com/aetherengine/aether/pkg/sbom"
	"github.com/aetherengine/aether/pkg/signing"
)

func init() { register(newAttestCommand) }

// maxConfigBytes bounds the artifact config read for provenance: it lists
// every file of both layers (about 150 bytes each).
const maxConfigBytes = 32 << 20

func newAttestCommand(g *Global) *cobra.Command {
	var (
		rf                    registryFlags
		key, sbomPath         string
		withProvenance        bool
		sourceDir, builderID  string
		startedOn, finishedOn string
	)
	cmd := &cobra.Command{
		Use:   "attest REF --key cosign.key (--sbom FILE | --provenance)",
		Short: "Attach a signed CycloneDX SBOM or SLSA provenance to an artifact",
		Long: `Attest signs an in-toto attestation about the artifact's digest and attaches it
as an OCI 1.1 referrer, as ` + "`cosign attest`" + ` does:

  --sbom FILE     the CycloneDX JSON SBOM (predicateType https://cyclonedx.org/bom).
                  FILE may also be the OCI layout ` + "`aether build`" + ` wrote: the SBOM it
                  holds for this artifact is used. The SBOM is validated first.
  --provenance    SLSA v1 provenance (predicateType https://slsa.dev/provenance/v1):
                  builder id, build type, the source repository, ref and commit (from
                  the GitHub Actions or GitLab CI environment when present, else from
                  git in --source), the lockfile digest, Node.js version and platform
                  (from the artifact's config), and --started-on/--finished-on.

Both may be given at once. A tag is resolved to its digest once. The stock
` + "`cosign verify-attestation --type cyclonedx|slsaprovenance1`" + ` accepts the result.`,
		Example: `  aether attest ghcr.io/acme/hello:v1 --key cosign.key --sbom .aether/layout
  aether attest ghcr.io/acme/hello@sha256:... --key cosign.key --provenance --source .`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if key == "" {
				return usageError("--key is required: the cosign.key to sign with")
			}
			if sbomPath == "" && !withProvenance {
				return usageError("nothing to attest: give --sbom FILE, --provenance, or both")
			}
			started, err := parseTimeFlag("--started-on", startedOn)
			if err != nil {
				return err
			}
			finished, err := parseTimeFlag("--finished-on", finishedOn)
			if err != nil {
				return err
			}
			signer, err := loadSigner(g, key)
			if err != nil {
				return err
			}
			s, err := resolveSubject(ctx, g, rf, args[0])
			if err != nil {
				return err
			}
			type attestation struct {
				predicateType string
				predicate     []byte
			}
			var todo []attestation
			if sbomPath != "" {
				doc, err := readSBOM(ctx, sbomPath, s.desc)
				if err != nil {
					return err
				}
				sum, err := sbom.Validate(doc)
				if err != nil {
					return withExitCode(ExitUsage, fmt.Errorf("%s: %w", sbomPath, err))
				}
				g.Log.Debug("sbom", "components", sum.Components, "specVersion", sum.SpecVersion)
				todo = append(todo, attestation{signing.PredicateCycloneDX, doc})
			}
			if withProvenance {
				opts := provenance.Options{Dir: sourceDir, BuilderID: builderID, StartedOn: started, FinishedOn: finished}
				if cfg, err := artifactConfig(ctx, s); err != nil {
					return err
				} else if cfg != nil {
					opts.ApplyConfig(*cfg)
				}
				p, err := provenance.Generate(ctx, opts)
				if err != nil {
					return err
				}
				b, err := p.JSON()
				if err != nil {
					return err
				}
				todo = append(todo, attestation{signing.PredicateSLSAProvenance1, b})
			}
			out := signOutput{Subject: s.ref}
			for _, a := range todo {
				d, err := signing.Attest(ctx, s.repo, s.desc, signer, a.predicateType, a.predicate)
				if err != nil {
					return registry.Explain(err, s.host)
				}
				out.Referrers = append(out.Referrers, attachedReferrer{Digest: d.Digest.String(), PredicateType: a.predicateType})
				if !g.JSON() {
					g.Statusf("Attached %s attestation %s to %s", a.predicateType, short(d.Digest.String()), s.ref)
				}
			}
			if g.JSON() {
				return writeJSON(g.Streams.Out, out)
			}
			fmt.Fprintln(g.Streams.Out, s.ref)
			return nil
		},
	}
	cmd.Flags().StringVar(&key, "key", "", "private key file (cosign.key)")
	cmd.Flags().StringVar(&sbomPath, "sbom", "", "CycloneDX JSON SBOM file, or the OCI layout written by aether build")
	cmd.Flags().BoolVar(&withProvenance, "provenance", false, "attach SLSA v1 provenance")
	cmd.Flags().StringVar(&sourceDir, "source", ".", "source directory to read the git commit from (outside CI)")
	cmd.Flags().StringVar(&builderID, "builder-id", "", "override the provenance builder id")
	cmd.Flags().StringVar(&startedOn, "started-on", "", "when the build started (RFC 3339)")
	cmd.Flags().StringVar(&finishedOn, "finished-on", "", "when the build finished (RFC 3339)")
	rf.add(cmd)
	return cmd
}

func parseTimeFlag(name, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, usageError("%s %q: want RFC 3339, e.g. 2025-03-01T10:00:00Z", name, v)
	}
	return t, nil
}

// readSBOM reads an SBOM file, or the SBOM an OCI layout holds as a
// referrer of the artifact.
func readSBOM(ctx context.Context, path string, subject ocispec.Descriptor) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, usageError("--sbom %s: %v", path, err)
	}
	if !fi.IsDir() {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		data, err := io.ReadAll(io.LimitReader(f, sbom.MaxSBOMBytes+1))
		if err != nil {
			return nil, err
		}
		if len(data) > sbom.MaxSBOMBytes {
			return nil, usageError("--sbom %s is larger than %d MiB", path, sbom.MaxSBOMBytes>>20)
		}
		return data, nil
	}
	if _, err := os.Stat(filepath.Join(path, "index.json")); err != nil {
		return nil, usageError("--sbom %s is a directory but not an OCI layout (no index.json)", path)
	}
	doc, err := publish.LayoutSBOM(ctx, path, subject)
	if err != nil {
		return nil, withExitCode(ExitUsage, err)
	}
	return doc, nil
}

// artifactConfig reads the artifact's config when it is an Aether
// artifact (nil for anything else: provenance then lacks the lockfile
// and Node version, and says nothing wrong).
func artifactConfig(ctx context.Context, s *subject) (*artifact.Config, error) {
	if s.desc.MediaType != ocispec.MediaTypeImageManifest {
		return nil, nil
	}
	m, _, err := referrers.FetchManifest(ctx, s.repo, s.desc, 0)
	if err != nil {
		return nil, registry.Explain(err, s.host)
	}
	if m.Config.MediaType != artifact.ConfigMediaType {
		return nil, nil
	}
	data, err := referrers.FetchBlob(ctx, s.repo, m.Config, maxConfigBytes)
	if err != nil {
		return nil, registry.Explain(err, s.host)
	}
	var c artifact.Config
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, errors.New("the artifact's config is not valid JSON: was it pushed by aether?")
	}
	return &c, nil
}
