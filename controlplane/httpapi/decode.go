package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/aetherengine/aether/controlplane/apierr"
	"github.com/aetherengine/aether/pkg/api"
)

// decodeJSON reads exactly one JSON value from a request body into v:
// the body must be application/json, within the size limit (enforced by the
// body-limit middleware's MaxBytesReader), with no unknown fields and
// nothing after the value.
func decodeJSON(r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return apierr.New(apierr.KindUnsupportedMedia, api.CodeUnsupportedMedia, "send the body as Content-Type: application/json, not %q", truncate(ct))
		}
	}
	return decodeBody(r.Body, v)
}

// decodeBody is the strict decoder behind decodeJSON.
func decodeBody(body io.Reader, v any) error {
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return jsonError(err)
		}
		return apierr.New(apierr.KindInvalid, api.CodeInvalidJSON, "the body has data after the JSON value; send exactly one JSON object")
	}
	return nil
}

func jsonError(err error) error {
	var (
		mbe *http.MaxBytesError
		se  *json.SyntaxError
		te  *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &mbe):
		return apierr.New(apierr.KindTooLarge, api.CodeBodyTooLarge, "the body is larger than %d bytes", mbe.Limit)
	case errors.Is(err, io.EOF):
		return apierr.New(apierr.KindInvalid, api.CodeInvalidJSON, "the body is empty; send a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return apierr.New(apierr.KindInvalid, api.CodeInvalidJSON, "the body ends in the middle of a JSON value")
	case errors.As(err, &se):
		return apierr.New(apierr.KindInvalid, api.CodeInvalidJSON, "malformed JSON at byte %d: %s", se.Offset, se.Error())
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			return apierr.New(apierr.KindInvalid, api.CodeInvalidJSON, "the body must be a JSON object, not %s", te.Value)
		}
		return apierr.New(apierr.KindInvalid, api.CodeInvalidArgument, "field %q must be %s, not %s", field, jsonType(te.Type.Kind().String()), te.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return apierr.New(apierr.KindInvalid, api.CodeUnknownField, "%s is not a field of this request; check the API reference at /docs",
			strings.TrimPrefix(err.Error(), "json: unknown field "))
	}
	return apierr.New(apierr.KindInvalid, api.CodeInvalidJSON, "cannot decode the body: %s", truncate(err.Error()))
}

func jsonType(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "map", "struct":
		return "an object"
	case "slice", "array":
		return "an array"
	case "bool":
		return "true or false"
	default:
		return fmt.Sprintf("a %s", kind)
	}
}
