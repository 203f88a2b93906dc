package standalone

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aetherengine/aether/controlplane/auth"
	"github.com/aetherengine/aether/controlplane/store"
	"github.com/aetherengine/aether/pkg/api"
	"github.com/aetherengine/aether/pkg/clientconfig"
	"github.com/aetherengine/aether/pkg/signing"
)

// ensureKeyPair returns dir/cosign.key and dir/cosign.pub, generating them
// when neither exists. The private key is encrypted with an empty password
// (as `COSIGN_PASSWORD= cosign generate-key-pair` does) and protected by
// its file mode: it is a development key for this machine.
func ensureKeyPair(dir string) (priv, pub string, err error) {
	priv, pub = filepath.Join(dir, signing.PrivateKeyFile), filepath.Join(dir, signing.PublicKeyFile)
	_, privErr := os.Stat(priv)
	_, pubErr := os.Stat(pub)
	switch {
	case privErr == nil && pubErr == nil:
		return priv, pub, nil
	case errors.Is(privErr, fs.ErrNotExist) && errors.Is(pubErr, fs.ErrNotExist):
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return "", "", err
		}
		return signing.WriteKeyPair(dir, []byte{}, false)
	case privErr == nil || pubErr == nil:
		return "", "", fmt.Errorf("the signing key pair in %s is incomplete (one of %s, %s is missing); restore it, or remove both to get a new pair", dir, signing.PrivateKeyFile, signing.PublicKeyFile)
	}
	return "", "", errors.Join(privErr, pubErr)
}

const adminKeyFile = "admin.key"

// adminSecret reads the admin API key `aether up` keeps in the state
// directory, or makes one.
func adminSecret(stateDir string) (string, error) {
	path := filepath.Join(stateDir, adminKeyFile)
	b, err := os.ReadFile(path)
	if err == nil {
		if s := strings.TrimSpace(string(b)); len(s) >= auth.MinKeyLength && len(s) < 256 {
			return s, nil
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	return newAdminSecret(stateDir)
}

func newAdminSecret(stateDir string) (string, error) {
	secret, err := auth.NewSecret()
	if err != nil {
		return "", err
	}
	path := filepath.Join(stateDir, adminKeyFile)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(secret+"\n"), 0o600); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, path); err != nil {
		return "", err
	}
	return secret, nil
}

// ensureAdminKey makes sure secret is an active admin key of the store:
// on a new store the bootstrap stored it; on a store whose keys came from
// elsewhere (an `aether server` run on the same database), a new admin key
// is added directly, since this process owns the database anyway.
func ensureAdminKey(ctx context.Context, st store.Store, stateDir, secret string) (string, error) {
	k, err := st.GetAPIKeyByHash(ctx, auth.Hash(secret))
	if err == nil && k.RevokedAt == nil && k.Role == api.RoleAdmin {
		return secret, nil
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return "", err
	}
	if secret, err = newAdminSecret(stateDir); err != nil {
		return "", err
	}
	id, err := auth.NewID("key")
	if err != nil {
		return "", err
	}
	_, err = st.CreateAPIKey(ctx, store.APIKey{
		APIKey: api.APIKey{ID: id, Name: "aether-up", Prefix: auth.Prefix(secret), Role: api.RoleAdmin, CreatedBy: "aether-up", CreatedAt: time.Now().UTC()},
		Hash:   auth.Hash(secret),
	})
	return secret, err
}

// writeCLIConfig points the CLI at this server, registry and key pair.
// Another server in the file is replaced, and the user is told.
func writeCLIConfig(path string, info Info, secret string, notice io.Writer) error {
	c, err := clientconfig.Load(path)
	if err != nil {
		return err
	}
	if c.Server != "" && c.Server != info.Server {
		fmt.Fprintf(notice, "Note: the CLI config %s pointed at %s; it now points at this server (`aether login --server` switches back).\n", path, c.Server)
	}
	c.Server, c.APIKey, c.Registry = info.Server, secret, info.Registry
	c.SigningKey, c.PublicKey = info.SigningKey, info.PublicKey
	return clientconfig.Save(path, c)
}
