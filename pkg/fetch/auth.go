package fetch

import (
	"bytes"
	"fmt"
	"io"
	"os"

	"github.com/docker/cli/cli/config"
	"github.com/docker/cli/cli/config/configfile"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
)

// maxDockerConfigBytes bounds the credentials file read into memory.
const maxDockerConfigBytes = 1 << 20

// DockerConfigKeychain reads registry credentials from one Docker config
// file: `~/.docker/config.json`, or what a pod gets by mounting an
// imagePullSecret of type kubernetes.io/dockerconfigjson (the key
// `.dockerconfigjson`, content `{"auths":{"HOST":{"auth":"…"}}}`). It is
// read once, now, so a bad file fails before any network access. Lookup
// follows `docker` (and authn.DefaultKeychain): the repository, then the
// registry host; Docker Hub's legacy key is understood.
func DockerConfigKeychain(path string) (authn.Keychain, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("docker config: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxDockerConfigBytes+1))
	if err != nil {
		return nil, fmt.Errorf("docker config %s: %w", path, err)
	}
	if len(b) > maxDockerConfigBytes {
		return nil, fmt.Errorf("docker config %s is larger than %d bytes", path, maxDockerConfigBytes)
	}
	cf, err := config.LoadFromReader(bytes.NewReader(b))
	if err != nil {
		// The parser's message does not quote credentials, but be sure.
		return nil, fmt.Errorf("docker config %s is not valid: expected {\"auths\":{\"REGISTRY\":{\"auth\":\"base64(user:password)\"}}}", path)
	}
	return &fileKeychain{cf: cf}, nil
}

type fileKeychain struct{ cf *configfile.ConfigFile }

// Resolve returns the credentials for target, or Anonymous.
func (k *fileKeychain) Resolve(target authn.Resource) (authn.Authenticator, error) {
	for _, key := range []string{target.String(), target.RegistryStr()} {
		if key == name.DefaultRegistry {
			key = authn.DefaultAuthKey
		}
		ac, err := k.cf.GetAuthConfig(key)
		if err != nil {
			return nil, fmt.Errorf("docker config: credentials for %s: %w", key, err)
		}
		if ac.Username != "" || ac.Password != "" || ac.Auth != "" || ac.IdentityToken != "" || ac.RegistryToken != "" {
			return authn.FromConfig(authn.AuthConfig{
				Username:      ac.Username,
				Password:      ac.Password,
				Auth:          ac.Auth,
				IdentityToken: ac.IdentityToken,
				RegistryToken: ac.RegistryToken,
			}), nil
		}
	}
	return authn.Anonymous, nil
}
