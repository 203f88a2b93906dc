package cli

import (
	"context"
	"errors"
	"fmt"
	"os"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/spf13/cobra"
	"golang.org/x/term"
	"oras.land/oras-go/v2/registry/remote"

	"github.com/aetherengine/aether/pkg/referrers"
	"github.com/aetherengine/aether/pkg/registry"
	"github.com/aetherengine/aether/pkg/signing"
)

func init() { register(newSignCommand) }

// signOutput is what sign and attest print with --output json.
type signOutput struct {
	// Subject is REPOSITORY@DIGEST, what was signed.
	Subject string `json:"subject"`
	// Referrers are the signature and attestations attached.
	Referrers []attachedReferrer `json:"referrers"`
}

type attachedReferrer struct {
	Digest        string `json:"digest"`
	PredicateType string `json:"predicateType"`
}

func newSignCommand(g *Global) *cobra.Command {
	var (
		rf  registryFlags
		key string
	)
	cmd := &cobra.Command{
		Use:   "sign REF --key cosign.key",
		Short: "Sign an artifact in a registry (cosign-compatible, offline)",
		Long: `Sign attaches a cosign v3 signature to the artifact as an OCI 1.1 referrer: a
Sigstore bundle whose DSSE envelope signs an in-toto statement naming the
artifact's digest. The stock ` + "`cosign verify --key cosign.pub`" + ` accepts it.

A tag is resolved to its digest once, and the digest is what is signed: moving
the tag later does not move the signature. No transparency log is used.

The key is a cosign.key from ` + "`aether keygen`" + ` or ` + "`cosign generate-key-pair`" + `; its password
comes from COSIGN_PASSWORD, or a prompt on a terminal.

Prints REPOSITORY@DIGEST of the signed artifact on stdout.`,
		Example: `  aether sign ghcr.io/acme/hello:v1 --key cosign.key
  COSIGN_PASSWORD=... aether sign localhost:5000/hello@sha256:... --key cosign.key --output json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if key == "" {
				return usageError("--key is required: the cosign.key to sign with (make one with `aether keygen`)")
			}
			signer, err := loadSigner(g, key)
			if err != nil {
				return err
			}
			s, err := resolveSubject(cmd.Context(), g, rf, args[0])
			if err != nil {
				return err
			}
			d, err := signing.Sign(cmd.Context(), s.repo, s.desc, signer)
			if err != nil {
				return registry.Explain(err, s.host)
			}
			out := signOutput{Subject: s.ref, Referrers: []attachedReferrer{{Digest: d.Digest.String(), PredicateType: signing.PredicateSignature}}}
			if g.JSON() {
				return writeJSON(g.Streams.Out, out)
			}
			g.Statusf("Signed %s with %s (signature %s)", s.ref, key, short(d.Digest.String()))
			fmt.Fprintln(g.Streams.Out, s.ref)
			return nil
		},
	}
	cmd.Flags().StringVar(&key, "key", "", "private key file (cosign.key)")
	rf.add(cmd)
	return cmd
}

// subject is an artifact resolved to its digest.
type subject struct {
	repo *remote.Repository
	desc ocispec.Descriptor
	// ref is REPOSITORY@DIGEST.
	ref  string
	host string
}

// resolveSubject resolves ref (a tag or a digest) once, so that
// everything after is about one digest whatever happens to the tag.
func resolveSubject(ctx context.Context, g *Global, rf registryFlags, ref string) (*subject, error) {
	r, err := registry.ParseReference(ref)
	if err != nil {
		return nil, withExitCode(ExitUsage, err)
	}
	if r.Reference == "" {
		return nil, usageError("%s names no tag or digest; give REPOSITORY:TAG or REPOSITORY@sha256:DIGEST", ref)
	}
	repo, err := registry.NewRepository(ctx, ref, rf.options(g))
	if err != nil {
		return nil, err
	}
	referrers.Limit(repo)
	desc, err := repo.Resolve(ctx, r.Reference)
	if err != nil {
		return nil, registry.Explain(fmt.Errorf("resolve %s: %w", ref, err), r.Registry)
	}
	if desc.MediaType != ocispec.MediaTypeImageManifest && desc.MediaType != ocispec.MediaTypeImageIndex {
		return nil, fmt.Errorf("%s is a %s, not an OCI manifest; push it with `aether push`", ref, desc.MediaType)
	}
	s := &subject{repo: repo, desc: desc, ref: r.Registry + "/" + r.Repository + "@" + desc.Digest.String(), host: r.Registry}
	if r.Reference != desc.Digest.String() {
		g.Log.Debug("resolved tag", "ref", ref, "digest", desc.Digest)
		if !g.JSON() {
			g.Statusf("Resolved %s to %s", ref, desc.Digest)
		}
	}
	return s, nil
}

// loadSigner reads the private key, with its password from
// COSIGN_PASSWORD (set, even empty, wins) or a prompt on a terminal.
func loadSigner(g *Global, path string) (*signing.KeySigner, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, usageError("--key %s: %v", path, err)
	}
	pw, err := keyPassword(g, false)
	if err != nil {
		return nil, err
	}
	return signing.LoadSignerFile(path, pw)
}

// keyPassword returns the key password: COSIGN_PASSWORD, as cosign reads
// it, or a prompt (twice when confirm) when stdin is a terminal.
func keyPassword(g *Global, confirm bool) ([]byte, error) {
	if pw, ok := os.LookupEnv("COSIGN_PASSWORD"); ok {
		return []byte(pw), nil
	}
	f, ok := g.Streams.In.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil, usageError("no key password: set COSIGN_PASSWORD (it may be empty), or run on a terminal to be prompted")
	}
	read := func(prompt string) ([]byte, error) {
		fmt.Fprint(g.Streams.Err, prompt)
		pw, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(g.Streams.Err)
		if err != nil {
			return nil, fmt.Errorf("reading password: %w", err)
		}
		return pw, nil
	}
	pw, err := read("Enter password for private key: ")
	if err != nil || !confirm {
		return pw, err
	}
	again, err := read("Enter password for private key again: ")
	if err != nil {
		return nil, err
	}
	if string(again) != string(pw) {
		return nil, errors.New("the passwords do not match")
	}
	return pw, nil
}
