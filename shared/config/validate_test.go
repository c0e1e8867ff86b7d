package config

import (
	"errors"
	"os"
	"strings"
	"testing"
)

// Lines of base, for reading the positions below:
//
//	1 version: 1
//	2 identifiers:
//	3   - name: email
//	4     normalizer: email
//	5 sources:
//	6   - name: crm
//	7     kind: file
//	8     format: csv

// replace returns base with old replaced by new, failing the test when old
// is not there.
func replace(t *testing.T, old, new string) string {
	t.Helper()
	if !strings.Contains(base, old) {
		t.Fatalf("base has no %q", old)
	}
	return strings.Replace(base, old, new, 1)
}

const apiSource = `version: 1
identifiers:
  - name: email
    normalizer: email
sources:
  - name: web
    kind: api
`

func TestValidateRules(t *testing.T) {
	tests := []struct {
		name string
		in   func(t *testing.T) string
		want []string
	}{
		{"valid base", func(*testing.T) string { return base }, nil},

		// version
		{"version 2", func(t *testing.T) string { return replace(t, "version: 1", "version: 2") },
			[]string{"1:10: version: 2 is not supported; expected 1"}},
		{"version missing", func(t *testing.T) string { return replace(t, "version: 1\n", "") },
			[]string{"1:1: version: missing; expected version: 1"}},

		// identifier types
		{"no identifier types", func(t *testing.T) string {
			return replace(t, "identifiers:\n  - name: email\n    normalizer: email\n", "identifiers: []\n")
		}, []string{"2:14: identifiers: empty; declare at least one identifier type"}},
		{"identifier name pattern", func(t *testing.T) string { return replace(t, "name: email", "name: E-mail") },
			[]string{`3:11: identifiers[0].name: "E-mail" must match ^[a-z][a-z0-9_]*$`}},
		{"identifier name missing", func(t *testing.T) string { return replace(t, "  - name: email\n    normalizer", "  - normalizer") },
			[]string{"3:5: identifiers[0].name: missing"}},
		{"identifier name duplicate", func(t *testing.T) string {
			return replace(t, "normalizer: email\n", "normalizer: email\n  - name: email\n    normalizer: lower\n")
		}, []string{`5:11: identifiers[1].name: duplicate identifier type "email"; first declared at line 3`}},
		{"normalizer unknown", func(t *testing.T) string { return replace(t, "normalizer: email", "normalizer: mail") },
			[]string{`4:17: identifiers[0].normalizer: "mail" is not one of email, phone, id, lower, digits`}},
		{"normalizer missing", func(t *testing.T) string { return replace(t, "    normalizer: email\n", "") },
			[]string{"3:5: identifiers[0].normalizer: missing; expected one of email, phone, id, lower, digits"}},
		{"normalizer empty", func(t *testing.T) string { return replace(t, "normalizer: email", "normalizer:") },
			[]string{"4:5: identifiers[0].normalizer: missing; expected one of email"}},
		{"gmail_dots without the email normalizer", func(t *testing.T) string {
			return replace(t, "normalizer: email\n", "normalizer: email\n  - name: phone\n    normalizer: phone\n    gmail_dots: true\n")
		}, []string{"7:17: identifiers[1].gmail_dots: applies only to normalizer email"}},
		{"max_per_profile negative", func(t *testing.T) string {
			return replace(t, "normalizer: email\n", "normalizer: email\n    max_per_profile: -1\n")
		}, []string{"5:22: identifiers[0].max_per_profile: -1 is negative"}},
		{"blocked entries", func(t *testing.T) string {
			return replace(t, "normalizer: email\n", "normalizer: email\n    blocked: [\"/[a-/\", ok, \"\", /^ok$/]\n")
		}, []string{
			"5:15: identifiers[0].blocked[0]: regular expression /[a-/ does not compile",
			"5:28: identifiers[0].blocked[2]: empty",
		}},

		// sources
		{"no sources", func(t *testing.T) string {
			return replace(t, "sources:\n  - name: crm\n    kind: file\n    format: csv\n", "sources: []\n")
		}, []string{"5:10: sources: empty; declare at least one source"}},
		{"source name pattern", func(t *testing.T) string { return replace(t, "name: crm", "name: CRM") },
			[]string{`6:11: sources[0].name: "CRM" must match ^[a-z][a-z0-9_-]*$`}},
		{"source name missing", func(t *testing.T) string { return replace(t, "  - name: crm\n    kind", "  - kind") },
			[]string{"6:5: sources[0].name: missing"}},
		{"source name duplicate", func(t *testing.T) string {
			return base + "  - name: crm\n    kind: bus\n"
		}, []string{`9:11: sources[1].name: duplicate source name "crm"; first declared at line 6`}},
		{"kind unknown", func(t *testing.T) string { return replace(t, "kind: file", "kind: fil") },
			[]string{`7:11: sources[0].kind: "fil" is not one of file, api, webhook, bus, pull`}},
		{"kind missing", func(t *testing.T) string { return replace(t, "    kind: file\n", "") },
			[]string{"6:5: sources[0].kind: missing; expected one of file, api, webhook, bus, pull"}},
		{"file source without format", func(t *testing.T) string { return replace(t, "    format: csv\n", "") },
			[]string{"6:5: sources[0].format: missing; file sources need format csv or jsonl"}},
		{"format unknown", func(t *testing.T) string { return replace(t, "format: csv", "format: xml") },
			[]string{`8:13: sources[0].format: "xml" is not one of csv, jsonl`}},
		{"format on a bus source", func(t *testing.T) string { return replace(t, "kind: file", "kind: bus") },
			[]string{"8:13: sources[0].format: applies only to file sources"}},
		{"csv options on jsonl", func(t *testing.T) string {
			return replace(t, "format: csv\n", "format: jsonl\n    csv: {delimiter: \";\"}\n")
		}, []string{"9:10: sources[0].csv: applies only to format csv"}},
		{"csv delimiter and comment", func(t *testing.T) string {
			return base + "    csv:\n      delimiter: \";;\"\n      comment: \",\"\n"
		}, []string{
			`10:18: sources[0].csv.delimiter: ";;" must be a single character`,
			`11:16: sources[0].csv.comment: "," is also the delimiter`,
		}},
		{"csv delimiter newline", func(t *testing.T) string {
			return base + "    csv: {delimiter: \"\\n\", comment: \"##\"}\n"
		}, []string{
			`9:22: sources[0].csv.delimiter: "\n" cannot be a delimiter`,
			`9:37: sources[0].csv.comment: "##" must be a single character`,
		}},
		{"csv tab delimiter", func(t *testing.T) string { return base + "    csv: {delimiter: \"\\t\"}\n" }, nil},
		{"region lower case", func(t *testing.T) string { return base + "    region: gb\n" },
			[]string{`9:13: sources[0].region: "gb" must be two upper-case letters`}},
		{"region UK", func(t *testing.T) string { return base + "    region: UK\n" },
			[]string{`9:13: sources[0].region: "UK" is not a region known to the phone number library; did you mean GB?`}},
		{"region unknown", func(t *testing.T) string { return base + "    region: QQ\n" },
			[]string{`9:13: sources[0].region: "QQ" is not a region known to the phone number library`}},

		// write keys
		{"api source without write keys", func(*testing.T) string { return apiSource },
			[]string{"6:5: sources[0].write_keys: missing; api sources need at least one write key"}},
		{"api source with write keys", func(*testing.T) string {
			return apiSource + "    write_keys:\n      - env: AURUM_WRITE_KEY\n      - ssm: /aurum/web\n      - secrets_manager: aurum/web\n      - sha256: " + strings.Repeat("ab", 32) + "\n"
		}, nil},
		{"webhook source without write keys", func(*testing.T) string {
			return strings.Replace(apiSource, "kind: api", "kind: webhook", 1) + "    webhook: {preset: shopify_customers, secret: {env: SHOP_SECRET}}\n"
		}, nil},
		{"write keys on a file source", func(*testing.T) string { return base + "    write_keys: [{env: KEY}]\n" },
			[]string{"9:17: sources[0].write_keys: apply only to api and webhook sources"}},
		{"write key with none or two references", func(*testing.T) string {
			return apiSource + "    write_keys:\n      - {}\n      - {env: KEY, ssm: /aurum/key}\n"
		}, []string{
			"9:9: sources[0].write_keys[0]: has none; expected exactly one of env, ssm, secrets_manager, sha256",
			"10:9: sources[0].write_keys[1]: has env and ssm; expected exactly one of env, ssm, secrets_manager, sha256",
		}},
		// allowed traits
		{"allowed traits", func(*testing.T) string {
			return apiSource + "    write_keys: [{env: KEY}]\n    allowed_traits: [email, first_name]\n" +
				"    mapping:\n      identifiers: [{type: email, field: traits.email}]\n      attributes: {first_name: {field: context.traits.first_name}}\n"
		}, nil},
		{"allowed traits malformed", func(*testing.T) string {
			return apiSource + "    write_keys: [{env: KEY}]\n    allowed_traits: [email, \"\", address.city, email]\n"
		}, []string{
			`9:29: sources[0].allowed_traits[1]: empty trait name`,
			`9:33: sources[0].allowed_traits[2]: "address.city" must be a top-level trait name (no dots or spaces)`,
			`9:47: sources[0].allowed_traits[3]: "email" is listed twice`,
		}},
		{"allowed traits drop a mapped trait", func(*testing.T) string {
			return apiSource + "    write_keys: [{env: KEY}]\n    allowed_traits: [email]\n" +
				"    mapping:\n      identifiers: [{type: email, field: traits.email}]\n      attributes: {plan: {field: traits.plan, fallback: [context.traits.tier]}}\n"
		}, []string{
			`12:34: sources[0].mapping.attributes.plan.field: maps trait "plan", which allowed_traits does not list: it could never be set`,
			`12:34: sources[0].mapping.attributes.plan.field: maps trait "tier", which allowed_traits does not list: it could never be set`,
		}},
		{"allowed traits on a file source", func(*testing.T) string { return base + "    allowed_traits: [email]\n" },
			[]string{"9:21: sources[0].allowed_traits: applies only to api sources"}},
		{"write key malformed", func(*testing.T) string {
			return apiSource + "    write_keys:\n      - env: AURUM-KEY\n      - sha256: ABCDEF\n"
		}, []string{
			`9:14: sources[0].write_keys[0].env: "AURUM-KEY" is not an environment variable name`,
			"10:17: sources[0].write_keys[1].sha256: expected 64 lower-case hexadecimal digits",
		}},

		// mappings
		{"identifier field type undeclared or missing", func(*testing.T) string {
			return base + "    mapping:\n      identifiers:\n        - {type: mail, field: E-mail}\n        - field: Phone\n"
		}, []string{
			`11:18: sources[0].mapping.identifiers[0].type: "mail" is not a declared identifier type; declared: email`,
			"12:11: sources[0].mapping.identifiers[1].type: missing; expected one of the identifier types: email",
		}},
		{"identifier field const or nothing", func(*testing.T) string {
			return base + "    mapping:\n      identifiers:\n        - {type: email, const: a@b.c}\n        - {type: email}\n"
		}, []string{
			"11:32: sources[0].mapping.identifiers[0].const: not allowed here (a constant identifier would merge every row into one profile)",
			"12:11: sources[0].mapping.identifiers[1]: missing field",
		}},
		{"record id const", func(*testing.T) string { return base + "    mapping:\n      record_id: {const: x}\n" },
			[]string{"10:26: sources[0].mapping.record_id.const: not allowed here (a constant record id would make every row the same record)"}},
		{"attribute field and const", func(*testing.T) string {
			return base + "    mapping:\n      attributes:\n        plan: {field: Plan, const: gold}\n"
		}, []string{"11:15: sources[0].mapping.attributes.plan: has both field and const; expected exactly one"}},
		{"attribute empty", func(*testing.T) string {
			return base + "    mapping:\n      attributes:\n        plan:\n        \"first name\": {}\n"
		}, []string{
			"11:9: sources[0].mapping.attributes.plan: missing field or const",
			`12:23: sources[0].mapping.attributes["first name"]: missing field or const`,
		}},
		{"attribute type and transforms", func(*testing.T) string {
			return base + "    mapping:\n      attributes:\n        dob:\n          field: DOB\n          type: datetime\n          transforms: [trim, lowercase]\n          formats: [\"\"]\n"
		}, []string{
			`13:17: sources[0].mapping.attributes.dob.type: "datetime" is not one of string, name, email, phone, date, timestamp, country, bool, number, integer`,
			`14:30: sources[0].mapping.attributes.dob.transforms[1]: "lowercase" is not one of trim, lower, upper, collapse_spaces, digits, strip_leading_zeros, null_if_empty`,
			"15:21: sources[0].mapping.attributes.dob.formats[0]: empty; expected a date layout",
		}},
		{"attributes_from on csv", func(*testing.T) string { return base + "    mapping:\n      attributes_from: traits\n" },
			[]string{"10:24: sources[0].mapping.attributes_from: needs JSON input"}},
		{"attributes_from on jsonl", func(t *testing.T) string {
			return replace(t, "format: csv", "format: jsonl") + "    mapping:\n      attributes_from: traits\n"
		}, nil},
		{"event", func(*testing.T) string {
			return base + `    mapping:
      event:
        name: {type: string}
        id: {const: "1"}
        properties:
          total: {field: Total, type: money}
`
		}, []string{
			"11:15: sources[0].mapping.event.name: missing field or const",
			"12:21: sources[0].mapping.event.id.const: not allowed here (a constant event id would make every row the same event)",
			`14:39: sources[0].mapping.event.properties.total.type: "money" is not one of string`,
		}},
		{"event name from a field", func(*testing.T) string {
			return base + "    mapping:\n      event:\n        name: Event Type\n"
		}, nil},

		// identity rules
		{"match rules", func(*testing.T) string {
			return base + `identity:
  rules:
    - name: by-email
      kind: exact
      identifiers: [email]
    - name: by-email
      kind: fuzzy
      identifiers: [phone]
    - kind: exact
    - name: both
      kind: exact
      identifiers: [email]
      attributes: [last_name_key]
      threshold: 3
`
		}, []string{
			"14:7: identity.rules[1].blocking: missing; fuzzy rules need at least one blocking key",
			"14:7: identity.rules[1].compare: missing; fuzzy rules need at least one comparison",
			`14:13: identity.rules[1].name: duplicate match rule "by-email"; first declared at line 11`,
			`16:20: identity.rules[1].identifiers: applies only to exact rules`,
			`16:21: identity.rules[1].identifiers[0]: "phone" is not a declared identifier type; declared: email`,
			"17:7: identity.rules[2].identifiers: missing; exact rules need identifiers (email) or attributes",
			"17:7: identity.rules[2].name: missing",
			"21:19: identity.rules[3].attributes: not allowed with identifiers",
			"22:18: identity.rules[3].threshold: applies only to fuzzy and weighted rules",
		}},
		{"fuzzy and weighted rules", func(*testing.T) string {
			return base + `identity:
  rules:
    - name: fuzzy
      kind: fuzzy
      blocking: [[soundex(last_name_key), "prefix(postcode, 3)"], [nope(x)], []]
      min_agree: 3
      compare:
        - {attribute: first_name_key, method: name, threshold: 0.9}
        - {attribute: birth_date, method: dates, threshold: 1.5}
    - name: weighted
      kind: weighted
      blocking: [[birth_date]]
      compare:
        - attribute: first_name_key
          method: jaro_winkler
          threshold: 0.5
          levels:
            - {min: 0.9, m: 0.7, u: 0.01}
            - {min: 0.95, m: 0.5, u: 1}
        - {attribute: age, method: number, tolerance: 2}
`
		}, []string{
			`13:68: identity.rules[0].blocking[1][0]: "nope(x)": unknown function "nope"`,
			"13:78: identity.rules[0].blocking[2]: empty",
			"14:18: identity.rules[0].min_agree: 3 is out of range; expected 1 to 2",
			`17:43: identity.rules[0].compare[1].method: "dates" is not one of exact, jaro_winkler`,
			"17:61: identity.rules[0].compare[1].threshold: 1.5 is out of range",
			"18:7: identity.rules[1].threshold: missing; weighted rules need a positive match weight threshold",
			"24:22: identity.rules[1].compare[0].threshold: applies only to fuzzy rules",
			"26:13: identity.rules[1].compare[0].levels: m sum to 1.2 and u to 1.01",
			"27:21: identity.rules[1].compare[0].levels[1].min: 0.95 is not below the previous level's 0.9",
			"27:38: identity.rules[1].compare[0].levels[1].u: 1 is out of range",
			"28:11: identity.rules[1].compare[1].levels: missing; weighted comparisons need at least one level",
		}},
		{"placeholders and on_conflict", func(t *testing.T) string {
			return replace(t, "normalizer: email\n", "normalizer: email\n    on_conflict: merge\n") + `identity:
  placeholders: {attributes: [], max_distinct: -1}
`
		}, []string{
			`5:18: identifiers[0].on_conflict: "merge" is not one of refuse, keep_priority`,
			"11:30: identity.placeholders.attributes: missing",
			"11:48: identity.placeholders.max_distinct: -1 is negative",
		}},
		{"golden record", func(*testing.T) string {
			return base + `golden:
  survivorship:
    default: newest
    types: {name: source_priority, colour: max}
    attributes: {tags: union, city: loudest}
  aggregates:
    - {name: orders_count, event: Order Completed, function: count}
    - {name: orders_count, function: sum}
    - {name: last_at, function: last, property: total}
    - {name: Bad Name, function: median}
`
		}, []string{
			`11:14: golden.survivorship.default: "newest" is not one of most_recent`,
			`12:44: golden.survivorship.types.colour: "colour" is not a field type`,
			`13:37: golden.survivorship.attributes.city: "loudest" is not one of most_recent`,
			"16:7: golden.aggregates[1].property: missing; sum needs the numeric event property",
			`16:14: golden.aggregates[1].name: duplicate aggregate "orders_count"`,
			"17:49: golden.aggregates[2].property: not allowed with last",
			`18:14: golden.aggregates[3].name: "Bad Name" must match`,
			`18:34: golden.aggregates[3].function: "median" is not one of count, sum`,
		}},
		{"valid identity and golden", func(*testing.T) string {
			return base + `identity:
  placeholders: {attributes: [first_name_key, last_name_key]}
  rules:
    - {name: email, kind: exact, identifiers: [email]}
    - {name: key, kind: exact, attributes: [last_name_key, birth_date, postcode]}
    - name: fuzzy
      kind: fuzzy
      blocking: [[soundex(last_name_key), year(birth_date)]]
      compare:
        - {attribute: first_name_key, method: name, threshold: 0.9, optional: true}
    - name: weighted
      kind: weighted
      threshold: 10
      max_block_size: 500
      blocking: [["prefix(postcode, 3)"]]
      compare:
        - attribute: last_name_key
          method: jaro_winkler
          levels: [{min: 1, m: 0.8, u: 0.01}, {min: 0.9, m: 0.1, u: 0.05}]
golden:
  survivorship: {default: most_recent, types: {name: source_priority}, attributes: {tags: union}}
  aggregates:
    - {name: revenue_total, event: Order Completed, function: sum, property: total}
`
		}, nil},

		// segments and triggers
		{"segments", func(*testing.T) string {
			return base + `segments:
  - id: vip
    expr: profile.attributes.vip
  - id: vip
    expr: " "
  - name: nameless
    expr: "true"
`
		}, []string{
			`12:9: segments[1].id: duplicate segment id "vip"; first declared at line 10`,
			"13:11: segments[1].expr: missing; expected a CEL expression",
			"14:5: segments[2].id: missing",
		}},
		{"triggers", func(*testing.T) string {
			tr := "    when: {attribute_changed: email}\n    actions: [{event: {}}]\n"
			return base + "triggers:\n  - id: welcome\n" + tr + "  - id: welcome\n" + tr + "  - description: no id\n" + tr
		}, []string{
			`13:9: triggers[1].id: duplicate trigger id "welcome"; first declared at line 10`,
			"16:5: triggers[2].id: missing",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkProblems(t, tt.in(t), tt.want)
		})
	}
}

