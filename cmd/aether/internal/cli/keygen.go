package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/aetherengine/aether/pkg/signing"
)

func init() { register(newKeygenCommand) }

// keygenOutput is what keygen prints with --output json.
type keygenOutput struct {
	PrivateKey string `json:"privateKey"`
	PublicKey  string `json:"publicKey"`
	// KeyID is the public key's fingerprint as bundles carry it.
	KeyID string `json:"keyId"`
}

func newKeygenCommand(g *Global) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "keygen [DIR]",
		Short: "Generate a cosign key pair (cosign.key, cosign.pub)",
		Long: `Keygen writes DIR/cosign.key, an ECDSA P-256 private key encrypted with your
password (scrypt + NaCl secretbox, the "ENCRYPTED SIGSTORE PRIVATE KEY" format of
` + "`cosign generate-key-pair`" + `), and DIR/cosign.pub, its public key. Keys made by either
tool work with both.

The password comes from COSIGN_PASSWORD (it may be empty), or a prompt on a
terminal. Keep cosign.key secret; give cosign.pub to whoever verifies
(` + "`aether verify --key cosign.pub`" + `, the control plane's trust policy, ` + "`cosign verify`" + `).`,
		Example: `  aether keygen
  COSIGN_PASSWORD="$(pass show aether/signing)" aether keygen ./keys`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := "."
			if len(args) == 1 {
				dir = args[0]
			}
			pw, err := keyPassword(g, true)
			if err != nil {
				return err
			}
			priv, pub, err := signing.WriteKeyPair(dir, pw, force)
			if err != nil {
				return err
			}
			keys, err := signing.LoadPublicKeyFiles(pub)
			if err != nil {
				return err
			}
			out := keygenOutput{PrivateKey: priv, PublicKey: pub, KeyID: keys[0].ID()}
			if g.JSON() {
				return writeJSON(g.Streams.Out, out)
			}
			g.Statusf("Private key written to %s (keep it secret)", priv)
			g.Statusf("Public key written to %s", pub)
			fmt.Fprintln(g.Streams.Out, pub)
			return nil
		},
	}
	cmd.Flags().BoolVar(&force, "force", false, "replace existing cosign.key and cosign.pub")
	return cmd
}
