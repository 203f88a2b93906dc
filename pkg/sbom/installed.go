package sbom

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/aetherengine/aether/pkg/nodejs"
)

// maxPackageJSON bounds an installed package.json; a bigger one (some old
// packages embed their README) is read for nothing but its license.
const maxPackageJSON = 8 << 20

// installed answers questions about the node_modules tree npm installed.
// Paths are opened through an os.Root, so neither a lockfile path nor a
// symlink in the tree can reach outside the directory.
type installed struct {
	root *os.Root
}

func newInstalled(dir string) (*installed, error) {
	if dir == "" {
		return nil, nil
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("reading the installed dependencies: %w", err)
	}
	return &installed{root: root}, nil
}

func (in *installed) close() {
	if in != nil {
		in.root.Close()
	}
}

// lookup reports whether the package at lockfile path p is installed and
// the license its package.json declares.
func (in *installed) lookup(p string) (present bool, license string, err error) {
	if !filepath.IsLocal(filepath.FromSlash(p)) {
		return false, "", fmt.Errorf("lockfile path %q is not inside node_modules", p)
	}
	f, err := in.root.Open(filepath.Join(filepath.FromSlash(p), "package.json"))
	if errors.Is(err, fs.ErrNotExist) {
		return false, "", nil
	}
	if err != nil {
		return false, "", fmt.Errorf("reading the installed %s: %w", p, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxPackageJSON+1))
	if err != nil {
		return false, "", fmt.Errorf("reading the installed %s/package.json: %w", p, err)
	}
	if len(data) > maxPackageJSON {
		return true, "", nil
	}
	var pj struct {
		License  nodejs.LicenseField `json:"license"`
		Licenses nodejs.LicenseField `json:"licenses"`
	}
	if json.Unmarshal(data, &pj) != nil {
		// npm installed it, so it is there; an unreadable manifest only
		// costs the license.
		return true, "", nil
	}
	return true, firstNonEmpty(string(pj.License), string(pj.Licenses)), nil
}
