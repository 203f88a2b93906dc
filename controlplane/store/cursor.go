package store

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
)

// Cursors are opaque to clients: base64url of "v1:<list>:<seq>". The list
// name makes a cursor from one list useless on another, and the version
// leaves room to change the encoding.
const cursorVersion = "v1"

// maxCursorLen bounds what DecodeCursor reads from a query string.
const maxCursorLen = 128

// EncodeCursor returns the cursor that continues list after seq.
func EncodeCursor(list string, seq int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(cursorVersion + ":" + list + ":" + strconv.FormatInt(seq, 10)))
}

// DecodeCursor returns the position in list a cursor points at; 0 and no
// error for the empty cursor (the first page).
func DecodeCursor(list, cursor string) (int64, error) {
	if cursor == "" {
		return 0, nil
	}
	if len(cursor) > maxCursorLen {
		return 0, fmt.Errorf("%w: longer than %d characters; pass back the next_cursor of a previous page unchanged", ErrInvalidCursor, maxCursorLen)
	}
	raw, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		return 0, fmt.Errorf("%w: not a cursor this server issued; pass back the next_cursor of a previous page unchanged", ErrInvalidCursor)
	}
	parts := strings.Split(string(raw), ":")
	if len(parts) != 3 || parts[0] != cursorVersion {
		return 0, fmt.Errorf("%w: not a cursor this server issued; pass back the next_cursor of a previous page unchanged", ErrInvalidCursor)
	}
	if parts[1] != list {
		return 0, fmt.Errorf("%w: the cursor belongs to the %s list, not %s", ErrInvalidCursor, parts[1], list)
	}
	seq, err := strconv.ParseInt(parts[2], 10, 64)
	if err != nil || seq <= 0 {
		return 0, fmt.Errorf("%w: not a cursor this server issued; pass back the next_cursor of a previous page unchanged", ErrInvalidCursor)
	}
	return seq, nil
}
