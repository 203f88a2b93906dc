package sbom

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Bounds on the SBOM Validate accepts. Schema validation costs about a
// kilobyte of allocations per JSON value, and more per violation, so the
// count of values is bounded before anything is decoded; a document that
// passes these bounds is validated in time and memory proportional to them.
const (
	// MaxSBOMBytes bounds the size: an SBOM of 20,000 components with
	// hashes, licenses and references is about 30 MB.
	MaxSBOMBytes = 32 << 20
	// MaxSBOMValues bounds the JSON values (objects, arrays, keys, scalars):
	// 40 to 65 per component as aether and cyclonedx-npm write them, so
	// room for 15,000 to 25,000 components.
	MaxSBOMValues = 1_000_000
	// MaxSBOMDepth bounds the nesting (cyclonedx-npm nests components as
	// node_modules nest; real trees stay far below).
	MaxSBOMDepth = 128
)

// How many schema violations an error lists, and how much of each.
const (
	maxReportedViolations = 5
	maxViolationLength    = 240
)

// ErrInvalid marks every reason Validate rejects a document for (the
// control plane maps it to the `sbom_invalid` reason).
var ErrInvalid = errors.New("invalid CycloneDX SBOM")

// Summary is what a valid SBOM says about itself.
type Summary struct {
	// SpecVersion is the CycloneDX version ("1.6").
	SpecVersion string `json:"specVersion"`
	// Components counts every component, nested ones included (not the
	// metadata.component that the SBOM describes).
	Components int `json:"components"`
	// RootName and RootVersion are metadata.component's: the described
	// software; the name is "group/name" when it has a group (an npm scope).
	RootName    string `json:"rootName,omitempty"`
	RootVersion string `json:"rootVersion,omitempty"`
	// SerialNumber is the BOM's urn:uuid, when it has one.
	SerialNumber string `json:"serialNumber,omitempty"`
}

// Validate checks untrusted CycloneDX JSON: at most MaxSBOMBytes, one JSON
// object, bomFormat "CycloneDX", specVersion 1.5, 1.6 or 1.7, and valid
// against that version's official JSON schema (embedded; nothing is
// fetched). Every rejection wraps ErrInvalid and says what was wrong; schema
// violations are listed with their JSON pointers.
func Validate(data []byte) (*Summary, error) {
	if len(data) > MaxSBOMBytes {
		return nil, fmt.Errorf("%w: %d bytes, over the %d MiB limit", ErrInvalid, len(data), MaxSBOMBytes>>20)
	}
	if err := checkShape(data); err != nil {
		return nil, err
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		var se *json.SyntaxError
		switch {
		case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
			return nil, fmt.Errorf("%w: not valid JSON: it ends early (a truncated file?)", ErrInvalid)
		case errors.As(err, &se):
			return nil, fmt.Errorf("%w: not valid JSON: %v, at byte %d", ErrInvalid, se, se.Offset)
		default:
			return nil, fmt.Errorf("%w: not valid JSON: %v", ErrInvalid, err)
		}
	}
	obj, ok := doc.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%w: the document is not a JSON object", ErrInvalid)
	}
	if f, _ := obj["bomFormat"].(string); f != "CycloneDX" {
		return nil, fmt.Errorf("%w: bomFormat is %s, not \"CycloneDX\" (only CycloneDX JSON SBOMs are accepted)", ErrInvalid, describe(obj["bomFormat"]))
	}
	spec, _ := obj["specVersion"].(string)
	schemaFile, ok := bomSchemas[spec]
	if !ok {
		if isOlderSpec(spec) {
			return nil, fmt.Errorf("%w: specVersion %s is older than 1.5, the oldest accepted; regenerate the SBOM with CycloneDX 1.5 or newer (`aether build` writes 1.6)", ErrInvalid, spec)
		}
		if _, isString := obj["specVersion"].(string); !isString {
			return nil, fmt.Errorf("%w: specVersion is %s, not a version string such as \"1.6\"", ErrInvalid, describe(obj["specVersion"]))
		}
		return nil, fmt.Errorf("%w: specVersion %s is not one this aether knows (1.5, 1.6, 1.7)", ErrInvalid, describe(obj["specVersion"]))
	}
	schemas, err := compiledSchemas()
	if err != nil {
		return nil, err // a broken build of aether, not a bad SBOM
	}
	if err := schemas[spec].Validate(doc); err != nil {
		var ve *jsonschema.ValidationError
		if !errors.As(err, &ve) {
			return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
		}
		return nil, fmt.Errorf("%w: it does not match the CycloneDX %s schema (%s): %s", ErrInvalid, spec, schemaFile, violations(ve))
	}
	return summarize(obj, spec), nil
}

