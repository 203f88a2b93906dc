package sbom

import (
	"bytes"
	"embed"
	"fmt"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// schemaFS holds the official CycloneDX schemas (see schema/README.md).
//
//go:embed schema/*.json
var schemaFS embed.FS

// schemaBase is where the CycloneDX schemas' $ids live; their $refs to each
// other resolve against it.
const schemaBase = "http://cyclonedx.org/schema/"

// schemaFiles are the embedded files, each registered under its $id.
var schemaFiles = []string{
	"bom-1.5.schema.json",
	"bom-1.6.schema.json",
	"bom-1.7.schema.json",
	"spdx.schema.json",
	"jsf-0.82.schema.json",
	"cryptography-defs.schema.json",
}

// bomSchemas maps a specVersion Validate accepts to its schema file.
var bomSchemas = map[string]string{
	"1.5": "bom-1.5.schema.json",
	"1.6": "bom-1.6.schema.json",
	"1.7": "bom-1.7.schema.json",
}

// noFetch refuses every URL the embedded files do not cover: validating
// untrusted input must never make a network request.
type noFetch struct{}

func (noFetch) Load(url string) (any, error) {
	return nil, fmt.Errorf("schema %s is not embedded, and aether never fetches schemas", url)
}

// compiledSchemas compiles the schemas once, on first use (a few hundred
// KB of JSON; most processes never validate an SBOM).
var compiledSchemas = sync.OnceValues(func() (map[string]*jsonschema.Schema, error) {
	c := jsonschema.NewCompiler()
	c.UseLoader(noFetch{})
	// Draft-07 schemas assert formats (date-time, iri-reference, …) as
	// CycloneDX intends; say so explicitly rather than rely on the default.
	c.AssertFormat()
	for _, name := range schemaFiles {
		data, err := schemaFS.ReadFile("schema/" + name)
		if err != nil {
			return nil, err
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("embedded schema %s: %w", name, err)
		}
		if err := c.AddResource(schemaBase+name, doc); err != nil {
			return nil, fmt.Errorf("embedded schema %s: %w", name, err)
		}
	}
	out := make(map[string]*jsonschema.Schema, len(bomSchemas))
	for v, name := range bomSchemas {
		s, err := c.Compile(schemaBase + name)
		if err != nil {
			return nil, fmt.Errorf("compiling the CycloneDX %s schema: %w", v, err)
		}
		out[v] = s
	}
	return out, nil
})
