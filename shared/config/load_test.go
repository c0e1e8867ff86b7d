package config

import (
	"errors"
	"fmt"
	"io/fs"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"

	"github.com/aurum-cdp/aurum/shared/model/fault"
)

// base is the smallest valid configuration; cases append to it.
const base = `version: 1
identifiers:
  - name: email
    normalizer: email
sources:
  - name: crm
    kind: file
    format: csv
`

// problems parses in and returns its errors as "line:col path: msg".
func problems(t *testing.T, in string) []string {
	t.Helper()
	cfg, err := Parse("aurum.yaml", []byte(in))
	if err == nil {
		if cfg == nil {
			t.Fatalf("Parse(...) = nil, nil")
		}
		return nil
	}
	if cfg != nil {
		t.Errorf("Parse(...) returned a config with error %v", err)
	}
	var errs Errors
	if !errors.As(err, &errs) {
		t.Fatalf("Parse(...) error %T %v; want Errors", err, err)
	}
	var out []string
	for _, e := range errs {
		if e.File != "aurum.yaml" {
			t.Errorf("error %v: File = %q; want aurum.yaml", e, e.File)
		}
		out = append(out, strings.TrimPrefix(e.Error(), "aurum.yaml:"))
	}
	return out
}

// checkProblems compares got with want; each want entry must be a prefix
// of the matching got entry, so cases pin position, path and the start of
// the message.
func checkProblems(t *testing.T, in string, want []string) {
	t.Helper()
	got := problems(t, in)
	ok := len(got) == len(want)
	for i := 0; ok && i < len(want); i++ {
		ok = strings.HasPrefix(got[i], want[i])
	}
	if !ok {
		t.Errorf("Parse(...) errors =\n  %s\nwant (prefixes)\n  %s\ninput:\n%s", strings.Join(got, "\n  "), strings.Join(want, "\n  "), numbered(in))
	}
}

// numbered prefixes each line of s with its number, for failure messages.
func numbered(s string) string {
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = fmt.Sprintf("%3d| %s", i+1, l)
	}
	return strings.Join(lines, "\n")
}

func TestLoadValid(t *testing.T) {
	cfg, err := Load("testdata/valid.yaml")
	if err != nil {
		t.Fatalf("Load(testdata/valid.yaml) error: %v", err)
	}
	if cfg.File != "testdata/valid.yaml" {
		t.Errorf("File = %q; want testdata/valid.yaml", cfg.File)
	}
	if got := len(cfg.Sources); got != 5 {
		t.Fatalf("len(Sources) = %d; want 5", got)
	}
	crm, ok := cfg.Source("crm")
	if !ok {
		t.Fatalf("Source(crm) not found")
	}
	if want := (&Field{Field: "Customer ID"}); !reflect.DeepEqual(crm.Mapping.RecordID, want) {
		t.Errorf("crm record_id = %+v; want %+v", crm.Mapping.RecordID, want)
	}
	if got, want := crm.Mapping.Attributes["email"], (Field{Field: "E-mail"}); !reflect.DeepEqual(got, want) {
		t.Errorf("crm attributes.email = %+v; want %+v", got, want)
	}
	if got, want := crm.Mapping.Attributes["crm_system"], (Field{Const: "salesforce"}); !reflect.DeepEqual(got, want) {
		t.Errorf("crm attributes.crm_system = %+v; want %+v", got, want)
	}
	if got, want := crm.Mapping.Identifiers[1], (IdentifierField{Type: "email", Field: Field{Field: "E-mail"}}); !reflect.DeepEqual(got, want) {
		t.Errorf("crm identifiers[1] = %+v; want %+v", got, want)
	}
	if got := crm.CSV; got == nil || got.Delimiter != ";" || got.Comment != "#" {
		t.Errorf("crm csv = %+v; want delimiter ; and comment #", got)
	}
	orders, _ := cfg.Source("orders")
	if ev := orders.Mapping.Event; ev == nil || ev.Name.Const != "Order Completed" || ev.ID == nil || ev.ID.Field != "order.id" {
		t.Errorf("orders event = %+v; want name const Order Completed and id order.id", ev)
	}
	if got := cfg.Identity.Rules[1].Identifiers; !slices.Equal(got, []string{"email", "phone"}) {
		t.Errorf("rules[1].identifiers = %v; want [email phone]", got)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load("testdata/does-not-exist.yaml")
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load(missing) error = %v; want fs.ErrNotExist", err)
	}
}

