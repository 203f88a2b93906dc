package nodejs

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// semanticError is a lockfile that is well-formed JSON but not acceptable;
// ParseLockfile returns it as is instead of as a JSON error.
type semanticError struct{ err error }

func (e *semanticError) Error() string { return e.err.Error() }
func (e *semanticError) Unwrap() error { return e.err }

// walkObject reads one JSON object from dec, calling fn for each key with
// the decoder positioned at the key's value; fn must consume the value.
func walkObject(dec *json.Decoder, fn func(key string) error) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return fmt.Errorf("expected a JSON object, found %s", describeToken(tok))
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		key, ok := tok.(string)
		if !ok {
			return fmt.Errorf("expected an object key, found %s", describeToken(tok))
		}
		if err := fn(key); err != nil {
			return err
		}
	}
	_, err = dec.Token() // the closing '}'
	return err
}

// skipValue consumes the next JSON value without keeping it (decoding into
// a RawMessage is several times faster than walking its tokens).
func skipValue(dec *json.Decoder) error {
	var raw json.RawMessage
	return dec.Decode(&raw)
}

func describeToken(tok json.Token) string {
	switch t := tok.(type) {
	case json.Delim:
		return fmt.Sprintf("%q", string(t))
	case string:
		return "a string"
	case nil:
		return "null"
	default:
		return fmt.Sprintf("%T", t)
	}
}

// jsonPosError is a decoding error with its absolute offset in the input.
type jsonPosError struct {
	off int64
	msg string
}

func (e *jsonPosError) Error() string { return e.msg }

// decodeValue decodes the next value into v, phrasing errors without Go
// type names; where names the value ("packages[\"x\"]"). json.Decoder
// reports a type error at an offset relative to the value (after the ':'),
// so it is rebased onto the input; its syntax-error offsets count only part
// of the input, so those are left for describeJSONError to find.
func decodeValue(dec *json.Decoder, v any, where string) error {
	start := dec.InputOffset()
	err := dec.Decode(v)
	if err == nil {
		return nil
	}
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return &jsonPosError{-1, fmt.Sprintf("%s: %v", where, se)}
	case errors.As(err, &te):
		field := ""
		if te.Field != "" {
			field = "." + te.Field
		}
		return &jsonPosError{start + 1 + te.Offset, fmt.Sprintf("%s%s should be %s, not %s", where, field, jsonKind(te.Type.Kind().String()), te.Value)}
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return &jsonPosError{dec.InputOffset(), fmt.Sprintf("%s: the JSON ends early (truncated file?)", where)}
	default:
		return &jsonPosError{start, fmt.Sprintf("%s: %v", where, err)}
	}
}

// jsonKind names a Go kind the way a JSON author would.
func jsonKind(k string) string {
	switch k {
	case "map", "struct":
		return "an object"
	case "slice", "array":
		return "an array"
	case "int", "int64", "float64":
		return "a number"
	case "bool":
		return "true or false"
	default:
		return "a " + k
	}
}

// describeJSONError says where in data a decoding error happened.
func describeJSONError(data []byte, dec *json.Decoder, err error) string {
	off := dec.InputOffset()
	var pe *jsonPosError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &pe):
		off = pe.off
	case errors.As(err, &se):
		off = -1
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		err = errors.New("the JSON ends early (truncated file?)")
	}
	if off < 0 {
		// A fresh decoder scans from the start, so its offset is absolute.
		var raw json.RawMessage
		if rerr := json.NewDecoder(bytes.NewReader(data)).Decode(&raw); errors.As(rerr, &se) {
			off = se.Offset
		}
	}
	// Offsets count the bytes read, so the culprit is the byte before.
	i := min(max(off-1, 0), int64(len(data)))
	line := 1 + bytes.Count(data[:i], []byte("\n"))
	col := int(i) - bytes.LastIndexByte(data[:i], '\n')
	return fmt.Sprintf("line %d, column %d: %v", line, col, err)
}

// stringList is a JSON string array that old packages sometimes wrote as a
// single string.
type stringList []string

// UnmarshalJSON accepts a string, an array of strings or null.
func (s *stringList) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var one string
		if err := json.Unmarshal(b, &one); err != nil {
			return err
		}
		*s = stringList{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return errors.New("expected a string or an array of strings")
	}
	*s = many
	return nil
}

// LicenseField is a package's `license` (or legacy `licenses`) as one
// string. npm copies it into the lockfile verbatim, so besides the SPDX
// string of today it may be an object {"type": "MIT", "url": …} or an array
// of those (packages published before 2015); an array means the package is
// offered under any of them, so it becomes "(A OR B)".
type LicenseField string

// UnmarshalJSON normalises every historical form; values of other shapes
// are ignored, since a license is descriptive and must not fail a build.
func (l *LicenseField) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' { // the common case, without the detour through any
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*l = LicenseField(strings.TrimSpace(s))
		return nil
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*l = LicenseField(licenseString(v, true))
	return nil
}

func licenseString(v any, allowArray bool) string {
	switch t := v.(type) {
	case string:
		return strings.TrimSpace(t)
	case map[string]any:
		for _, k := range []string{"type", "name"} {
			if s, ok := t[k].(string); ok && strings.TrimSpace(s) != "" {
				return strings.TrimSpace(s)
			}
		}
	case []any:
		if !allowArray {
			return ""
		}
		var parts []string
		for _, e := range t {
			if s := licenseString(e, false); s != "" {
				if strings.ContainsRune(s, ' ') {
					s = "(" + s + ")"
				}
				parts = append(parts, s)
			}
		}
		switch len(parts) {
		case 0:
			return ""
		case 1:
			return strings.TrimSuffix(strings.TrimPrefix(parts[0], "("), ")")
		default:
			return "(" + strings.Join(parts, " OR ") + ")"
		}
	}
	return ""
}
