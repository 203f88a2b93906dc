package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/aetherengine/aether/pkg/api"
	"github.com/aetherengine/aether/pkg/signing"
)

// trustFlags are the flags of `aether apps trust`.
type trustFlags struct {
	keys              []string
	retire            []string
	requireProvenance bool
	noRequireSBOM     bool
	builderID         string
	sourceRepo        string
}

func newAppsTrustCommand(g *Global, sf *serverFlags) *cobra.Command {
	var f trustFlags
	cmd := &cobra.Command{
		Use:   "trust NAME [--key cosign.pub ...]",
		Short: "Show or set the keys and attestations an app's artifacts need (admin key)",
		Long: `Without flags, trust shows the app's trust policy. With --key, it replaces the
policy (the server bumps its version, so cached verifications of the old
policy are not reused, and audits the change):

  --key FILE            a trusted cosign public key (cosign.pub), named after the
                        file; NAME=FILE names it. Repeat for several: any of them
                        may sign, which is how keys rotate.
  --retire NAME=DATE    the key NAME stops verifying at DATE (RFC 3339 or
                        YYYY-MM-DD, UTC); list it together with its successor.
  --no-require-sbom     do not require a signed CycloneDX SBOM (required by default)
  --require-provenance  require signed SLSA provenance
  --builder-id ID       require provenance from this builder
  --source-repo URL     require provenance from this source repository`,
		Example: `  aether apps trust web
  aether apps trust web --key cosign.pub
  aether apps trust web --key old=old.pub --key new=new.pub --retire old=2025-07-01
  aether apps trust web --key cosign.pub --require-provenance --source-repo https://github.com/acme/web`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := sf.client()
			if err != nil {
				return err
			}
			if !anyChanged(cmd, "key", "retire", "require-provenance", "no-require-sbom", "builder-id", "source-repo") {
				p, err := c.GetTrustPolicy(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				return printTrust(g, args[0], p)
			}
			req, err := f.policy()
			if err != nil {
				return err
			}
			p, err := c.SetTrustPolicy(cmd.Context(), args[0], req)
			if err != nil {
				return err
			}
			if !g.JSON() {
				g.Statusf("Trust policy of %s is now v%d", args[0], p.Version)
			}
			return printTrust(g, args[0], p)
		},
	}
	cmd.Flags().StringArrayVar(&f.keys, "key", nil, "trusted public key file, or NAME=FILE (repeatable)")
	cmd.Flags().StringArrayVar(&f.retire, "retire", nil, "retire key NAME at DATE: NAME=DATE (repeatable)")
	cmd.Flags().BoolVar(&f.requireProvenance, "require-provenance", false, "require signed SLSA provenance")
	cmd.Flags().BoolVar(&f.noRequireSBOM, "no-require-sbom", false, "do not require a signed CycloneDX SBOM")
	cmd.Flags().StringVar(&f.builderID, "builder-id", "", "require provenance from this builder id")
	cmd.Flags().StringVar(&f.sourceRepo, "source-repo", "", "require provenance from this source repository")
	return cmd
}

func anyChanged(cmd *cobra.Command, names ...string) bool {
	for _, n := range names {
		if cmd.Flags().Changed(n) {
			return true
		}
	}
	return false
}

// policy builds the new policy from the flags and the key files.
func (f trustFlags) policy() (api.TrustPolicyUpdate, error) {
	if len(f.keys) == 0 {
		return api.TrustPolicyUpdate{}, usageError("--key is required to set a trust policy: the policy is replaced whole, keys included")
	}
	var req api.TrustPolicyUpdate
	seen := map[string]bool{}
	for _, spec := range f.keys {
		name, path := keySpec(spec)
		data, err := os.ReadFile(path)
		if err != nil {
			return req, usageError("--key %s: %v", spec, err)
		}
		keys, err := signing.ParsePublicKeys(name, data)
		if err != nil {
			return req, usageError("--key %s: %v", spec, err)
		}
		for _, k := range keys {
			if seen[k.Name] {
				return req, usageError("two keys are named %s; name them with --key NAME=FILE", k.Name)
			}
			seen[k.Name] = true
			pemBytes, err := signing.MarshalPublicKey(k.Key)
			if err != nil {
				return req, err
			}
			req.Keys = append(req.Keys, api.TrustedKey{Name: k.Name, PEM: string(pemBytes)})
		}
	}
	for _, r := range f.retire {
		name, date, ok := strings.Cut(r, "=")
		if !ok {
			return req, usageError("--retire %q is not NAME=DATE", r)
		}
		at, err := parseRetireDate(date)
		if err != nil {
			return req, usageError("--retire %s: %v", r, err)
		}
		found := false
		for i := range req.Keys {
			if req.Keys[i].Name == name {
				req.Keys[i].RetiresAt, found = &at, true
			}
		}
		if !found {
			return req, usageError("--retire %s: no --key is named %s (keys: %s)", r, name, keyNames(req.Keys))
		}
	}
	required := []string{}
	if !f.noRequireSBOM {
		required = append(required, api.AttestationSBOM)
	}
	if f.requireProvenance {
		required = append(required, api.AttestationProvenance)
	}
	req.RequiredAttestations = &required
	req.BuilderID, req.SourceRepo = f.builderID, f.sourceRepo
	return req, nil
}

// keySpec splits NAME=FILE; a value that is a file, or has no '=', is a
// file named after itself.
func keySpec(spec string) (name, path string) {
	if _, err := os.Stat(spec); err == nil {
		return filepath.Base(spec), spec
	}
	if n, p, ok := strings.Cut(spec, "="); ok && n != "" {
		return n, p
	}
	return filepath.Base(spec), spec
}

func parseRetireDate(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t.UTC(), nil
	}
	return time.Time{}, fmt.Errorf("%q is not a date: use YYYY-MM-DD or RFC 3339 (2025-07-01T00:00:00Z)", s)
}

func keyNames(keys []api.TrustedKey) string {
	names := make([]string, len(keys))
	for i, k := range keys {
		names[i] = k.Name
	}
	return strings.Join(names, ", ")
}

func printTrust(g *Global, app string, p api.TrustPolicy) error {
	if g.JSON() {
		return printJSON(g.Streams.Out, p)
	}
	w := tabwriter.NewWriter(g.Streams.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintf(w, "App:\t%s\nVersion:\t%d\n", app, p.Version)
	req := strings.Join(p.RequiredAttestations, ", ")
	if req == "" {
		req = "signature only"
	}
	fmt.Fprintf(w, "Requires:\t%s\n", req)
	if p.BuilderID != "" {
		fmt.Fprintf(w, "Builder:\t%s\n", p.BuilderID)
	}
	if p.SourceRepo != "" {
		fmt.Fprintf(w, "Source:\t%s\n", p.SourceRepo)
	}
	if len(p.Keys) == 0 {
		fmt.Fprintf(w, "Keys:\tnone: every deployment is refused (no_trusted_keys) until one is added\n")
	}
	now := time.Now()
	for _, k := range p.Keys {
		state := "trusted"
		if k.RetiresAt != nil {
			verb := "retires"
			if !now.Before(*k.RetiresAt) {
				verb = "retired"
			}
			state = fmt.Sprintf("%s %s", verb, k.RetiresAt.Format(time.RFC3339))
		}
		fmt.Fprintf(w, "Key:\t%s\t%s\n", k.Name, state)
	}
	return w.Flush()
}
