package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/aetherengine/aether/pkg/signing"
)

func init() { register(newVerifyCommand) }

// verifyOutput is what verify prints with --output json, verified or not.
type verifyOutput struct {
	Reference string `json:"reference"`
	*signing.Result
}

func newVerifyCommand(g *Global) *cobra.Command {
	var (
		rf                    registryFlags
		keys                  []string
		noSBOM, requireProv   bool
		builderID, sourceRepo string
		maxReferrers          int
	)
	cmd := &cobra.Command{
		Use:   "verify REF --key cosign.pub [--key more.pub]",
		Short: "Verify an artifact's signature, SBOM and provenance through its referrers",
		Long: `Verify resolves REF to its digest once, reads the digest's referrers (OCI 1.1
referrers API, or the tag-schema fallback) and the legacy cosign .sig/.att tags,
and checks every Sigstore bundle against the given public keys (any of them may
sign: list the old and the new key while rotating).

It decides on what is signed, never on annotations:
  - a signature is a statement of predicateType https://sigstore.dev/cosign/sign/v1
    (or a legacy cosign signature); an SBOM attestation is never taken as the
    signature, although ` + "`cosign verify`" + ` would accept one;
  - a CycloneDX SBOM attestation about this digest, whose document is valid
    CycloneDX JSON (1.5+), is required unless --no-require-sbom;
  - SLSA provenance is reported, and required with --require-provenance,
    --builder-id or --source-repo.

Exits 0 only when verified. Otherwise exits 3 and prints one line per failure
with its reason: unsigned, untrusted_key, subject_mismatch, bundle_invalid,
sbom_missing, sbom_invalid, provenance_missing, provenance_mismatch,
too_many_referrers, registry_unreachable. --output json prints the result
(with the failures) on stdout in both cases.`,
		Example: `  aether verify ghcr.io/acme/hello:v1 --key cosign.pub
  aether verify ghcr.io/acme/hello@sha256:... --key new.pub --key old.pub --output json
  aether verify localhost:5000/hello:v1 --key cosign.pub --no-require-sbom --source-repo https://github.com/acme/hello`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(keys) == 0 {
				return usageError("--key is required: the cosign.pub (or several) the artifact must be signed with")
			}
			trusted, err := signing.LoadPublicKeyFiles(keys...)
			if err != nil {
				return withExitCode(ExitUsage, err)
			}
			s, err := resolveSubject(cmd.Context(), g, rf, args[0])
			if err != nil {
				return err
			}
			v := &signing.Verifier{MaxReferrers: maxReferrers, Log: g.Log}
			policy := signing.Policy{
				Keys:              trusted,
				RequireSBOM:       !noSBOM,
				RequireProvenance: requireProv,
				BuilderID:         builderID,
				SourceRepo:        sourceRepo,
			}
			res, verr := v.Verify(cmd.Context(), s.repo, s.desc, policy)
			var ve *signing.Error
			if verr != nil && !errors.As(verr, &ve) {
				return verr
			}
			if g.JSON() {
				if err := writeJSON(g.Streams.Out, verifyOutput{Reference: s.ref, Result: res}); err != nil {
					return err
				}
			}
			if ve != nil {
				for _, f := range ve.Failures {
					fmt.Fprintf(g.Streams.Err, "%s: %s\n", f.Reason, f.Message)
				}
				return withExitCode(ExitVerify, fmt.Errorf("%s failed verification (%s)", s.ref, ve.Reason()))
			}
			if !g.JSON() {
				printVerified(g, s.ref, res)
			}
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&keys, "key", nil, "trusted public key file (cosign.pub); repeat for several")
	cmd.Flags().BoolVar(&noSBOM, "no-require-sbom", false, "do not require a signed CycloneDX SBOM attestation")
	cmd.Flags().BoolVar(&requireProv, "require-provenance", false, "require signed SLSA provenance")
	cmd.Flags().StringVar(&builderID, "builder-id", "", "require provenance from this builder id")
	cmd.Flags().StringVar(&sourceRepo, "source-repo", "", "require provenance from this source repository")
	cmd.Flags().IntVar(&maxReferrers, "max-referrers", 0, "refuse artifacts with more referrers than this (default 256)")
	rf.add(cmd)
	return cmd
}

// printVerified writes the reference on stdout (data) and what was
// established on stderr.
func printVerified(g *Global, ref string, r *signing.Result) {
	fmt.Fprintln(g.Streams.Out, ref)
	g.Statusf("Verified %s", ref)
	for _, s := range r.Signatures {
		g.Statusf("  signature   %s  key %s (%s format)", short(s.Referrer), s.Key, s.Format)
	}
	if r.SBOM != nil {
		g.Statusf("  sbom        %s  key %s, %s %s, %d components", short(r.SBOM.Referrer), r.SBOM.Key, r.SBOM.Format, r.SBOM.SpecVersion, r.SBOM.Components)
	}
	if p := r.Provenance; p != nil {
		src := p.SourceRepo
		if src == "" {
			src = "(repository unknown)"
		}
		if p.SourceCommit != "" {
			src += " at " + p.SourceCommit
		}
		g.Statusf("  provenance  %s  key %s, builder %s, source %s", short(p.Referrer), p.Key, p.BuilderID, src)
	}
}
