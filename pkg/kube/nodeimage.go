package kube

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// nodeImageDistro is the Debian release of the default images. The
// dependency layer's native addons were linked on the build machine; a
// glibc-based image keeps them loadable, and the slim variant keeps the
// pull small.
const nodeImageDistro = "bookworm-slim"

// NodeImage is the stock Node.js image that runs an artifact built with
// Node nodeVersion ("20.20.2" or "v20.20.2"): the same major and minor
// ("node:20.20-bookworm-slim"), so native addons find the ABI they were
// built for while patch releases (security fixes) still arrive.
func NodeImage(nodeVersion string) (string, error) {
	v := strings.TrimPrefix(strings.TrimSpace(nodeVersion), "v")
	if v == "" {
		return "", errors.New("the artifact's config has no Node.js version (runtime.version); rebuild it with `aether build` or set the app's node image explicitly")
	}
	if strings.Trim(v, "0123456789.") != "" {
		return "", fmt.Errorf("node version %q is not a release version (MAJOR.MINOR.PATCH, digits only); set the app's node image explicitly", nodeVersion)
	}
	parts := strings.Split(v, ".")
	if len(parts) < 2 || len(parts) > 3 {
		return "", fmt.Errorf("node version %q is not MAJOR.MINOR[.PATCH]; set the app's node image explicitly", nodeVersion)
	}
	for _, p := range parts {
		if n, err := strconv.Atoi(p); err != nil || n < 0 || len(p) > 4 || (len(p) > 1 && p[0] == '0') {
			return "", fmt.Errorf("node version %q is not a release version (MAJOR.MINOR.PATCH, digits only); set the app's node image explicitly", nodeVersion)
		}
	}
	if parts[0] == "0" {
		return "", fmt.Errorf("node version %q has no stock image; set the app's node image explicitly", nodeVersion)
	}
	return "node:" + parts[0] + "." + parts[1] + "-" + nodeImageDistro, nil
}
