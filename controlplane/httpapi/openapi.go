package httpapi

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"github.com/aetherengine/aether/pkg/api"
)

// Title is the API's name in the OpenAPI document and on /docs.
const Title = "AetherEngine control plane API"

// apiVersion is the document's version; it changes with the API, not with
// server builds, so the golden file stays stable.
const apiVersion = "1.0.0"

const description = `Records apps, deployments, artifacts and their verification, events, API keys and an audit log.

Authenticate with ` + "`Authorization: Bearer <API key>`" + `. Roles: admin (everything), deployer (create deployments and read, for the apps its key is scoped to), viewer (read, scoped).
Lists are paginated: ` + "`?limit=&cursor=`" + ` in, ` + "`{\"items\": [...], \"next_cursor\": \"...\"}`" + ` out.
Every error has one shape: ` + "`{\"error\": {\"code\": \"...\", \"message\": \"...\", \"request_id\": \"...\"}}`" + `.`

// openapiPath turns gin's /v1/apps/:name into OpenAPI's /v1/apps/{name}.
func openapiPath(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		if strings.HasPrefix(s, ":") || strings.HasPrefix(s, "*") {
			parts[i] = "{" + s[1:] + "}"
		}
	}
	return strings.Join(parts, "/")
}

func buildOpenAPI(routes []route) ([]byte, error) {
	g := &schemaGen{schemas: map[string]any{}}
	errSchema, err := g.ref(reflect.TypeOf(api.ErrorResponse{}))
	if err != nil {
		return nil, err
	}
	paths := map[string]map[string]any{}
	for _, r := range routes {
		op := map[string]any{
			"operationId": r.opID,
			"summary":     r.summary,
			"description": "Access: " + r.access + ".",
			"tags":        []string{r.tag},
		}
		if r.public {
			op["security"] = []any{}
		}
		var params []any
		for _, p := range r.params {
			params = append(params, map[string]any{"name": p.name, "in": p.in, "required": p.required || p.in == "path",
				"description": p.desc, "schema": map[string]any{"type": "string"}})
		}
		if params != nil {
			op["parameters"] = params
		}
		if r.body != nil {
			s, err := g.ref(reflect.TypeOf(r.body))
			if err != nil {
				return nil, err
			}
			op["requestBody"] = map[string]any{"required": true, "content": map[string]any{"application/json": map[string]any{"schema": s}}}
		}
		ok := map[string]any{"description": http.StatusText(r.status)}
		switch {
		case r.resp != nil:
			var s map[string]any
			if r.list {
				s, err = g.list(reflect.TypeOf(r.resp))
			} else {
				s, err = g.ref(reflect.TypeOf(r.resp))
			}
			if err != nil {
				return nil, err
			}
			ok["content"] = map[string]any{"application/json": map[string]any{"schema": s}}
		case r.produces != "":
			ok["content"] = map[string]any{r.produces: map[string]any{"schema": map[string]any{"type": "string"}}}
		}
		responses := map[string]any{
			strconv.Itoa(r.status): ok,
			"default": map[string]any{"description": "An error, in the API's one error shape",
				"content": map[string]any{"application/json": map[string]any{"schema": errSchema}}},
		}
		if r.rejects {
			responses["422"] = map[string]any{
				"description": "Refused by admission; the deployment is recorded as failed (error.deployment_id) with its events. error.code is one of: " +
					strings.Join(api.Reasons, ", "),
				"content": map[string]any{"application/json": map[string]any{"schema": errSchema}}}
		}
		op["responses"] = responses
		p := openapiPath(r.path)
		if paths[p] == nil {
			paths[p] = map[string]any{}
		}
		paths[p][strings.ToLower(r.method)] = op
	}
	doc := map[string]any{
		"openapi": "3.0.3",
		"info":    map[string]any{"title": Title, "version": apiVersion, "description": description},
		"paths":   paths,
		"components": map[string]any{
			"schemas":         g.schemas,
			"securitySchemes": map[string]any{"apiKey": map[string]any{"type": "http", "scheme": "bearer", "description": "an AetherEngine API key"}},
		},
		"security": []any{map[string]any{"apiKey": []string{}}},
	}
	return json.MarshalIndent(doc, "", "  ")
}
