package httpapi

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/openapi.json from the route table")

type openapiDoc struct {
	Info struct {
		Title string `json:"title"`
	} `json:"info"`
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components struct {
		Schemas map[string]json.RawMessage `json:"schemas"`
	} `json:"components"`
}

func parseDoc(t *testing.T, b []byte) openapiDoc {
	t.Helper()
	var d openapiDoc
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	return d
}

// TestOpenAPIDrift: every route gin serves is documented, and every
// documented operation is served (a request to it reaches a handler, not the
// no-route or no-method fallback).
func TestOpenAPIDrift(t *testing.T) {
	f := newFixture(t)
	resp, body := f.do(t, "GET", "/openapi.json", "", nil, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("GET /openapi.json = %d", resp.StatusCode)
	}
	doc := parseDoc(t, body)
	documented := map[string]bool{}
	for p, ops := range doc.Paths {
		for m := range ops {
			documented[strings.ToUpper(m)+" "+p] = true
		}
	}
	served := map[string]bool{}
	for _, r := range f.api.engine.Routes() {
		served[r.Method+" "+openapiPath(r.Path)] = true
	}
	for op := range served {
		if !documented[op] {
			t.Errorf("served but not documented: %s", op)
		}
	}
	for op := range documented {
		if !served[op] {
			t.Errorf("documented but not served: %s", op)
		}
	}
	param := regexp.MustCompile(`\{[^}]+\}`)
	for op := range documented {
		method, path, _ := strings.Cut(op, " ")
		var b []byte
		if mutating(method) {
			b = []byte(`{}`)
		}
		resp, body := f.do(t, method, param.ReplaceAllString(path, "x"), "admin", b, nil)
		if resp.StatusCode == 405 || (resp.StatusCode == 404 && bytes.Contains(body, []byte("no endpoint"))) {
			t.Errorf("%s is documented but the server answers %d: %s", op, resp.StatusCode, body)
		}
	}
	if len(documented) < 20 {
		t.Fatalf("only %d operations documented", len(documented))
	}
}

// TestOpenAPIDocument: references resolve, operation ids are unique, and
// the document matches the reviewed golden copy (go test -update rewrites
// it, so API changes show up in review).
func TestOpenAPIDocument(t *testing.T) {
	f := newFixture(t)
	b := f.api.OpenAPI()
	doc := parseDoc(t, b)
	if doc.Info.Title != Title {
		t.Fatalf("title = %q", doc.Info.Title)
	}
	for _, ref := range regexp.MustCompile(`"\$ref": "#/components/schemas/([^"]+)"`).FindAllSubmatch(b, -1) {
		if _, ok := doc.Components.Schemas[string(ref[1])]; !ok {
			t.Errorf("dangling $ref %s", ref[1])
		}
	}
	ids := map[string]bool{}
	var all []string
	for _, ops := range doc.Paths {
		for _, raw := range ops {
			var op struct {
				OperationID string `json:"operationId"`
			}
			if err := json.Unmarshal(raw, &op); err != nil || op.OperationID == "" || ids[op.OperationID] {
				t.Errorf("operation id %q missing or duplicated", op.OperationID)
			}
			ids[op.OperationID] = true
			all = append(all, op.OperationID)
		}
	}
	sort.Strings(all)
	golden := filepath.Join("testdata", "openapi.json")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./controlplane/httpapi -run TestOpenAPIDocument -update)", err)
	}
	if !bytes.Equal(bytes.TrimSpace(want), bytes.TrimSpace(b)) {
		t.Fatalf("openapi.json differs from %s; if the change is intended, run go test ./controlplane/httpapi -run TestOpenAPIDocument -update and review the diff", golden)
	}
}
