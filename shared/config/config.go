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
	// Golden configures the golden record: survivorship and aggregates.
	Golden Golden `yaml:"golden,omitempty" json:"golden,omitempty"`
	// Segments are CEL expressions over the golden record.
	Segments []Segment `yaml:"segments,omitempty" json:"segments,omitempty"`
	// RFM configures the built-in recency/frequency/monetary model that
	// segment expressions read as profile.rfm.
	RFM *RFM `yaml:"rfm,omitempty" json:"rfm,omitempty"`
	// Triggers react to segment transitions, events and attribute changes.
	Triggers []Trigger `yaml:"triggers,omitempty" json:"triggers,omitempty"`
	// Destinations are the tools Aurum sends events, profiles and
	// audiences to (docs/destinations.md).
	Destinations []Destination `yaml:"destinations,omitempty" json:"destinations,omitempty"`
	// Subscribers are local mode's subscribers of the in-process bus.
	Subscribers []Subscriber `yaml:"subscribers,omitempty" json:"subscribers,omitempty"`
	// Privacy configures erasure (GDPR) behaviour.
	Privacy *Privacy `yaml:"privacy,omitempty" json:"privacy,omitempty"`

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
	// OnConflict says what happens when a merge would exceed
	// max_per_profile: refuse (default: the profiles stay apart and the
	// record joins the profile of its highest-priority link) or
	// keep_priority (the merge goes ahead; the profile keeps the
	// identifiers of this type reached through the highest-priority links,
	// the others stay on their records and stop linking).
	OnConflict string `yaml:"on_conflict,omitempty" json:"on_conflict,omitempty" jsonschema:"enum=refuse,enum=keep_priority"`
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
	KindPull    = "pull"
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
	RuleExact    = "exact"
	RuleFuzzy    = "fuzzy"
	RuleWeighted = "weighted"
)

// Comparison methods of fuzzy and weighted rules.
const (
	CompareExact       = "exact"
	CompareJaroWinkler = "jaro_winkler"
	CompareLevenshtein = "levenshtein"
	CompareDamerau     = "damerau"
	CompareName        = "name"
	CompareToken       = "token"
	CompareDate        = "date"
	CompareNumber      = "number"
)

// Conflict policies of identifier types (on_conflict).
const (
	ConflictRefuse       = "refuse"
	ConflictKeepPriority = "keep_priority"
)

// Survivorship strategies.
const (
	SurviveMostRecent     = "most_recent"
	SurviveSourcePriority = "source_priority"
	SurviveMostFrequent   = "most_frequent"
	SurviveFirstSeen      = "first_seen"
	SurviveLongest        = "longest"
	SurviveMax            = "max"
	SurviveMin            = "min"
	SurviveUnion          = "union"
)

// Aggregate functions.
const (
	AggCount = "count"
	AggSum   = "sum"
	AggMin   = "min"
	AggMax   = "max"
	AggFirst = "first"
	AggLast  = "last"
)

// The accepted values of the enumerated keys, in documentation order.
var (
	kinds       = []string{KindFile, KindAPI, KindWebhook, KindBus, KindPull}
	formats     = []string{FormatCSV, FormatJSONL}
	normalizers = []string{NormalizerEmail, NormalizerPhone, NormalizerID, NormalizerLower, NormalizerDigits}
	fieldTypes  = []string{TypeString, TypeName, TypeEmail, TypePhone, TypeDate, TypeTimestamp, TypeCountry, TypeBool, TypeNumber, TypeInteger}
	transforms  = []string{TransformTrim, TransformLower, TransformUpper, TransformCollapseSpaces, TransformDigits, TransformStripLeadingZeros, TransformNullIfEmpty}
	ruleKinds   = []string{RuleExact, RuleFuzzy, RuleWeighted}
	methods     = []string{CompareExact, CompareJaroWinkler, CompareLevenshtein, CompareDamerau, CompareName, CompareToken, CompareDate, CompareNumber}
	conflicts   = []string{ConflictRefuse, ConflictKeepPriority}
	strategies  = []string{SurviveMostRecent, SurviveSourcePriority, SurviveMostFrequent, SurviveFirstSeen, SurviveLongest, SurviveMax, SurviveMin, SurviveUnion}
	aggregates  = []string{AggCount, AggSum, AggMin, AggMax, AggFirst, AggLast}
)

