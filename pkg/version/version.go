// Package version holds the build's version, set with -ldflags at link time.
package version

import "runtime/debug"

// Version is the release version; "dev" for a source build.
var Version = "dev"

// String returns Version, or the module version when built with `go install`.
func String() string {
	if Version != "dev" {
		return Version
	}
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
		return info.Main.Version
	}
	return Version
}

// UserAgent is the User-Agent sent to registries and the control plane.
func UserAgent() string { return "aether/" + String() }
