package extract

// Limits bound what a layer may make the extractor write, so that a hostile
// or broken artifact (a decompression bomb, a million empty files) fails fast
// instead of filling the pod's disk or memory. A zero field takes its
// default.
type Limits struct {
	// MaxTotalBytes bounds the uncompressed size of all layers together, and
	// separately the sum of all file sizes. Default 4 GiB.
	MaxTotalBytes int64
	// MaxEntries bounds the number of tar entries of all layers together.
	// Default 1,000,000.
	MaxEntries int
	// MaxFileSize bounds one regular file. Default 1 GiB.
	MaxFileSize int64
	// MaxPathLen bounds an entry name and a link target, in bytes. Default
	// 3072: below Linux's PATH_MAX (4096) with room for DEST's own path.
	MaxPathLen int
}

// Default limits: they fit a large Node.js app (a few hundred MB of
// node_modules, ~100k files) with an order of magnitude to spare.
const (
	DefaultMaxTotalBytes = 4 << 30
	DefaultMaxEntries    = 1_000_000
	DefaultMaxFileSize   = 1 << 30
	DefaultMaxPathLen    = 3072
)

// maxNameLen is NAME_MAX on Linux: one path component.
const maxNameLen = 255

// DefaultLimits returns the default limits.
func DefaultLimits() Limits {
	return Limits{
		MaxTotalBytes: DefaultMaxTotalBytes,
		MaxEntries:    DefaultMaxEntries,
		MaxFileSize:   DefaultMaxFileSize,
		MaxPathLen:    DefaultMaxPathLen,
	}
}

// withDefaults fills zero fields.
func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxTotalBytes <= 0 {
		l.MaxTotalBytes = d.MaxTotalBytes
	}
	if l.MaxEntries <= 0 {
		l.MaxEntries = d.MaxEntries
	}
	if l.MaxFileSize <= 0 {
		l.MaxFileSize = d.MaxFileSize
	}
	if l.MaxPathLen <= 0 {
		l.MaxPathLen = d.MaxPathLen
	}
	return l
}
