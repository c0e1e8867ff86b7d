// Package config defines aurum.yaml: the one file that declares identifier
// types, sources and their mappings, identity rules, segments and triggers.
// Every Aurum process (each Lambda function, local mode, the CDK app) reads
// the same file.
//
// Load parses strictly: unknown keys are errors, and every error names
// file:line:column and what was expected. Schema returns a JSON Schema
// generated from these types for editors.
package config

// Config is the whole of aurum.yaml.
type Config struct {
	// Version of the configuration format. Must be 1.
	Version int `yaml:"version" json:"version" jsonschema:"enum=1"`
	// Identifiers declares identifier types in priority order (first is
	// highest priority).
	Identifiers []IdentifierType `yaml:"identifiers" json:"identifiers" jsonschema:"minItems=1"`
	// Sources declares where customer data comes from and how it maps.
	Sources []Source `yaml:"sources" json:"sources" jsonschema:"minItems=1"`
	// Identity holds the match rules and merge protection.
	Identity Identity `yaml:"identity,omitempty" json:"identity,omitempty"`
	// Segments are CEL expressions over the golden record.
	Segments []Segment `yaml:"segments,omitempty" json:"segments,omitempty"`
	// Triggers react to segment transitions, events and attribute changes.
	Triggers []Trigger `yaml:"triggers,omitempty" json:"triggers,omitempty"`

	// File is the path the configuration was loaded from.
	File string `yaml:"-" json:"-"`
}

// IdentifierType declares one kind of identifier.
type IdentifierType struct {
	// Name of the type, e.g. email, phone, customer_id.
	Name string `yaml:"name" json:"name" jsonschema:"pattern=^[a-z][a-z0-9_]*$"`
	// Normalizer applied to every value of this type: email, phone, id,
	// lower, digits.
	Normalizer string `yaml:"normalizer" json:"normalizer" jsonschema:"enum=email,enum=phone,enum=id,enum=lower,enum=digits"`
	// GmailDots removes dots and +tags from gmail.com/googlemail.com local
	// parts (email normalizer only).
	GmailDots bool `yaml:"gmail_dots,omitempty" json:"gmail_dots,omitempty"`
	// MaxPerProfile caps how many identifiers of this type one profile may
	// hold (0: no cap). A merge that would exceed it is refused.
	MaxPerProfile int `yaml:"max_per_profile,omitempty" json:"max_per_profile,omitempty" jsonschema:"minimum=0"`
	// Blocked values never identify anyone (placeholders such as
	// test@test.com). Exact normalized values, or regular expressions
	// written /like this/.
	Blocked []string `yaml:"blocked,omitempty" json:"blocked,omitempty"`
}

// Source kinds.
const (
	KindFile    = "file"
	KindAPI     = "api"
	KindWebhook = "webhook"
	KindBus     = "bus"
)

// File formats.
const (
	FormatCSV   = "csv"
	FormatJSONL = "jsonl"
)

// Normalizers of identifier types.
const (
	NormalizerEmail  = "email"
	NormalizerPhone  = "phone"
	NormalizerID     = "id"
	NormalizerLower  = "lower"
	NormalizerDigits = "digits"
)

// Field types (attribute normalizers).
const (
	TypeString    = "string"
	TypeName      = "name"
	TypeEmail     = "email"
	TypePhone     = "phone"
	TypeDate      = "date"
	TypeTimestamp = "timestamp"
	TypeCountry   = "country"
	TypeBool      = "bool"
	TypeNumber    = "number"
	TypeInteger   = "integer"
)

// Transforms, applied before the normalizer.
const (
	TransformTrim              = "trim"
	TransformLower             = "lower"
	TransformUpper             = "upper"
	TransformCollapseSpaces    = "collapse_spaces"
	TransformDigits            = "digits"
	TransformStripLeadingZeros = "strip_leading_zeros"
	TransformNullIfEmpty       = "null_if_empty"
)

// Match rule kinds.
const (
	RuleExact = "exact"
)

// The accepted values of the enumerated keys, in documentation order.
var (
	kinds       = []string{KindFile, KindAPI, KindWebhook, KindBus}
	formats     = []string{FormatCSV, FormatJSONL}
	normalizers = []string{NormalizerEmail, NormalizerPhone, NormalizerID, NormalizerLower, NormalizerDigits}
	fieldTypes  = []string{TypeString, TypeName, TypeEmail, TypePhone, TypeDate, TypeTimestamp, TypeCountry, TypeBool, TypeNumber, TypeInteger}
	transforms  = []string{TransformTrim, TransformLower, TransformUpper, TransformCollapseSpaces, TransformDigits, TransformStripLeadingZeros, TransformNullIfEmpty}
	ruleKinds   = []string{RuleExact}
)

