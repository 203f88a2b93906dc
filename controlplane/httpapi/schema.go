package httpapi

import (
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/aetherengine/aether/pkg/api"
)

// schemaGen derives OpenAPI schemas from the pkg/api Go types by reflection,
// so the document cannot drift from what the handlers encode.
type schemaGen struct {
	schemas map[string]any
}

var (
	timeType = reflect.TypeOf(time.Time{})
	// enums lists the values of named string types.
	enums = map[reflect.Type][]string{
		reflect.TypeOf(api.DeploymentStatus("")): statuses(),
		reflect.TypeOf(api.Role("")):             {string(api.RoleAdmin), string(api.RoleDeployer), string(api.RoleViewer)},
	}
)

func statuses() []string {
	out := make([]string, len(api.Statuses))
	for i, s := range api.Statuses {
		out[i] = string(s)
	}
	return out
}

// ref returns a schema for t, registering named structs as components.
func (g *schemaGen) ref(t reflect.Type) (map[string]any, error) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == timeType {
		return map[string]any{"type": "string", "format": "date-time"}, nil
	}
	if vals, ok := enums[t]; ok {
		return map[string]any{"type": "string", "enum": vals}, nil
	}
	switch t.Kind() {
	case reflect.String:
		return map[string]any{"type": "string"}, nil
	case reflect.Bool:
		return map[string]any{"type": "boolean"}, nil
	case reflect.Int, reflect.Int32, reflect.Int64:
		return map[string]any{"type": "integer", "format": "int64"}, nil
	case reflect.Slice:
		items, err := g.ref(t.Elem())
		if err != nil {
			return nil, err
		}
		return map[string]any{"type": "array", "items": items}, nil
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			return nil, fmt.Errorf("openapi: map key %s is not a string", t.Key())
		}
		vals, err := g.ref(t.Elem())
		if err != nil {
			return nil, err
		}
		return map[string]any{"type": "object", "additionalProperties": vals}, nil
	case reflect.Struct:
		name := t.Name()
		if name == "" || strings.Contains(name, "[") {
			return nil, fmt.Errorf("openapi: anonymous or generic struct %s; use a named type", t)
		}
		if _, done := g.schemas[name]; !done {
			g.schemas[name] = nil // breaks cycles
			obj, err := g.object(t)
			if err != nil {
				return nil, err
			}
			g.schemas[name] = obj
		}
		return map[string]any{"$ref": "#/components/schemas/" + name}, nil
	}
	return nil, fmt.Errorf("openapi: no schema for %s", t)
}

// list is the schema of a page of t.
func (g *schemaGen) list(t reflect.Type) (map[string]any, error) {
	item, err := g.ref(t)
	if err != nil {
		return nil, err
	}
	return map[string]any{
		"type":     "object",
		"required": []string{"items", "next_cursor"},
		"properties": map[string]any{
			"items":       map[string]any{"type": "array", "items": item},
			"next_cursor": map[string]any{"type": "string", "description": "pass as ?cursor= for the next page; empty on the last page"},
		},
	}, nil
}

func (g *schemaGen) object(t reflect.Type) (map[string]any, error) {
	props := map[string]any{}
	var required []string
	if err := g.fields(t, props, &required); err != nil {
		return nil, err
	}
	obj := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		obj["required"] = required
	}
	return obj, nil
}

// fields adds t's JSON fields, flattening embedded structs as encoding/json does.
func (g *schemaGen) fields(t reflect.Type, props map[string]any, required *[]string) error {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if f.Anonymous && tag == "" {
			if err := g.fields(f.Type, props, required); err != nil {
				return err
			}
			continue
		}
		if !f.IsExported() || tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if name == "" {
			name = f.Name
		}
		s, err := g.ref(f.Type)
		if err != nil {
			return fmt.Errorf("%s.%s: %w", t.Name(), f.Name, err)
		}
		props[name] = s
		if !strings.Contains(opts, "omitempty") && f.Type.Kind() != reflect.Pointer {
			*required = append(*required, name)
		}
	}
	return nil
}