// Source declares one source of customer data.
type Source struct {
	// Name is unique; file drops land under sources/<name>/.
	Name string `yaml:"name" json:"name" jsonschema:"pattern=^[a-z][a-z0-9_-]*$"`
	// Kind is file (S3 drops), api (Segment tracking API), webhook, bus or
	// pull (a connector read on a schedule).
	Kind string `yaml:"kind" json:"kind" jsonschema:"enum=file,enum=api,enum=webhook,enum=bus,enum=pull"`
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
	// AllowedTraits, for api sources, lists the trait names (keys of
	// traits and context.traits) a message may set; other traits are
	// dropped before mapping, with a warning. Write keys ship in web pages,
	// so anyone can send any trait with them: list the traits the site
	// really sets. Empty: every trait is mapped.
	AllowedTraits []string `yaml:"allowed_traits,omitempty" json:"allowed_traits,omitempty"`
	// Bus selects, for bus sources, the EventBridge events ingested
	// (by source and detail-type). Default: events whose source is this
	// source's name.
	Bus *BusMatch `yaml:"bus,omitempty" json:"bus,omitempty"`
	// Webhook configures a webhook source: how requests are verified and
	// where the event id and the items are.
	Webhook *WebhookSource `yaml:"webhook,omitempty" json:"webhook,omitempty"`
	// Pull configures a pull source: its connector, schedule, batch size
	// and the connector's options.
	Pull *Pull `yaml:"pull,omitempty" json:"pull,omitempty"`
	// Mapping maps input fields to the record.
	Mapping Mapping `yaml:"mapping,omitempty" json:"mapping,omitempty"`
}

// Webhook presets: signature scheme and mapping of widely used SaaS
// payloads.
const (
	PresetShopifyCustomers = "shopify_customers"
	PresetShopifyOrders    = "shopify_orders"
	PresetStripeCustomers  = "stripe_customers"
	PresetStripeCharges    = "stripe_charges"
)

// Signature encodings and formats of webhook sources.
const (
	EncodingHex           = "hex"
	EncodingBase64        = "base64"
	SignatureFormatStripe = "stripe"
)

// WebhookSource configures POST /v1/webhooks/<source>. Requests are
// verified (HMAC-SHA256 over the raw body, before the body is parsed),
// then each payload (or each element of items) is mapped to a record
// whose id derives from the event id.
type WebhookSource struct {
	// Preset fills the signature scheme, event id, items and mapping of a
	// known payload: shopify_customers, shopify_orders, stripe_customers,
	// stripe_charges. Keys set here and a non-empty mapping override it.
	Preset string `yaml:"preset,omitempty" json:"preset,omitempty" jsonschema:"enum=shopify_customers,enum=shopify_orders,enum=stripe_customers,enum=stripe_charges"`
	// Secret is the signing secret: an env, ssm or secrets_manager
	// reference, never the secret itself (HMAC needs the secret, so sha256
	// is not accepted).
	Secret *SecretRef `yaml:"secret,omitempty" json:"secret,omitempty"`
	// Signature says how requests are signed.
	Signature *WebhookSignature `yaml:"signature,omitempty" json:"signature,omitempty"`
	// EventIDHeader names the header holding the sender's event (or
	// delivery) id, e.g. X-Shopify-Webhook-Id.
	EventIDHeader string `yaml:"event_id_header,omitempty" json:"event_id_header,omitempty"`
	// EventIDField is a dotted JSON path to the event id in the body, e.g.
	// id for Stripe events. Without an event id header or field, the id is
	// a hash of the body.
	EventIDField string `yaml:"event_id_field,omitempty" json:"event_id_field,omitempty"`
	// Items is a dotted JSON path to an array: each element becomes one
	// record (id: event id + "#" + index). The mapping then reads the
	// payload with the element under the key item (item.email, ...).
	Items string `yaml:"items,omitempty" json:"items,omitempty"`
}