// TestMultipleErrors checks that every semantic problem of a file is
// reported at once, in file order.
func TestMultipleErrors(t *testing.T) {
	_, err := Load("testdata/invalid.yaml")
	var errs Errors
	if !errors.As(err, &errs) {
		t.Fatalf("Load(testdata/invalid.yaml) error = %v; want Errors", err)
	}
	want := []string{
		"testdata/invalid.yaml:2:10: version: 3 is not supported; expected 1",
		`testdata/invalid.yaml:5:17: identifiers[0].normalizer: "mail" is not one of email, phone, id, lower, digits`,
		`testdata/invalid.yaml:9:11: sources[0].name: "CRM export" must match ^[a-z][a-z0-9_-]*$ (a lower-case letter, then lower-case letters, digits, _ or -)`,
		`testdata/invalid.yaml:10:11: sources[0].kind: "fil" is not one of file, api, webhook, bus, pull`,
		`testdata/invalid.yaml:14:17: sources[0].mapping.identifiers[0].type: "phone" is not a declared identifier type; declared: email`,
		"testdata/invalid.yaml:16:5: sources[1].write_keys: missing; api sources need at least one write key",
		`testdata/invalid.yaml:22:28: identity.rules[0].identifiers[1]: "customer_id" is not a declared identifier type; declared: email`,
		"testdata/invalid.yaml:25:5: segments[0].expr: missing; expected a CEL expression over the profile",
	}
	if len(errs) != len(want) {
		t.Errorf("Load(testdata/invalid.yaml) returned %d errors; want %d:\n%v", len(errs), len(want), err)
	}
	for i := range min(len(errs), len(want)) {
		if got := errs[i].Error(); got != want[i] {
			t.Errorf("error %d = %q; want %q", i, got, want[i])
		}
	}
}

