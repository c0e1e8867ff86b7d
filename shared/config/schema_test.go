package config

import (
	"bytes"
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

var update = flag.Bool("update", false, "rewrite docs/aurum.schema.json from Schema()")

const schemaFile = "../../docs/aurum.schema.json"

// TestSchemaGolden keeps docs/aurum.schema.json equal to Schema(). After
// changing the types, refresh it with:
//
//	go test ./shared/config -run TestSchema -update
func TestSchemaGolden(t *testing.T) {
	got, err := Schema()
	if err != nil {
		t.Fatalf("Schema() error: %v", err)
	}
	if *update {
		if err := os.WriteFile(schemaFile, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(schemaFile)
	if err != nil {
		t.Fatalf("read golden schema: %v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("Schema() differs from %s; run: go test ./shared/config -run TestSchema -update", schemaFile)
	}
}

func TestSchemaDescriptions(t *testing.T) {
	got, err := Schema()
	if err != nil {
		t.Fatalf("Schema() error: %v", err)
	}
	// Doc comments of a type, a field and a wrapped field comment.
	for _, want := range []string{
		`"description": "Source declares one source of customer data."`,
		`"description": "Kind is file (S3 drops), api (Segment tracking API), webhook, bus or pull (a connector read on a schedule)."`,
		`"description": "Region is the default phone region (ISO 3166-1 alpha-2, e.g. GB) for numbers written without a country code."`,
	} {
		if !bytes.Contains(got, []byte(want)) {
			t.Errorf("Schema() lacks %s", want)
		}
	}
}

// compileSchema compiles Schema() with a real JSON Schema validator.
func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	b, err := Schema()
	if err != nil {
		t.Fatalf("Schema() error: %v", err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("Schema() is not JSON: %v", err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("aurum.schema.json", doc); err != nil {
		t.Fatalf("add schema: %v", err)
	}
	sch, err := c.Compile("aurum.schema.json")
	if err != nil {
		t.Fatalf("compile schema: %v", err)
	}
	return sch
}

// yamlInstance converts YAML into the JSON value the validator checks.
func yamlInstance(t *testing.T, in string) any {
	t.Helper()
	j, err := yaml.YAMLToJSON([]byte(in))
	if err != nil {
		t.Fatalf("YAMLToJSON: %v", err)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(j))
	if err != nil {
		t.Fatalf("UnmarshalJSON: %v", err)
	}
	return v
}

func TestSchemaValidatesSamples(t *testing.T) {
	sch := compileSchema(t)
	valid, err := os.ReadFile("testdata/valid.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		in    string
		valid bool
	}{
		{"testdata/valid.yaml", string(valid), true},
		{"base", base, true},
		{"field shorthand", base + "    mapping:\n      record_id: ID\n      attributes:\n        email: E-mail\n", true},
		{"unknown key at depth", base + "    mapping:\n      attributes:\n        email: {field: E-mail, bogus: 1}\n", false},
		{"unknown top-level key", base + "segmnts: []\n", false},
		{"field and const", base + "    mapping:\n      attributes:\n        plan: {field: Plan, const: gold}\n", false},
		{"identifier field with const", base + "    mapping:\n      identifiers:\n        - {type: email, const: x}\n", false},
		{"identifier field with a custom type", base + "    mapping:\n      identifiers:\n        - {type: customer_id, field: ID}\n", true},
		{"unknown kind", strings.Replace(base, "kind: file", "kind: fil", 1), false},
		{"unknown transform", base + "    mapping:\n      attributes:\n        a: {field: A, transforms: [trimm]}\n", false},
		{"write key with two references", base + "    write_keys: [{env: A, ssm: /b}]\n", false},
		{"raw secret", base + "    write_keys: [{value: hunter2}]\n", false},
		{"version 2", strings.Replace(base, "version: 1", "version: 2", 1), false},
		{"missing sources", "version: 1\nidentifiers: [{name: email, normalizer: email}]\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := sch.Validate(yamlInstance(t, tt.in))
			if got := err == nil; got != tt.valid {
				t.Errorf("schema valid = %v; want %v (error: %v)", got, tt.valid, err)
			}
		})
	}
}
