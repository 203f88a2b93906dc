// Package term tells whether a stream is an interactive terminal, so that
// progress is drawn only where a person watches.
package term

import (
	"io"
	"os"
)

// IsTerminal reports whether w is a character device (a TTY).
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	if err != nil {
		return false
	}
	return fi.Mode()&os.ModeCharDevice != 0
}
