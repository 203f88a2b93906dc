package signing

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Key file names, as `cosign generate-key-pair` writes them.
const (
	PrivateKeyFile = "cosign.key"
	PublicKeyFile  = "cosign.pub"
)

// WriteKeyPair generates a key pair (see GenerateKeyPair) into
// dir/cosign.key (mode 0600) and dir/cosign.pub (0644). It refuses to
// replace existing files unless force is set: overwriting a signing key
// by accident cannot be undone.
func WriteKeyPair(dir string, password []byte, force bool) (privPath, pubPath string, err error) {
	privPath, pubPath = filepath.Join(dir, PrivateKeyFile), filepath.Join(dir, PublicKeyFile)
	if !force {
		for _, p := range []string{privPath, pubPath} {
			if _, err := os.Stat(p); err == nil {
				return "", "", fmt.Errorf("%s already exists; move it away or pass --force to replace it", p)
			}
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", "", err
	}
	priv, pub, err := GenerateKeyPair(password)
	if err != nil {
		return "", "", err
	}
	if err := writeAtomic(privPath, priv, 0o600); err != nil {
		return "", "", err
	}
	if err := writeAtomic(pubPath, pub, 0o644); err != nil {
		return "", "", err
	}
	return privPath, pubPath, nil
}

// writeAtomic writes through a temporary file and a rename, so a crash
// never leaves half a key.
func writeAtomic(path string, data []byte, mode os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// LoadSignerFile reads a private key file (cosign.key) and decrypts it
// with password.
func LoadSignerFile(path string, password []byte) (*KeySigner, error) {
	data, err := readKeyFile(path)
	if err != nil {
		return nil, err
	}
	k, err := LoadPrivateKey(data, password)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return NewKeySigner(k)
}

// LoadPublicKeyFiles reads public key files (cosign.pub), each possibly
// holding several keys, named after their path as given.
func LoadPublicKeyFiles(paths ...string) ([]PublicKey, error) {
	if len(paths) == 0 {
		return nil, errors.New("no public key given; pass --key cosign.pub")
	}
	var keys []PublicKey
	for _, p := range paths {
		data, err := readKeyFile(p)
		if err != nil {
			return nil, err
		}
		ks, err := ParsePublicKeys(p, data)
		if err != nil {
			return nil, err
		}
		keys = append(keys, ks...)
	}
	return keys, nil
}

func readKeyFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("key file: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxKeyFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	if len(data) > MaxKeyFileBytes {
		return nil, fmt.Errorf("key file %s is larger than %d bytes: not a key", path, MaxKeyFileBytes)
	}
	return data, nil
}