// Source declares one source of customer data.
type Source struct {
	// Name is unique; file drops land under sources/<name>/.
	Name string `yaml:"name" json:"name" jsonschema:"pattern=^[a-z][a-z0-9_-]*$"`
	// Kind is file (S3 drops), api (Segment tracking API), webhook or bus.
	Kind string `yaml:"kind" json:"kind" jsonschema:"enum=file,enum=api,enum=webhook,enum=bus"`
	// Format of file sources: csv or jsonl (gzip is detected).
	Format string `yaml:"format,omitempty" json:"format,omitempty" jsonschema:"enum=csv,enum=jsonl"`
	// CSV options for format csv.
	CSV *CSVOptions `yaml:"csv,omitempty" json:"csv,omitempty"`
	// Region is the default phone region (ISO 3166-1 alpha-2, e.g. GB) for
	// numbers written without a country code.
	Region string `yaml:"region,omitempty" json:"region,omitempty" jsonschema:"pattern=^[A-Z]{2}$"`
	// DateFormats are the layouts tried for date and timestamp fields, in
	// order, in Go layout or strftime-like names (iso, dmy, mdy, ymd, unix).
	DateFormats []string `yaml:"date_formats,omitempty" json:"date_formats,omitempty"`
	// Priority ranks sources for survivorship (higher wins).
	Priority int `yaml:"priority,omitempty" json:"priority,omitempty"`
	// WriteKeys authenticate api sources (HTTP Basic username). Only
	// references to secrets or their SHA-256 hashes appear here.
	WriteKeys []SecretRef `yaml:"write_keys,omitempty" json:"write_keys,omitempty"`
	// Mapping maps input fields to the record.
	Mapping Mapping `yaml:"mapping,omitempty" json:"mapping,omitempty"`
}

// CSVOptions tunes the CSV reader.
type CSVOptions struct {
	// Delimiter is a single character; default ",".
	Delimiter string `yaml:"delimiter,omitempty" json:"delimiter,omitempty" jsonschema:"maxLength=1"`
	// Comment lines start with this character; default none.
	Comment string `yaml:"comment,omitempty" json:"comment,omitempty" jsonschema:"maxLength=1"`
}

// SecretRef names a secret without holding it.
type SecretRef struct {
	// Env names an environment variable holding the secret (local mode).
	Env string `yaml:"env,omitempty" json:"env,omitempty"`
	// SSM names an SSM SecureString parameter.
	SSM string `yaml:"ssm,omitempty" json:"ssm,omitempty"`
	// SecretsManager names a Secrets Manager secret (name or ARN).
	SecretsManager string `yaml:"secrets_manager,omitempty" json:"secrets_manager,omitempty"`
	// SHA256 is the hex SHA-256 of the secret: verifiable, never reversible.
	SHA256 string `yaml:"sha256,omitempty" json:"sha256,omitempty" jsonschema:"pattern=^[0-9a-f]{64}$"`
}

// Mapping maps the fields of one input row (CSV columns, or JSON paths
// written with dots: traits.email, context.traits.phone) to a record.
type Mapping struct {
	// RecordID is the record's id within the source. Without it, file rows
	// get "<object key>#<line>" and API messages their messageId.
	RecordID *Field `yaml:"record_id,omitempty" json:"record_id,omitempty"`
	// ObservedAt is when the source observed the facts; survivorship
	// compares it. Without it, the event timestamp or arrival time is used.
	ObservedAt *Field `yaml:"observed_at,omitempty" json:"observed_at,omitempty"`
	// Identifiers map fields to identifier types.
	Identifiers []IdentifierField `yaml:"identifiers,omitempty" json:"identifiers,omitempty"`
	// Attributes map attribute names to fields.
	Attributes map[string]Field `yaml:"attributes,omitempty" json:"attributes,omitempty"`
	// AttributesFrom copies every key of this JSON object (e.g. traits) as
	// an attribute, unless mapped explicitly.
	AttributesFrom string `yaml:"attributes_from,omitempty" json:"attributes_from,omitempty"`
	// Event makes every row also an event (orders, visits).
	Event *EventMapping `yaml:"event,omitempty" json:"event,omitempty"`
}