func TestShorthand(t *testing.T) {
	in := base + `    mapping:
      record_id: "Customer ID"
      observed_at: {field: Updated, type: timestamp}
      identifiers:
        - {type: email, field: "E-mail", transforms: [trim]}
      attributes:
        email: "E-mail"
        plan: {const: gold}
        name:
          field: Name
          type: name
      event:
        name: {const: Signed Up}
        id: "Customer ID"
        properties:
          plan: Plan
`
	cfg, err := Parse("aurum.yaml", []byte(in))
	if err != nil {
		t.Fatalf("Parse(...) error: %v", err)
	}
	m := cfg.Sources[0].Mapping
	tests := []struct {
		name string
		got  any
		want any
	}{
		{"record_id", m.RecordID, &Field{Field: "Customer ID"}},
		{"observed_at", m.ObservedAt, &Field{Field: "Updated", Type: TypeTimestamp}},
		{"identifiers[0]", m.Identifiers[0], IdentifierField{Type: "email", Field: Field{Field: "E-mail", Transforms: []string{"trim"}}}},
		{"attributes.email", m.Attributes["email"], Field{Field: "E-mail"}},
		{"attributes.plan", m.Attributes["plan"], Field{Const: "gold"}},
		{"attributes.name", m.Attributes["name"], Field{Field: "Name", Type: TypeName}},
		{"event.name", m.Event.Name, Field{Const: "Signed Up"}},
		{"event.id", m.Event.ID, &Field{Field: "Customer ID"}},
		{"event.properties.plan", m.Event.Properties["plan"], Field{Field: "Plan"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !reflect.DeepEqual(tt.got, tt.want) {
				t.Errorf("%s = %+v; want %+v", tt.name, tt.got, tt.want)
			}
		})
	}
}

// TestAnchors checks that anchors, aliases and merge keys decode, and that
// keys reached through them are checked too.
func TestAnchors(t *testing.T) {
	in := `version: 1
identifiers:
  - name: email
    normalizer: email
sources:
  - &crm
    name: crm
    kind: file
    format: csv
    mapping:
      identifiers: &ids
        - {type: email, field: Email}
  - <<: *crm
    name: crm-eu
    region: FR
  - name: shop
    kind: bus
    mapping:
      identifiers: *ids
`
	cfg, err := Parse("aurum.yaml", []byte(in))
	if err != nil {
		t.Fatalf("Parse(...) error: %v", err)
	}
	eu, ok := cfg.Source("crm-eu")
	if !ok || eu.Kind != KindFile || eu.Format != FormatCSV || eu.Region != "FR" || len(eu.Mapping.Identifiers) != 1 {
		t.Errorf("Source(crm-eu) = %+v; want the merged crm source with region FR", eu)
	}
	shop, _ := cfg.Source("shop")
	if got := shop.Mapping.Identifiers; len(got) != 1 || got[0].Field.Field != "Email" {
		t.Errorf("shop identifiers = %+v; want the aliased list", got)
	}

	bad := strings.Replace(in, "{type: email, field: Email}", "{type: email, field: Email, bogus: 1}", 1)
	checkProblems(t, bad, []string{`12:39: sources[0].mapping.identifiers[0].bogus: unknown key "bogus"`})
}

