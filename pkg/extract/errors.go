package extract

import (
	"errors"
	"fmt"
)

// Rule names the extraction rule an entry broke. The values are stable: they
// appear in logs and operators grep for them.
type Rule string

// The rules. Each rejection of an entry carries exactly one.
const (
	// RuleAbsolutePath: the entry name starts with "/".
	RuleAbsolutePath Rule = "absolute-path"
	// RulePathTraversal: the entry name (or a hardlink target) has a ".."
	// component.
	RulePathTraversal Rule = "path-traversal"
	// RuleInvalidPath: the name is empty, names the root, or contains NUL.
	RuleInvalidPath Rule = "invalid-path"
	// RulePathLength: the name or link target is longer than
	// Limits.MaxPathLen, or one component is longer than 255 bytes.
	RulePathLength Rule = "path-length"
	// RuleSymlinkAbsolute: a symlink's target is an absolute path.
	RuleSymlinkAbsolute Rule = "symlink-absolute-target"
	// RuleSymlinkEscape: a symlink resolves, lexically or through other
	// symlinks, to a place outside the root.
	RuleSymlinkEscape Rule = "symlink-escape"
	// RuleSymlinkLoop: resolving a symlink took more than 40 hops.
	RuleSymlinkLoop Rule = "symlink-loop"
	// RuleHardlinkTarget: a hardlink's target is not a regular file already
	// extracted inside the root.
	RuleHardlinkTarget Rule = "hardlink-target"
	// RuleSpecialFile: character or block device, FIFO, or any other type
	// that is not a file, directory, symlink or hardlink.
	RuleSpecialFile Rule = "special-file"
	// RuleSetuid: the mode has the setuid or setgid bit.
	RuleSetuid Rule = "setuid-setgid"
	// RuleWhiteout: an OCI whiteout (".wh." prefix); Aether layers never
	// contain them.
	RuleWhiteout Rule = "whiteout"
	// RuleReplace: the entry would replace something that is not a regular
	// file (a directory or symlink), or a directory would replace a file.
	RuleReplace Rule = "replace-non-regular"
	// RuleParentNotDir: a parent of the entry is a symlink or a file, so
	// writing the entry would go through it.
	RuleParentNotDir Rule = "parent-not-directory"
	// RuleMaxEntries: more entries than Limits.MaxEntries.
	RuleMaxEntries Rule = "max-entries"
	// RuleMaxFileSize: one file is larger than Limits.MaxFileSize.
	RuleMaxFileSize Rule = "max-file-size"
	// RuleMaxTotalBytes: the uncompressed layers, or the files in them, are
	// larger than Limits.MaxTotalBytes.
	RuleMaxTotalBytes Rule = "max-total-bytes"
	// RuleCorrupt: the gzip or tar stream is malformed or truncated.
	RuleCorrupt Rule = "corrupt-archive"
)

// Error is the rejection of one entry. Entry is the name as written in the
// archive (or "" when the archive is unreadable before any entry).
type Error struct {
	// Layer is the index of the layer in extraction order (the manifest's
	// layers[] index).
	Layer int
	// Entry is the offending entry's name as written in the archive.
	Entry string
	// Rule is the rule it broke.
	Rule Rule
	// Detail says what exactly was wrong.
	Detail string
	// Err is the underlying error, if any (I/O, gzip, tar).
	Err error
}

// Error formats as `layers[1] entry "../x": path-traversal: <detail>`.
func (e *Error) Error() string {
	msg := fmt.Sprintf("layers[%d] entry %s: %s: %s", e.Layer, quoteEntry(e.Entry), e.Rule, e.Detail)
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// ErrDest reports a DEST that cannot receive the extraction (not empty, a
// file, a mount point); nothing was written.
var ErrDest = errors.New("unusable destination")

// quoteEntry quotes a name for a log line: control characters escaped (so an
// entry cannot forge log lines) and long names shortened.
func quoteEntry(name string) string {
	const max = 160
	if len(name) > max {
		return fmt.Sprintf("%q…(%d bytes)", name[:max], len(name))
	}
	return fmt.Sprintf("%q", name)
}
