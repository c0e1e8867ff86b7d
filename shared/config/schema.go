package config

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"reflect"
	"strings"

	"github.com/invopop/jsonschema"
)

// configSource and pullSource are the sources of the types, embedded so
// that Schema can use their doc comments as descriptions without the
// source tree at hand.
var (
	//go:embed config.go
	configSource []byte
	//go:embed pull.go
	pullSource []byte
	//go:embed destinations.go
	destinationsSource []byte
)

// Schema returns a JSON Schema (draft 2020-12) of aurum.yaml, generated from
// the Go types: yaml keys as property names, doc comments as descriptions,
// no additional properties. Editors use it for completion and checking
// while typing; it checks the structure, and Load checks everything
// (cross-references, uniqueness, regions, ...). docs/aurum.schema.json is
// its committed output.
func Schema() ([]byte, error) {
	comments := make(map[string]string)
	for _, src := range [][]byte{configSource, pullSource, destinationsSource} {
		m, err := typeComments(reflect.TypeFor[Config]().PkgPath(), src)
		if err != nil {
			return nil, fmt.Errorf("config: schema: %w", err)
		}
		maps.Copy(comments, m)
	}
	r := &jsonschema.Reflector{
		FieldNameTag:   "yaml",
		Anonymous:      true,
		ExpandedStruct: true,
		CommentMap:     comments,
	}
	s := r.Reflect(&Config{})
	s.Title = "aurum.yaml"
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(s); err != nil {
		return nil, fmt.Errorf("config: schema: %w", err)
	}
	return buf.Bytes(), nil
}

// typeComments collects the doc comments of the exported types and fields
// in src, keyed the way jsonschema.Reflector.CommentMap expects:
// "<pkg>.Type" and "<pkg>.Type.Field". Wrapped lines are joined so each
// paragraph is one line.
func typeComments(pkg string, src []byte) (map[string]string, error) {
	f, err := parser.ParseFile(token.NewFileSet(), "config.go", src, parser.ParseComments)
	if err != nil {
		return nil, fmt.Errorf("parse types: %w", err)
	}
	m := make(map[string]string)
	for _, d := range f.Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok || gd.Tok != token.TYPE {
			continue
		}
		for _, spec := range gd.Specs {
			ts := spec.(*ast.TypeSpec)
			if !ts.Name.IsExported() {
				continue
			}
			doc := ts.Doc
			if doc == nil && len(gd.Specs) == 1 {
				doc = gd.Doc
			}
			if txt := flow(doc.Text()); txt != "" {
				m[pkg+"."+ts.Name.Name] = txt
			}
			st, ok := ts.Type.(*ast.StructType)
			if !ok {
				continue
			}
			for _, fld := range st.Fields.List {
				doc := fld.Doc
				if doc == nil {
					doc = fld.Comment
				}
				txt := flow(doc.Text())
				if txt == "" {
					continue
				}
				for _, n := range fld.Names {
					if n.IsExported() {
						m[pkg+"."+ts.Name.Name+"."+n.Name] = txt
					}
				}
			}
		}
	}
	return m, nil
}

// flow joins the lines of each paragraph of a comment.
func flow(text string) string {
	paras := strings.Split(strings.TrimSpace(text), "\n\n")
	for i, p := range paras {
		paras[i] = strings.Join(strings.Fields(p), " ")
	}
	return strings.Join(paras, "\n\n")
}

// JSONSchemaExtend writes the shorthand into the schema: a Field is either
// a string (the field name) or a mapping with exactly one of field and
// const.
func (Field) JSONSchemaExtend(s *jsonschema.Schema) {
	obj := *s
	obj.Description = ""
	obj.OneOf = []*jsonschema.Schema{
		{Required: []string{"field"}},
		{Required: []string{"const"}},
	}
	*s = jsonschema.Schema{
		Description: s.Description,
		OneOf: []*jsonschema.Schema{
			{Type: "string", Description: "Shorthand for {field: <this string>}: a CSV column name or a dotted JSON path."},
			&obj,
		},
	}
}

// JSONSchemaExtend replaces the inlined Field's type (an attribute type)
// with the identifier type, and drops const: an identifier always comes
// from a field.
func (IdentifierField) JSONSchemaExtend(s *jsonschema.Schema) {
	s.Properties.Set("type", &jsonschema.Schema{
		Type:        "string",
		Pattern:     identifierNamePattern.String(),
		Description: "An identifier type declared under identifiers, e.g. email.",
	})
	s.Properties.Delete("const")
	s.Required = append(s.Required, "field")
}

// JSONSchemaExtend requires exactly one way of naming the secret.
func (SecretRef) JSONSchemaExtend(s *jsonschema.Schema) {
	for _, k := range []string{"env", "ssm", "secrets_manager", "sha256"} {
		s.OneOf = append(s.OneOf, &jsonschema.Schema{Required: []string{k}})
	}
}
