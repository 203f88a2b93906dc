package local

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
)

// StateVersion is the version of the app state file this package writes.
const StateVersion = 1

// AppRecord is what the runtime keeps on disk per app, in
// STATE/apps/<app>/app.json (mode 0600: the env may hold secrets), so
// that a restarted server serves the same apps on the same ports.
type AppRecord struct {
	Version int    `json:"version"`
	App     string `json:"app"`
	// FrontPort is the app's stable port on 127.0.0.1.
	FrontPort int `json:"front_port"`
	// Current is the version to run; nil when the app is stopped.
	Current *Launch `json:"current,omitempty"`
	// Previous is the deployment Current replaced (its files are kept).
	Previous string `json:"previous,omitempty"`
}

// Launch is how to start one deployed version; its files are in
// STATE/apps/<app>/<deployment>/app.
type Launch struct {
	Deployment string `json:"deployment"`
	Digest     string `json:"digest"`
	// Command is the artifact's start command, as its config gives it.
	Command []string `json:"command"`
	// NodeVersion is the Node.js version the artifact was built with.
	NodeVersion string            `json:"node_version,omitempty"`
	Env         map[string]string `json:"env,omitempty"`
}

// pathSafe is what an app name or deployment id may look like to become a
// directory name (the control plane's names and ids are narrower still).
var pathSafe = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,127}$`)

func checkPathSafe(what, s string) error {
	if !pathSafe.MatchString(s) {
		return fmt.Errorf("%s %q cannot name a directory: use lowercase letters, digits, '-' and '_'", what, s)
	}
	return nil
}

const (
	recordFile = "app.json"
	maxRecord  = 1 << 20
)

// readRecord reads an app's record; a missing file is (nil, nil).
func readRecord(dir string) (*AppRecord, error) {
	f, err := os.Open(filepath.Join(dir, recordFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxRecord+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxRecord {
		return nil, fmt.Errorf("%s is larger than %d bytes", f.Name(), maxRecord)
	}
	var r AppRecord
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", f.Name(), err)
	}
	if r.Version != StateVersion {
		return nil, fmt.Errorf("%s has version %d; this aether reads version %d", f.Name(), r.Version, StateVersion)
	}
	return &r, nil
}

// writeRecord replaces an app's record atomically.
func writeRecord(dir string, r AppRecord) error {
	r.Version = StateVersion
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".app-*.json")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), filepath.Join(dir, recordFile))
}