// violations lists the first few leaf errors ("at '/components/0/type':
// value must be one of …"), which carry the JSON pointer of the culprit.
// Only those few are formatted: a hostile document can carry millions.
func violations(ve *jsonschema.ValidationError) string {
	var leaves []string
	total := 0
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) > 0 {
			for _, c := range e.Causes {
				walk(c)
			}
			return
		}
		total++
		if len(leaves) >= maxReportedViolations {
			return
		}
		msg := e.Error()
		if len(msg) > maxViolationLength {
			// enum violations list every allowed value (826 SPDX ids)
			msg = strings.ToValidUTF8(msg[:maxViolationLength], "") + "…"
		}
		if !slices.Contains(leaves, msg) {
			leaves = append(leaves, msg)
		}
	}
	walk(ve)
	s := strings.Join(leaves, "; ")
	if total > len(leaves) {
		s += fmt.Sprintf("; %d violations in all", total)
	}
	return s
}

// checkShape counts the JSON values and the nesting depth of data with a
// byte scan that allocates nothing, so that an oversized document is refused
// before it is decoded. Malformed JSON is left for the decoder to report.
func checkShape(data []byte) error {
	values, depth := 1, 0
	inString, escaped := false, false
	for _, c := range data {
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '{', '[':
			values++
			depth++
			if depth > MaxSBOMDepth {
				return fmt.Errorf("%w: nested deeper than %d levels", ErrInvalid, MaxSBOMDepth)
			}
		case '}', ']':
			depth--
		case ',', ':':
			values++
		}
	}
	if values > MaxSBOMValues {
		return fmt.Errorf("%w: more than %d JSON values (%d), over the limit", ErrInvalid, MaxSBOMValues, values)
	}
	return nil
}

func summarize(obj map[string]any, spec string) *Summary {
	s := &Summary{SpecVersion: spec}
	s.SerialNumber, _ = obj["serialNumber"].(string)
	if md, ok := obj["metadata"].(map[string]any); ok {
		if c, ok := md["component"].(map[string]any); ok {
			name, _ := c["name"].(string)
			if g, _ := c["group"].(string); g != "" {
				name = g + "/" + name
			}
			s.RootName = name
			s.RootVersion, _ = c["version"].(string)
		}
	}
	s.Components = countComponents(obj["components"])
	return s
}

// countComponents counts a components array and the ones nested in it.
// Nesting depth is bounded by the JSON decoder's.
func countComponents(v any) int {
	list, _ := v.([]any)
	n := len(list)
	for _, c := range list {
		if m, ok := c.(map[string]any); ok {
			n += countComponents(m["components"])
		}
	}
	return n
}

func isOlderSpec(v string) bool {
	switch v {
	case "1.0", "1.1", "1.2", "1.3", "1.4":
		return true
	}
	return false
}

// describe renders a JSON value for an error message, bounded in length.
func describe(v any) string {
	switch t := v.(type) {
	case nil:
		return "missing"
	case string:
		if len(t) > 40 {
			t = t[:40] + "…"
		}
		return fmt.Sprintf("%q", t)
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	case bool:
		return "a boolean"
	default:
		return "a number"
	}
}