// IdentifierField maps one field to an identifier type. It is written as
// a mapping: {type: email, field: "E-mail"}. The key type names the
// identifier type, so the embedded Field.Type stays empty: the identifier
// type's normalizer applies.
type IdentifierField struct {
	// Type is an identifier type declared under identifiers.
	Type  string `yaml:"type" json:"type"`
	Field `yaml:",inline" json:",inline"`
}

// Field says where a value comes from and how it is cleaned. A plain
// string is shorthand for {field: <that string>}.
type Field struct {
	// Field is a CSV column name or a dotted JSON path.
	Field string `yaml:"field,omitempty" json:"field,omitempty"`
	// Fallback lists other fields tried in order when Field is absent,
	// null or empty (e.g. a Segment message's event name: event, then
	// name, then type).
	Fallback []string `yaml:"fallback,omitempty" json:"fallback,omitempty"`
	// Const is a constant value used instead of a field.
	Const string `yaml:"const,omitempty" json:"const,omitempty"`
	// Type is the normalizer for attributes: string (default), name, email,
	// phone, date, timestamp, country, bool, number, integer.
	Type string `yaml:"type,omitempty" json:"type,omitempty" jsonschema:"enum=string,enum=name,enum=email,enum=phone,enum=date,enum=timestamp,enum=country,enum=bool,enum=number,enum=integer"`
	// Transforms run before the normalizer, in order: trim, lower, upper,
	// collapse_spaces, digits, strip_leading_zeros, null_if_empty.
	Transforms []string `yaml:"transforms,omitempty" json:"transforms,omitempty" jsonschema:"enum=trim,enum=lower,enum=upper,enum=collapse_spaces,enum=digits,enum=strip_leading_zeros,enum=null_if_empty"`
	// Formats override the source's date_formats for this field.
	Formats []string `yaml:"formats,omitempty" json:"formats,omitempty"`
	// Required rejects the row when the value is missing.
	Required bool `yaml:"required,omitempty" json:"required,omitempty"`
}

// EventMapping maps a row to an event.
type EventMapping struct {
	// Name of the event ("Order Completed"), usually a Const.
	Name Field `yaml:"name" json:"name"`
	// ID is the event's stable id (order id); default: the record id.
	ID *Field `yaml:"id,omitempty" json:"id,omitempty"`
	// Timestamp of the event; default: observed_at.
	Timestamp *Field `yaml:"timestamp,omitempty" json:"timestamp,omitempty"`
	// Properties map property names to fields.
	Properties map[string]Field `yaml:"properties,omitempty" json:"properties,omitempty"`
}

// Identity holds identity-resolution settings.
type Identity struct {
	// Rules are ordered, named match rules.
	Rules []MatchRule `yaml:"rules,omitempty" json:"rules,omitempty"`
}

// MatchRule is one named match rule.
type MatchRule struct {
	// Name identifies the rule in match statistics and merge history.
	Name string `yaml:"name" json:"name" jsonschema:"minLength=1"`
	// Kind is exact (identifiers or a composite key of attributes).
	Kind string `yaml:"kind" json:"kind" jsonschema:"enum=exact"`
	// Identifiers: records sharing a value of any of these types match.
	Identifiers []string `yaml:"identifiers,omitempty" json:"identifiers,omitempty" jsonschema:"minItems=1,pattern=^[a-z][a-z0-9_]*$"`
}

// Segment is a dynamic segment.
type Segment struct {
	// ID is unique and stable; membership events carry it.
	ID string `yaml:"id" json:"id" jsonschema:"minLength=1"`
	// Name is a human-readable title.
	Name string `yaml:"name,omitempty" json:"name,omitempty"`
	// Description says who is in the segment and why it exists.
	Description string `yaml:"description,omitempty" json:"description,omitempty"`
	// Expr is a CEL expression over the profile.
	Expr string `yaml:"expr" json:"expr" jsonschema:"minLength=1"`
	// Tags group segments in listings.
	Tags []string `yaml:"tags,omitempty" json:"tags,omitempty"`
}

// Trigger reacts to a profile's change.
type Trigger struct {
	// ID is unique and stable; TriggerFired events carry it.
	ID string `yaml:"id" json:"id" jsonschema:"minLength=1"`
	// Description says what the trigger is for.
	Description string `yaml:"description,omitempty" json:"description,omitempty"`
}
