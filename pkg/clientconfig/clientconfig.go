// Package clientconfig is the CLI's own configuration file,
// $XDG_CONFIG_HOME/aether/config.json (mode 0600: it holds an API key), and
// the resolution of the server and key a command uses: --server/--api-key
// flags, then AETHER_SERVER/AETHER_API_KEY, then the file.
package clientconfig

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Config is what the file holds.
type Config struct {
	// Server is the control plane's URL.
	Server string `json:"server,omitempty"`
	// APIKey authenticates to Server.
	APIKey string `json:"api_key,omitempty"`
	// Registry is the OCI registry the CLI pushes to by default.
	Registry string `json:"registry,omitempty"`
	// SigningKey is the cosign private key (a path) commands sign with by
	// default; `aether up` writes its own, encrypted with an empty
	// password.
	SigningKey string `json:"signing_key,omitempty"`
	// PublicKey is SigningKey's public half (a path): the key an app
	// created by `aether deploy` trusts by default.
	PublicKey string `json:"public_key,omitempty"`
}

// Environment variables.
const (
	EnvServer = "AETHER_SERVER"
	EnvAPIKey = "AETHER_API_KEY"
)

// maxFile bounds the config file read.
const maxFile = 1 << 20

// Path is the config file's location: $XDG_CONFIG_HOME/aether/config.json,
// else ~/.config/aether/config.json.
func Path() (string, error) {
	if d := os.Getenv("XDG_CONFIG_HOME"); d != "" {
		return filepath.Join(d, "aether", "config.json"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("find the config directory: set XDG_CONFIG_HOME or HOME: %w", err)
	}
	return filepath.Join(home, ".config", "aether", "config.json"), nil
}

// Load reads the file at path; a missing file is an empty config.
func Load(path string) (Config, error) {
	var c Config
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return c, fmt.Errorf("read %s: %w", path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return c, err
	}
	if fi.Size() > maxFile {
		return c, fmt.Errorf("%s is %d bytes; a config file is at most %d", path, fi.Size(), maxFile)
	}
	dec := json.NewDecoder(f)
	if err := dec.Decode(&c); err != nil {
		return c, fmt.Errorf("%s is not valid JSON: %w; fix or delete it and run aether login again", path, err)
	}
	return c, nil
}

// Save writes c to path atomically with mode 0600 (its directory 0700).
func Save(path string, c Config) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".config-*.json")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// Source says where a resolved value came from, for error messages.
type Source string

// Sources.
const (
	FromFlag Source = "flag"
	FromEnv  Source = "environment"
	FromFile Source = "config file"
	FromNone Source = "nowhere"
)

// Resolved is the server and key a command will use.
type Resolved struct {
	Server       string
	APIKey       string
	ServerSource Source
	KeySource    Source
	// File is the config file consulted.
	File string
}

// Resolve picks the server and the key, each independently: flag, then
// environment, then file.
func Resolve(flagServer, flagKey string, getenv func(string) string, path string) (Resolved, error) {
	r := Resolved{File: path, ServerSource: FromNone, KeySource: FromNone}
	file, err := Load(path)
	if err != nil {
		return r, err
	}
	r.Server, r.ServerSource = pick(flagServer, getenv(EnvServer), file.Server)
	r.APIKey, r.KeySource = pick(flagKey, getenv(EnvAPIKey), file.APIKey)
	return r, nil
}

func pick(flag, env, file string) (string, Source) {
	switch {
	case flag != "":
		return flag, FromFlag
	case env != "":
		return env, FromEnv
	case file != "":
		return file, FromFile
	}
	return "", FromNone
}
