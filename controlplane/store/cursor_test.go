package store

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

func TestCursorRoundTrip(t *testing.T) {
	for _, seq := range []int64{1, 42, 1 << 40} {
		c := EncodeCursor("apps", seq)
		got, err := DecodeCursor("apps", c)
		if err != nil || got != seq {
			t.Fatalf("DecodeCursor(EncodeCursor(%d)) = %d, %v", seq, got, err)
		}
	}
}

func TestDecodeCursorRejects(t *testing.T) {
	tests := []struct {
		name, list, cursor string
	}{
		{"not base64", "apps", "%%%"},
		{"wrong list", "apps", EncodeCursor("deployments", 5)},
		{"wrong version", "apps", b64("v9:apps:5")},
		{"not a number", "apps", b64("v1:apps:x")},
		{"zero", "apps", b64("v1:apps:0")},
		{"negative", "apps", b64("v1:apps:-3")},
		{"too long", "apps", strings.Repeat("A", 200)},
		{"extra part", "apps", b64("v1:apps:5:6")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := DecodeCursor(tt.list, tt.cursor); !errors.Is(err, ErrInvalidCursor) {
				t.Fatalf("DecodeCursor(%q) error = %v, want ErrInvalidCursor", tt.cursor, err)
			}
		})
	}
}

func FuzzDecodeCursor(f *testing.F) {
	f.Add("apps", EncodeCursor("apps", 7))
	f.Add("apps", "")
	f.Add("events", "djE6ZXZlbnRzOjE")
	f.Add("apps", "!!!")
	f.Fuzz(func(t *testing.T, list, cursor string) {
		seq, err := DecodeCursor(list, cursor)
		if err != nil {
			if !errors.Is(err, ErrInvalidCursor) {
				t.Fatalf("error %v is not ErrInvalidCursor", err)
			}
			return
		}
		if cursor != "" && seq <= 0 {
			t.Fatalf("accepted cursor %q with seq %d", cursor, seq)
		}
	})
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