// WebhookSignature is the signature scheme of a webhook source: an
// HMAC-SHA256 over the raw body, or over timestamp + "." + body when
// the request carries a timestamp.
type WebhookSignature struct {
	// Header names the signature header, e.g. X-Shopify-Hmac-Sha256.
	Header string `yaml:"header,omitempty" json:"header,omitempty"`
	// Encoding of the signature: hex (default) or base64.
	Encoding string `yaml:"encoding,omitempty" json:"encoding,omitempty" jsonschema:"enum=hex,enum=base64"`
	// Prefix is stripped from the header value before decoding, e.g.
	// sha256=.
	Prefix string `yaml:"prefix,omitempty" json:"prefix,omitempty"`
	// Format stripe reads the header as t=<unix seconds>,v1=<hex
	// signature>[,v1=...] and signs t + "." + body (Stripe-Signature).
	Format string `yaml:"format,omitempty" json:"format,omitempty" jsonschema:"enum=stripe"`
	// TimestampHeader names a header holding the send time in Unix
	// seconds; the signature then covers timestamp + "." + body and old
	// requests are refused (replays).
	TimestampHeader string `yaml:"timestamp_header,omitempty" json:"timestamp_header,omitempty"`
	// Tolerance is how far the timestamp may be from the receiver's clock
	// (Go duration); default 5m.
	Tolerance string `yaml:"tolerance,omitempty" json:"tolerance,omitempty"`
}

// Privacy configures erasure.
type Privacy struct {
	// SuppressErased keeps the (hashed) identifiers of erased profiles on
	// a suppression list: records carrying them are dropped at ingestion,
	// so replayed old data cannot re-create the person.
	SuppressErased bool `yaml:"suppress_erased,omitempty" json:"suppress_erased,omitempty"`
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
	// Rules are ordered, named match rules. Two records are together when
	// any rule matches them; the first rule that matches names the link.
	Rules []MatchRule `yaml:"rules,omitempty" json:"rules,omitempty"`
	// Placeholders turns on the automatic detection of placeholder
	// identifier values (0000000000, test@test.com): a value shared by
	// records whose attributes disagree is quarantined and stops linking.
	Placeholders *Placeholders `yaml:"placeholders,omitempty" json:"placeholders,omitempty"`
}

// Placeholders configures the detection of placeholder identifier values.
type Placeholders struct {
	// Attributes should agree among the records of one person (for
	// example first_name_key and last_name_key). Records without any of
	// them are not counted.
	Attributes []string `yaml:"attributes" json:"attributes" jsonschema:"minItems=1"`
	// MaxDistinct is how many distinct combinations of the attributes one
	// identifier value may be seen with; one more quarantines it. Default 3.
	MaxDistinct int `yaml:"max_distinct,omitempty" json:"max_distinct,omitempty" jsonschema:"minimum=0"`
}

// MatchRule is one named match rule.
type MatchRule struct {
	// Name identifies the rule in match statistics and merge history.
	Name string `yaml:"name" json:"name" jsonschema:"minLength=1"`
	// Kind is exact (shared identifiers, or equal values of a composite
	// key of attributes), fuzzy (blocking plus comparisons that must each
	// reach their threshold) or weighted (blocking plus Fellegi-Sunter
	// match weights summed and compared with threshold).
	Kind string `yaml:"kind" json:"kind" jsonschema:"enum=exact,enum=fuzzy,enum=weighted"`
	// Identifiers (exact): records sharing a value of any of these types
	// match.
	Identifiers []string `yaml:"identifiers,omitempty" json:"identifiers,omitempty" jsonschema:"pattern=^[a-z][a-z0-9_]*$"`
	// Attributes (exact): records whose values of all these attributes
	// are present and equal match (a composite key such as last_name_key,
	// birth_date, postcode).
	Attributes []string `yaml:"attributes,omitempty" json:"attributes,omitempty"`
	// Blocking (fuzzy, weighted) lists blocking keys; only records that
	// share at least one are compared. A key is a list of parts, each an
	// attribute or a function of one: soundex(a), prefix(a, n),
	// suffix(a, n), year(a), digits(a), first_token(a), last_token(a),
	// sorted_tokens(a).
	Blocking [][]string `yaml:"blocking,omitempty" json:"blocking,omitempty"`
	// Compare lists the field comparisons (fuzzy, weighted).
	Compare []Comparison `yaml:"compare,omitempty" json:"compare,omitempty"`
	// MinAgree (fuzzy) is how many comparisons must reach their threshold;
	// default all of them.
	MinAgree int `yaml:"min_agree,omitempty" json:"min_agree,omitempty" jsonschema:"minimum=0"`
	// Threshold (weighted) is the match weight (sum of the log2 Bayes
	// factors of the comparisons) at or above which records match.
	Threshold float64 `yaml:"threshold,omitempty" json:"threshold,omitempty"`
	// MaxBlockSize bounds a block (records sharing one blocking key); a
	// larger block does not discriminate and is skipped. Default 200.
	MaxBlockSize int `yaml:"max_block_size,omitempty" json:"max_block_size,omitempty" jsonschema:"minimum=0"`
}