func TestParseStructure(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{
			name: "syntax error",
			in:   "version: 1\nidentifiers: [\n",
			want: []string{"2:14: "},
		},
		{
			name: "empty file",
			in:   "# nothing here\n",
			want: []string{"1:1: empty configuration"},
		},
		{
			name: "two documents",
			in:   base + "---\nversion: 1\n",
			want: []string{"10:1: a second YAML document"},
		},
		{
			name: "not a mapping",
			in:   "- version: 1\n",
			want: []string{"1:1: expected a mapping, got a list"},
		},
		{
			name: "unknown top-level key",
			in:   base + "segmnts: []\n",
			want: []string{`9:1: segmnts: unknown key "segmnts"; did you mean "segments"?`},
		},
		{
			name: "unknown key lists the expected keys",
			in:   base + "identity:\n  rulez: []\n  zzz: 1\n",
			want: []string{
				`10:3: identity.rulez: unknown key "rulez"; did you mean "rules"?`,
				`11:3: identity.zzz: unknown key "zzz"; expected one of placeholders, rules`,
			},
		},
		{
			name: "unknown key at depth in an attribute field",
			in: base + `    mapping:
      attributes:
        email: {field: E-mail, normaliser: email}
`,
			want: []string{`11:32: sources[0].mapping.attributes.email.normaliser: unknown key "normaliser"; expected one of const, fallback, field, formats, required, transforms, type`},
		},
		{
			name: "unknown key in an identifier field",
			in: base + `    mapping:
      identifiers:
        - type: email
          fields: E-mail
`,
			want: []string{`12:11: sources[0].mapping.identifiers[0].fields: unknown key "fields"; did you mean "field"?`},
		},
		{
			name: "unknown key in an event property",
			in: base + `    mapping:
      event:
        name: {const: Visit}
        properties:
          "page url": {field: url, trasforms: [trim]}
`,
			want: []string{`13:36: sources[0].mapping.event.properties["page url"].trasforms: unknown key "trasforms"; did you mean "transforms"?`},
		},
		{
			name: "a raw secret is an unknown key",
			in: `version: 1
identifiers: [{name: email, normalizer: email}]
sources:
  - name: web
    kind: api
    write_keys:
      - value: s3cr3t
`,
			want: []string{`7:9: sources[0].write_keys[0].value: unknown key "value"; expected one of env, secrets_manager, sha256, ssm`},
		},
		{
			name: "quoted integer",
			in:   strings.Replace(base, "version: 1", `version: "1"`, 1),
			want: []string{"1:10: version: expected an integer, got a string"},
		},
		{
			name: "float for an integer",
			in:   strings.Replace(base, "version: 1", "version: 1.5", 1),
			want: []string{"1:10: version: expected an integer, got a number"},
		},
		{
			name: "string for a boolean",
			in:   strings.Replace(base, "normalizer: email", "normalizer: email\n    gmail_dots: yes", 1),
			want: []string{"5:17: identifiers[0].gmail_dots: expected true or false, got a string"},
		},
		{
			name: "string for a list",
			in:   strings.Replace(base, "normalizer: email", "normalizer: email\n    blocked: test@test.com", 1),
			want: []string{"5:14: identifiers[0].blocked: expected a list, got a string"},
		},
		{
			name: "list for a string",
			in:   strings.Replace(base, "kind: file", "kind: [file]", 1),
			want: []string{"7:11: sources[0].kind: expected a string, got a list"},
		},
		{
			name: "list for a field",
			in:   base + "    mapping:\n      record_id: [a, b]\n",
			want: []string{"10:18: sources[0].mapping.record_id: expected a field name or a mapping with field or const, got a list"},
		},
		{
			name: "integer for a field",
			in:   base + "    mapping:\n      attributes:\n        age: 42\n",
			want: []string{"11:14: sources[0].mapping.attributes.age: expected a field name or a mapping with field or const, got an integer"},
		},
		{
			name: "integer out of range",
			in:   strings.Replace(base, "kind: file", "kind: file\n    priority: 99999999999999999999", 1),
			want: []string{"8:15: "},
		},
		{
			name: "every structural problem at once",
			in: `version: 1
identifers:
  - name: email
sources:
  - name: crm
    knd: file
    mapping:
      attributes:
        a: {field: x, typ: string}
        b: [x]
segments:
  - id: s
    expr: "true"
    color: red
`,
			want: []string{
				`2:1: identifers: unknown key "identifers"; did you mean "identifiers"?`,
				`6:5: sources[0].knd: unknown key "knd"; did you mean "kind"?`,
				`9:23: sources[0].mapping.attributes.a.typ: unknown key "typ"; did you mean "type"?`,
				`10:12: sources[0].mapping.attributes.b: expected a field name or a mapping with field or const, got a list`,
				`14:5: segments[0].color: unknown key "color"; expected one of description, expr, id, name, tags`,
			},
		},
		{
			name: "yaml tags",
			in:   strings.Replace(base, "name: crm", "name: !!str crm\n    priority: !custom 1", 1),
			want: []string{
				`6:11: YAML tag "!!str" is not supported`,
				`7:15: YAML tag "!custom" is not supported`,
			},
		},
		{
			name: "alias inside its own anchor",
			in:   base + "    date_formats: &f [iso, *f]\n",
			want: []string{"9:28: alias refers to the anchor that contains it"},
		},
		{
			name: "alias bomb",
			in:   aliasBomb(),
			want: []string{"1:1: document expands to more than"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkProblems(t, tt.in, tt.want)
		})
	}
}