// TestValidateGo checks Validate on configurations built in Go: it finds
// the same problems, without positions.
func TestValidateGo(t *testing.T) {
	good := &Config{
		Version:     1,
		Identifiers: []IdentifierType{{Name: "email", Normalizer: NormalizerEmail}},
		Sources: []Source{{
			Name: "crm", Kind: KindFile, Format: FormatCSV,
			Mapping: Mapping{Identifiers: []IdentifierField{{Type: "email", Field: Field{Field: "Email"}}}},
		}},
	}
	if err := good.Validate(); err != nil {
		t.Errorf("Validate(good) = %v; want nil", err)
	}

	bad := *good
	bad.Sources = []Source{{Name: "crm", Kind: "fil"}, {Name: "crm", Kind: KindAPI}}
	err := bad.Validate()
	var errs Errors
	if !errors.As(err, &errs) {
		t.Fatalf("Validate(bad) = %v; want Errors", err)
	}
	want := []string{
		`sources[0].kind: "fil" is not one of file, api, webhook, bus, pull`,
		"sources[1].name: duplicate source name \"crm\"; first declared at sources[0].name",
		"sources[1].write_keys: missing; api sources need at least one write key",
	}
	if len(errs) != len(want) {
		t.Fatalf("Validate(bad) = %v; want %d errors", err, len(want))
	}
	for i, e := range errs {
		if e.Line != 0 || e.Column != 0 {
			t.Errorf("error %d at %d:%d; want no position", i, e.Line, e.Column)
		}
		if got := e.Error(); got != want[i] {
			t.Errorf("error %d = %q; want %q", i, got, want[i])
		}
	}
}

// TestValidFileIsValid keeps testdata/valid.yaml honest: it must pass Parse
// and Validate.
func TestValidFileIsValid(t *testing.T) {
	data, err := os.ReadFile("testdata/valid.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := Parse("valid.yaml", data)
	if err != nil {
		t.Fatalf("Parse(valid.yaml) error: %v", err)
	}
	if err := cfg.Validate(); err != nil {
		t.Errorf("Validate(valid.yaml) = %v; want nil", err)
	}
}

// TestDocsExample parses the complete example of docs/config.md, so the
// reference cannot drift from the loader.
func TestDocsExample(t *testing.T) {
	doc, err := os.ReadFile("../../docs/config.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "## A complete example")
	if !ok {
		t.Fatal(`docs/config.md has no "## A complete example" section`)
	}
	_, rest, ok = strings.Cut(rest, "```yaml\n")
	example, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("docs/config.md: no yaml block in the complete example")
	}
	cfg, err := Parse("docs/config.md", []byte(example))
	if err != nil {
		t.Fatalf("Parse(docs example) error: %v", err)
	}
	if got := len(cfg.Sources); got != 3 {
		t.Errorf("docs example has %d sources; want 3", got)
	}
}