// Comparison compares one attribute of two records.
type Comparison struct {
	// Attribute is the attribute compared.
	Attribute string `yaml:"attribute" json:"attribute" jsonschema:"minLength=1"`
	// Method: exact, jaro_winkler, levenshtein, damerau (optimal string
	// alignment), name (token and nickname aware), token (token set),
	// date (tolerates day/month swaps and one-digit typos), number.
	// Each gives a similarity from 0 to 1.
	Method string `yaml:"method" json:"method" jsonschema:"enum=exact,enum=jaro_winkler,enum=levenshtein,enum=damerau,enum=name,enum=token,enum=date,enum=number"`
	// Threshold (fuzzy) is the similarity the comparison must reach.
	Threshold float64 `yaml:"threshold,omitempty" json:"threshold,omitempty" jsonschema:"minimum=0,maximum=1"`
	// Optional (fuzzy): a value missing on either side counts as agreeing.
	Optional bool `yaml:"optional,omitempty" json:"optional,omitempty"`
	// Tolerance (number) is the difference at which similarity reaches 0.
	Tolerance float64 `yaml:"tolerance,omitempty" json:"tolerance,omitempty" jsonschema:"minimum=0"`
	// Levels (weighted), from the most to the least similar: the first
	// level whose min the similarity reaches gives the weight
	// log2(m/u). A similarity below every level falls in the implicit
	// last level with m = 1 - sum(m) and u = 1 - sum(u). A missing value
	// weighs 0.
	Levels []Level `yaml:"levels,omitempty" json:"levels,omitempty"`
}

// Level is one agreement level of a weighted comparison.
type Level struct {
	// Min is the lowest similarity in the level.
	Min float64 `yaml:"min" json:"min" jsonschema:"minimum=0,maximum=1"`
	// M is the probability that records of one person fall in the level.
	M float64 `yaml:"m" json:"m" jsonschema:"exclusiveMinimum=0,exclusiveMaximum=1"`
	// U is the probability that records of different people do.
	U float64 `yaml:"u" json:"u" jsonschema:"exclusiveMinimum=0,exclusiveMaximum=1"`
}

// Golden configures the golden record.
type Golden struct {
	// Survivorship says which value of an attribute survives.
	Survivorship Survivorship `yaml:"survivorship,omitempty" json:"survivorship,omitempty"`
	// Aggregates are computed from events into profile.aggregates.
	Aggregates []Aggregate `yaml:"aggregates,omitempty" json:"aggregates,omitempty"`
}

// Survivorship picks a strategy per attribute: most_recent,
// source_priority, most_frequent, first_seen, longest, max, min, union.
type Survivorship struct {
	// Default applies to attributes without a strategy; most_recent.
	Default string `yaml:"default,omitempty" json:"default,omitempty" jsonschema:"enum=most_recent,enum=source_priority,enum=most_frequent,enum=first_seen,enum=longest,enum=max,enum=min,enum=union"`
	// Types sets a strategy per field type of the mappings (string, name,
	// date, number, ...).
	Types map[string]string `yaml:"types,omitempty" json:"types,omitempty"`
	// Attributes sets a strategy per attribute name.
	Attributes map[string]string `yaml:"attributes,omitempty" json:"attributes,omitempty"`
}