// aliasBomb builds a small document whose aliases expand to millions of
// nodes.
func aliasBomb() string {
	var b strings.Builder
	b.WriteString("version: 1\nidentifiers:\n  - &i0 {name: a, normalizer: id, blocked: [x, x, x, x, x, x, x, x, x, x]}\n")
	b.WriteString("x: &l0 [*i0, *i0, *i0, *i0, *i0, *i0, *i0, *i0, *i0, *i0]\n")
	for i := 1; i < 7; i++ {
		prev := "*l" + strconv.Itoa(i-1)
		b.WriteString("x" + strconv.Itoa(i) + ": &l" + strconv.Itoa(i) + " [" + strings.Repeat(prev+", ", 9) + prev + "]\n")
	}
	return b.String()
}

// TestDecoderStrict checks that the custom UnmarshalYAML methods keep the
// decoder's strict mode: unknown keys inside Field and IdentifierField
// mappings are rejected by goccy/go-yaml itself, not only by the shape
// check that runs before it.
func TestDecoderStrict(t *testing.T) {
	tests := []struct {
		name string
		in   string
	}{
		{"attribute field", "sources:\n  - mapping:\n      attributes:\n        email: {field: x, bogus: 1}\n"},
		{"identifier field", "sources:\n  - mapping:\n      identifiers:\n        - {type: email, field: x, bogus: 1}\n"},
		{"event name", "sources:\n  - mapping:\n      event:\n        name: {const: x, bogus: 1}\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var cfg Config
			err := yaml.UnmarshalWithOptions([]byte(tt.in), &cfg, yaml.Strict())
			var ue *yaml.UnknownFieldError
			if !errors.As(err, &ue) {
				t.Fatalf("strict decode error = %v; want an unknown field error", err)
			}
			if tk := ue.GetToken(); tk == nil || tk.Position.Line != 4 {
				t.Errorf("unknown field error at %v; want line 4", tk)
			}
		})
	}
}

func TestErrorsAPI(t *testing.T) {
	_, err := Parse("conf/aurum.yaml", []byte(strings.Replace(base, "kind: file", "kind: fil", 1)))
	if err == nil {
		t.Fatal("Parse(kind: fil) = nil error")
	}
	if !errors.Is(err, fault.ErrInvalid) {
		t.Errorf("errors.Is(%v, fault.ErrInvalid) = false; want true", err)
	}
	var errs Errors
	if !errors.As(err, &errs) || len(errs) != 1 {
		t.Fatalf("errors.As(%v, *Errors) = %v; want one error", err, errs)
	}
	want := &Error{File: "conf/aurum.yaml", Line: 7, Column: 11, Path: "sources[0].kind", Msg: `"fil" is not one of file, api, webhook, bus, pull`}
	if *errs[0] != *want {
		t.Errorf("errs[0] = %+v; want %+v", errs[0], want)
	}
	if got, want := err.Error(), `conf/aurum.yaml:7:11: sources[0].kind: "fil" is not one of file, api, webhook, bus, pull`; got != want {
		t.Errorf("Error() = %q; want %q", got, want)
	}
}

func TestErrorString(t *testing.T) {
	tests := []struct {
		name string
		err  *Error
		want string
	}{
		{"full", &Error{File: "a.yaml", Line: 3, Column: 4, Path: "version", Msg: "bad"}, "a.yaml:3:4: version: bad"},
		{"no position", &Error{File: "a.yaml", Path: "version", Msg: "bad"}, "a.yaml: version: bad"},
		{"no file", &Error{Path: "version", Msg: "bad"}, "version: bad"},
		{"no path", &Error{File: "a.yaml", Line: 1, Column: 2, Msg: "bad"}, "a.yaml:1:2: bad"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q; want %q", got, tt.want)
			}
		})
	}
	es := Errors{tests[0].err, tests[3].err}
	if got, want := es.Error(), "a.yaml:3:4: version: bad\na.yaml:1:2: bad"; got != want {
		t.Errorf("Errors.Error() = %q; want %q", got, want)
	}
}

func TestParentPath(t *testing.T) {
	tests := []struct{ in, want string }{
		{"sources[1].kind", "sources[1]"},
		{"sources[1]", "sources"},
		{"sources", ""},
		{`sources[0].mapping.attributes["a.b[1]"]`, "sources[0].mapping.attributes"},
		{`sources[0].mapping.attributes["x"].type`, `sources[0].mapping.attributes["x"]`},
	}
	for _, tt := range tests {
		if got := parentPath(tt.in); got != tt.want {
			t.Errorf("parentPath(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}
