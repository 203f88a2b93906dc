//go:build !unix

package standalone

// lockState cannot lock here; two `aether up` on one state directory are
// the user's to avoid.
func lockState(string) (func(), error) { return func() {}, nil }