// Aggregate is a value computed from a profile's events.
type Aggregate struct {
	// Name of the aggregate in profile.aggregates (orders_count).
	Name string `yaml:"name" json:"name" jsonschema:"pattern=^[a-z][a-z0-9_]*$"`
	// Event is the event name counted ("Order Completed"); empty: all.
	Event string `yaml:"event,omitempty" json:"event,omitempty"`
	// Function: count, sum, min, max (of property), first, last (the
	// first or last event timestamp).
	Function string `yaml:"function" json:"function" jsonschema:"enum=count,enum=sum,enum=min,enum=max,enum=first,enum=last"`
	// Property is the numeric event property of sum, min and max; with
	// count, only events that have it are counted.
	Property string `yaml:"property,omitempty" json:"property,omitempty"`
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

// Trigger reacts to a profile's change: when something happens to a
// profile (when), and its condition holds (if), it runs its actions,
// optionally after a delay that a later event can cancel (unless), at most
// cap.max times per cap.per for one profile.
type Trigger struct {
	// ID is unique and stable; TriggerFired events carry it.
	ID string `yaml:"id" json:"id" jsonschema:"minLength=1"`
	// Description says what the trigger is for.
	Description string `yaml:"description,omitempty" json:"description,omitempty"`
	// When says which event starts the trigger: exactly one of
	// segment_entered, segment_exited, event or attribute_changed.
	When TriggerWhen `yaml:"when" json:"when"`
	// If is a CEL condition over the profile (and the causing event),
	// evaluated when the trigger fires, after any delay.
	If string `yaml:"if,omitempty" json:"if,omitempty"`
	// Delay waits this long (Go duration such as 30m or 1h, or days such
	// as 7d) before firing.
	Delay string `yaml:"delay,omitempty" json:"delay,omitempty"`
	// Unless is an EventBridge event pattern: an event of the same profile
	// matching it during the delay cancels the firing. Needs delay.
	Unless EventPattern `yaml:"unless,omitempty" json:"unless,omitempty"`
	// Cap limits how often the trigger fires for one profile.
	Cap *FrequencyCap `yaml:"cap,omitempty" json:"cap,omitempty"`
	// Actions run in order when the trigger fires.
	Actions []TriggerAction `yaml:"actions" json:"actions" jsonschema:"minItems=1"`
}

// TriggerWhen is what starts a trigger. Exactly one key is set.
type TriggerWhen struct {
	// SegmentEntered fires when a profile enters the segment with this id.
	SegmentEntered string `yaml:"segment_entered,omitempty" json:"segment_entered,omitempty"`
	// SegmentExited fires when a profile leaves the segment with this id.
	SegmentExited string `yaml:"segment_exited,omitempty" json:"segment_exited,omitempty"`
	// Event is an EventBridge event pattern over Aurum's events (the full
	// event: source, detail-type, detail); the event's detail.profile_id
	// names the profile.
	Event EventPattern `yaml:"event,omitempty" json:"event,omitempty"`
	// AttributeChanged fires when the surviving value of this attribute
	// changes (a ProfileUpdated event lists it).
	AttributeChanged string `yaml:"attribute_changed,omitempty" json:"attribute_changed,omitempty"`
}

// EventPattern is an Amazon EventBridge event pattern written in YAML, for
// example {source: [aurum], detail-type: [ProfileUpdated]}.
type EventPattern map[string]any

// FrequencyCap limits firings per profile: at most Max in any window of
// length Per.
type FrequencyCap struct {
	// Max is the number of firings allowed per window.
	Max int `yaml:"max" json:"max" jsonschema:"minimum=1"`
	// Per is the window length (Go duration such as 24h, or days such as
	// 7d).
	Per string `yaml:"per" json:"per"`
}

// TriggerAction is one action of a trigger. Exactly one key is set.
type TriggerAction struct {
	// Webhook sends a signed HTTP request.
	Webhook *WebhookAction `yaml:"webhook,omitempty" json:"webhook,omitempty"`
	// Event publishes a TriggerFired event on Aurum's bus.
	Event *EventAction `yaml:"event,omitempty" json:"event,omitempty"`
	// SQS sends a message to an SQS queue.
	SQS *SQSAction `yaml:"sqs,omitempty" json:"sqs,omitempty"`
	// Destination names a destination of destinations: the firing is
	// delivered to it, with its consent purposes checked.
	Destination string `yaml:"destination,omitempty" json:"destination,omitempty"`
}

// WebhookAction sends an HTTP request signed with HMAC-SHA256 over
// timestamp + "." + body (see docs/triggers.md for verification).
type WebhookAction struct {
	// URL is the absolute http(s) URL called.
	URL string `yaml:"url" json:"url" jsonschema:"minLength=1"`
	// Method is POST (default), PUT or PATCH.
	Method string `yaml:"method,omitempty" json:"method,omitempty" jsonschema:"enum=POST,enum=PUT,enum=PATCH"`
	// Headers are extra request headers. Do not put credentials here;
	// the signature authenticates the request.
	Headers map[string]string `yaml:"headers,omitempty" json:"headers,omitempty"`
	// Body is a Go text/template rendering the JSON body, over .profile,
	// .event, .trigger and .firing; {{json .profile.attributes.email}}
	// writes a JSON value. Default: the TriggerFired detail.
	Body string `yaml:"body,omitempty" json:"body,omitempty"`
	// Secret is the signing key: a reference to an environment variable,
	// SSM parameter or Secrets Manager secret, never the key itself.
	Secret *SecretRef `yaml:"secret,omitempty" json:"secret,omitempty"`
	// SignatureHeader names the signature header; default
	// X-Aurum-Signature.
	SignatureHeader string `yaml:"signature_header,omitempty" json:"signature_header,omitempty"`
	// TimestampHeader names the timestamp header; default
	// X-Aurum-Timestamp.
	TimestampHeader string `yaml:"timestamp_header,omitempty" json:"timestamp_header,omitempty"`
	// Timeout bounds one attempt (Go duration); default 10s.
	Timeout string `yaml:"timeout,omitempty" json:"timeout,omitempty"`
}

// EventAction publishes a TriggerFired event. It has no settings yet;
// write it as event: {}.
type EventAction struct{}

// SQSAction sends the firing to an SQS queue.
type SQSAction struct {
	// QueueURL is the queue's URL. A FIFO queue (.fifo) gets the profile
	// id as message group and the firing id as deduplication id.
	QueueURL string `yaml:"queue_url" json:"queue_url" jsonschema:"minLength=1"`
	// Body is a template like the webhook's; default: the TriggerFired
	// detail.
	Body string `yaml:"body,omitempty" json:"body,omitempty"`
}

// Subscriber is a local-mode subscriber of the in-process bus: it shows
// what a marketing tool subscribed with the same EventBridge pattern would
// receive. Exactly one of webhook, print and log is set.
type Subscriber struct {
	// Name is unique among subscribers.
	Name string `yaml:"name" json:"name" jsonschema:"minLength=1"`
	// Pattern is the EventBridge event pattern; default: every Aurum event.
	Pattern EventPattern `yaml:"pattern,omitempty" json:"pattern,omitempty"`
	// Webhook POSTs each full event JSON to this URL.
	Webhook string `yaml:"webhook,omitempty" json:"webhook,omitempty"`
	// Print writes each full event JSON on its own line to local mode's
	// output.
	Print bool `yaml:"print,omitempty" json:"print,omitempty"`
	// Log logs each event's id, source and detail-type (never the detail).
	Log bool `yaml:"log,omitempty" json:"log,omitempty"`
}

// BusMatch selects the EventBridge events a bus source ingests.
type BusMatch struct {
	// Source is the events' source, e.g. com.shop or an
	// aws.partner/... partner event source.
	Source string `yaml:"source" json:"source" jsonschema:"minLength=1"`
	// DetailTypes, if set, limits the events to these detail-types.
	DetailTypes []string `yaml:"detail_types,omitempty" json:"detail_types,omitempty"`
}
