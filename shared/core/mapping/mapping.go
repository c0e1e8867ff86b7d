// Package mapping turns one input row of a source into a normalized
// profile.Record according to the source's mapping in aurum.yaml.
//
// A row is a map of CSV column names to strings, or a decoded JSON object
// (JSON Lines, the Segment API, webhooks) whose numbers are float64 or
// json.Number. Field paths are CSV column names or dotted JSON paths
// (traits.email); the exact key is tried first, so a CSV column whose name
// contains a dot still works.
//
// For each mapped field Map takes the value (or the constant), applies the
// field's transforms, skips it when it is missing (normalize.IsMissing),
// and normalizes it: identifiers with their identifier type's normalizer,
// attributes and event properties with the field's type. Then:
//
//   - an invalid value of an optional field is dropped and reported with a
//     non-fatal FieldError;
//   - a required field that is missing or invalid gives a fatal FieldError:
//     the caller rejects the row;
//   - a row whose mapping declares identifiers but that yields none gives a
//     fatal FieldError on the field "identifiers";
//   - identifier values on their type's block list are dropped with the
//     non-fatal reason "blocked value" (fatal when the field is required);
//   - name-typed attributes store the display form under the attribute's
//     name and the folded matching key under "<name>_key" (first_name and
//     first_name_key).
//
// Reasons never contain the value: values are personal data.
package mapping

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/core/normalize"
	"github.com/aurum-cdp/aurum/shared/model/fault"
	"github.com/aurum-cdp/aurum/shared/model/profile"
)

// KeySuffix is appended to a name-typed attribute's name to store its
// folded matching key: first_name → first_name_key.
const KeySuffix = "_key"

// EventType is the profile.Event type of events mapped from rows.
const EventType = "event"

// Reasons of FieldErrors that do not come from a normalizer.
const (
	ReasonRequired     = "required value missing"
	ReasonNotScalar    = "not a single value (object or array)"
	ReasonBlocked      = "blocked value"
	ReasonNoIdentifier = "no valid identifier"
	ReasonNotObject    = "not an object"
)

// FieldIdentifiers is the FieldError.Field of a row without any valid
// identifier.
const FieldIdentifiers = "identifiers"

// Mapper maps the rows of one source. It is immutable after New and safe
// for concurrent use.
type Mapper struct {
	source     string
	recordID   *spec
	observedAt *spec
	idents     []identSpec
	attrs      []attrSpec
	// from is the AttributesFrom object; fromSkip its keys not copied.
	from     *getter
	fromSkip map[string]bool
	event    *eventSpec
	nAttrs   int
}

// getter finds a field's value in a row.
type getter struct {
	// label names the field in FieldErrors: the input field, or the
	// mapping target for constants.
	label    string
	key      string
	path     []string
	isConst  bool
	constVal string
	// alts are the Fallback fields, tried in order when this one is
	// absent, null or a missing-value placeholder.
	alts []getter
}

// spec is one mapped field, resolved once in New.
type spec struct {
	getter
	transforms []func(string) string
	kind       string
	opts       normalize.Options
	required   bool
}

type identSpec struct {
	spec
	typ        string
	normalizer string
	priority   int
	blocked    map[string]bool
	blockedRE  []*regexp.Regexp
}

type attrSpec struct {
	spec
	name    string
	keyName string // name+KeySuffix for name-typed attributes
}

type eventSpec struct {
	name  spec
	id    *spec
	ts    *spec
	props []attrSpec
}

// New builds the mapper of src, whose identifiers are of the types idents
// (the configuration's identifier types, highest priority first). It
// resolves and checks the whole mapping once: a nil source, unknown
// identifier types, types, transforms, date formats, phone regions and
// block-list regular expressions are errors (fault.ErrInvalid). The Mapper
// keeps no reference to src or idents.
func New(src *config.Source, idents []config.IdentifierType) (*Mapper, error) {
	if src == nil {
		return nil, fmt.Errorf("mapping: no source: %w", fault.ErrInvalid)
	}
	source := src.Name
	b := builder{src: src, idents: idents}
	if err := (normalize.Options{Region: src.Region, DateFormats: src.DateFormats}).Validate(); err != nil {
		return nil, fmt.Errorf("mapping: source %s: %w", source, err)
	}
	m := &Mapper{source: source}
	mp := &src.Mapping
	var err error
	if mp.RecordID != nil {
		if m.recordID, err = b.spec("record_id", mp.RecordID, normalize.NormID); err != nil {
			return nil, err
		}
	}
	if mp.ObservedAt != nil {
		if m.observedAt, err = b.spec("observed_at", mp.ObservedAt, normalize.KindTimestamp); err != nil {
			return nil, err
		}
	}
	for i := range mp.Identifiers {
		f := &mp.Identifiers[i]
		s, err := b.identifier(i, f)
		if err != nil {
			return nil, err
		}
		m.idents = append(m.idents, s)
	}
	// Highest-priority types first; mapping order within a type.
	slices.SortStableFunc(m.idents, func(a, b identSpec) int { return a.priority - b.priority })

	names := make(map[string]bool, 2*len(mp.Attributes))
	for _, name := range sortedKeys(mp.Attributes) {
		f := mp.Attributes[name]
		a, err := b.attr("attributes", name, &f)
		if err != nil {
			return nil, err
		}
		m.attrs = append(m.attrs, a)
		names[name] = true
	}
	for _, a := range m.attrs {
		if a.keyName == "" {
			continue
		}
		if names[a.keyName] {
			return nil, fmt.Errorf("mapping: source %s: attribute %s: name attribute %s also stores its key as %s, which is mapped too: %w",
				source, a.keyName, a.name, a.keyName, fault.ErrInvalid)
		}
		names[a.keyName] = true
	}
	m.nAttrs = len(names)

	if mp.AttributesFrom != "" {
		g := newGetter(mp.AttributesFrom, mp.AttributesFrom)
		m.from = &g
		m.fromSkip = names // explicit attributes (and their keys) win
		prefix := mp.AttributesFrom + "."
		for _, f := range mappedFields(mp) {
			if k, ok := strings.CutPrefix(f, prefix); ok && !strings.Contains(k, ".") {
				m.fromSkip[k] = true
			}
		}
		m.nAttrs += 8
	}

	if e := mp.Event; e != nil {
		es := &eventSpec{}
		name, err := b.spec("event.name", &e.Name, normalize.KindString)
		if err != nil {
			return nil, err
		}
		es.name = *name
		if e.ID != nil {
			if es.id, err = b.spec("event.id", e.ID, normalize.NormID); err != nil {
				return nil, err
			}
		}
		if e.Timestamp != nil {
			if es.ts, err = b.spec("event.timestamp", e.Timestamp, normalize.KindTimestamp); err != nil {
				return nil, err
			}
		}
		for _, pname := range sortedKeys(e.Properties) {
			f := e.Properties[pname]
			a, err := b.attr("event.properties", pname, &f)
			if err != nil {
				return nil, err
			}
			a.keyName = "" // properties keep the display form only
			es.props = append(es.props, a)
		}
		m.event = es
	}
	return m, nil
}

// mappedFields lists the input fields of identifiers and attributes.
func mappedFields(mp *config.Mapping) []string {
	var out []string
	for _, f := range mp.Identifiers {
		out = append(out, f.Field.Field)
	}
	for _, f := range mp.Attributes {
		out = append(out, f.Field)
	}
	return out
}

func sortedKeys(m map[string]config.Field) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// builder resolves the fields of one source.
type builder struct {
	src    *config.Source
	idents []config.IdentifierType
}

func newGetter(label, field string) getter {
	g := getter{label: label, key: field}
	if strings.Contains(field, ".") {
		g.path = strings.Split(field, ".")
	}
	return g
}

// spec resolves one field. target names it in errors ("attributes.email");
// kind is an attribute kind, or normalize.NormID for ids.
func (b *builder) spec(target string, f *config.Field, kind string) (*spec, error) {
	errf := func(format string, args ...any) error {
		return fmt.Errorf("mapping: source %s: %s: %s: %w", b.src.Name, target, fmt.Sprintf(format, args...), fault.ErrInvalid)
	}
	s := &spec{kind: kind, required: f.Required}
	switch {
	case f.Field != "" && f.Const != "":
		return nil, errf("has both field and const")
	case f.Field != "":
		s.getter = newGetter(f.Field, f.Field)
		for _, alt := range f.Fallback {
			s.getter.alts = append(s.getter.alts, newGetter(alt, alt))
		}
	case f.Const != "":
		s.getter = getter{label: target, isConst: true, constVal: f.Const}
	default:
		return nil, errf("missing field or const")
	}
	for _, name := range f.Transforms {
		fn, err := normalize.TransformFunc(name)
		if err != nil {
			return nil, errf("%v", err)
		}
		s.transforms = append(s.transforms, fn)
	}
	// Copies: the Mapper must not change when the caller's config does.
	s.opts = normalize.Options{Region: b.src.Region, DateFormats: slices.Clone(b.src.DateFormats)}
	if len(f.Formats) > 0 {
		if err := normalize.ValidateFormats(f.Formats); err != nil {
			return nil, errf("%v", err)
		}
		s.opts.DateFormats = slices.Clone(f.Formats)
	}
	return s, nil
}

func (b *builder) attr(section, name string, f *config.Field) (attrSpec, error) {
	target := section + "." + name
	if name == "" {
		return attrSpec{}, fmt.Errorf("mapping: source %s: %s: empty name: %w", b.src.Name, section, fault.ErrInvalid)
	}
	kind := f.Type
	if kind == "" {
		kind = normalize.KindString
	}
	if err := normalize.CheckKind(kind); err != nil {
		return attrSpec{}, fmt.Errorf("mapping: source %s: %s: %w", b.src.Name, target, err)
	}
	s, err := b.spec(target, f, kind)
	if err != nil {
		return attrSpec{}, err
	}
	a := attrSpec{spec: *s, name: name}
	if kind == normalize.KindName {
		a.keyName = name + KeySuffix
	}
	return a, nil
}

func (b *builder) identifier(i int, f *config.IdentifierField) (identSpec, error) {
	target := fmt.Sprintf("identifiers[%d]", i)
	prio := -1
	var it *config.IdentifierType
	for j := range b.idents {
		if b.idents[j].Name == f.Type {
			prio, it = j, &b.idents[j]
			break
		}
	}
	if it == nil {
		return identSpec{}, fmt.Errorf("mapping: source %s: %s: %q is not a declared identifier type: %w", b.src.Name, target, f.Type, fault.ErrInvalid)
	}
	if err := normalize.CheckNormalizer(it.Normalizer); err != nil {
		return identSpec{}, fmt.Errorf("mapping: source %s: %s: identifier type %s: %w", b.src.Name, target, it.Name, err)
	}
	s, err := b.spec(target, &f.Field, it.Normalizer)
	if err != nil {
		return identSpec{}, err
	}
	s.opts.GmailDots = it.GmailDots
	is := identSpec{spec: *s, typ: it.Name, normalizer: it.Normalizer, priority: prio}
	for k, v := range it.Blocked {
		if len(v) >= 2 && strings.HasPrefix(v, "/") && strings.HasSuffix(v, "/") {
			re, err := regexp.Compile(v[1 : len(v)-1])
			if err != nil {
				return identSpec{}, fmt.Errorf("mapping: identifier type %s: blocked[%d]: %v: %w", it.Name, k, err, fault.ErrInvalid)
			}
			is.blockedRE = append(is.blockedRE, re)
			continue
		}
		if is.blocked == nil {
			is.blocked = make(map[string]bool, len(it.Blocked))
		}
		is.blocked[v] = true
		// Block the normalized form too, so "Test@Test.com" blocks
		// test@test.com.
		if n, err := normalize.Identifier(it.Normalizer, v, s.opts); err == nil {
			is.blocked[n] = true
		}
	}
	return is, nil
}

// get returns the field's value and whether the row has it.
func (g *getter) get(row map[string]any) (any, bool) {
	v, ok := g.get1(row)
	if len(g.alts) == 0 || (ok && !absent(v)) {
		return v, ok
	}
	for i := range g.alts {
		if av, aok := g.alts[i].get1(row); aok && !absent(av) {
			return av, true
		}
	}
	return v, ok
}

// absent reports whether a present value still means "no value".
func absent(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return normalize.IsMissing(x)
	}
	return false
}

func (g *getter) get1(row map[string]any) (any, bool) {
	if g.isConst {
		return g.constVal, true
	}
	if v, ok := row[g.key]; ok {
		return v, true
	}
	if g.path == nil {
		return nil, false
	}
	var cur any = row
	for _, p := range g.path {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[p]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// status of a field's value in a row.
type status uint8

const (
	stOK status = iota
	stMissing
	stInvalid
)

// text returns the field's value as a string after transforms, or why
// there is none (a reason for stInvalid).
func (s *spec) text(row map[string]any) (string, status, string) {
	v, ok := s.get(row)
	if !ok {
		return "", stMissing, ""
	}
	return s.textOf(v)
}

func (s *spec) textOf(v any) (string, status, string) {
	str, st := scalarString(v)
	if st != stOK {
		if st == stInvalid {
			return "", stInvalid, ReasonNotScalar
		}
		return "", st, ""
	}
	for _, t := range s.transforms {
		str = t(str)
	}
	if normalize.IsMissing(str) {
		return "", stMissing, ""
	}
	return str, stOK, ""
}

// scalarString renders a CSV or JSON scalar as a string.
func scalarString(v any) (string, status) {
	switch v := v.(type) {
	case string:
		return v, stOK
	case nil:
		return "", stMissing
	case json.Number:
		return string(v), stOK
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return "", stInvalid
		}
		return strconv.FormatFloat(v, 'f', -1, 64), stOK
	case bool:
		return strconv.FormatBool(v), stOK
	case int:
		return strconv.Itoa(v), stOK
	case int64:
		return strconv.FormatInt(v, 10), stOK
	case float32:
		return strconv.FormatFloat(float64(v), 'f', -1, 32), stOK
	}
	return "", stInvalid
}

// value normalizes an attribute or property.
func (s *spec) value(row map[string]any) (any, status, string) {
	v, ok := s.get(row)
	if !ok {
		return nil, stMissing, ""
	}
	if len(s.transforms) == 0 {
		if out, st, reason, done := s.native(v); done {
			return out, st, reason
		}
	}
	str, st, reason := s.textOf(v)
	if st != stOK {
		return nil, st, reason
	}
	out, err := normalize.Value(s.kind, str, s.opts)
	if err != nil {
		return nil, stInvalid, err.Error()
	}
	return out, stOK, ""
}

// native handles JSON numbers and booleans of number, integer and bool
// fields without parsing text (JSON numbers always use '.', whatever the
// source's decimal separator). done is false for values to parse as text.
func (s *spec) native(v any) (out any, st status, reason string, done bool) {
	switch s.kind {
	case normalize.KindNumber, normalize.KindInteger:
		var f float64
		switch n := v.(type) {
		case float64:
			f = n
		case json.Number:
			var err error
			if f, err = strconv.ParseFloat(string(n), 64); err != nil {
				return nil, stInvalid, "invalid " + s.kind + ": not a number", true
			}
		default:
			return nil, stOK, "", false
		}
		switch {
		case math.IsNaN(f) || math.IsInf(f, 0):
			return nil, stInvalid, "invalid " + s.kind + ": out of range", true
		case s.kind == normalize.KindInteger && f != math.Trunc(f):
			return nil, stInvalid, "invalid integer: has a fraction", true
		case s.kind == normalize.KindInteger && math.Abs(f) > normalize.MaxSafeInteger:
			return nil, stInvalid, "invalid integer: out of range", true
		}
		return f, stOK, "", true
	case normalize.KindBool:
		if b, ok := v.(bool); ok {
			return b, stOK, "", true
		}
	}
	return nil, stOK, "", false
}

// problem records a field without a usable value; it returns errs
// unchanged for an optional missing field.
func (s *spec) problem(errs []FieldError, st status, reason string) []FieldError {
	switch {
	case st == stMissing && s.required:
		return append(errs, FieldError{Field: s.label, Reason: ReasonRequired, Fatal: true})
	case st == stInvalid:
		return append(errs, FieldError{Field: s.label, Reason: reason, Fatal: s.required})
	}
	return errs
}

// FieldError reports one field that could not be mapped.
type FieldError struct {
	// Field is the input field (CSV column or JSON path).
	Field string `json:"field"`
	// Reason says what is wrong, without echoing the value.
	Reason string `json:"reason"`
	// Fatal errors reject the whole row; others drop only the value.
	Fatal bool `json:"fatal,omitempty"`
}

func (e FieldError) Error() string { return e.Field + ": " + e.Reason }

// HasFatal reports whether errs hold a fatal error: the row is rejected.
func HasFatal(errs []FieldError) bool {
	for _, e := range errs {
		if e.Fatal {
			return true
		}
	}
	return false
}

// Map maps one row. Values are strings (CSV) or JSON values (JSONL, API).
// The record's Source is set; ID is set when the mapping names a record
// id, ObservedAt when it names observed_at. Events mapped from the row get
// the record's ID and ObservedAt as default ID and Timestamp when those are
// known; callers that assign them later call FillEventDefaults.
//
// The returned errors list every field that was dropped; when one is Fatal
// the row must be rejected (see HasFatal). Map does not keep row, but the
// record may share nested values (objects copied by AttributesFrom are
// copied).
func (m *Mapper) Map(row map[string]any) (profile.Record, []FieldError) {
	rec := profile.Record{Source: m.source}
	var errs []FieldError

	if s := m.recordID; s != nil {
		str, st, reason := s.text(row)
		if st == stOK {
			id, err := normalize.ID(str)
			if err == nil {
				rec.ID = id
			} else {
				st, reason = stInvalid, err.Error()
			}
		}
		errs = s.problem(errs, st, reason)
	}
	if s := m.observedAt; s != nil {
		str, st, reason := s.text(row)
		if st == stOK {
			t, err := normalize.Timestamp(str, s.opts)
			if err == nil {
				rec.ObservedAt = t
			} else {
				st, reason = stInvalid, err.Error()
			}
		}
		errs = s.problem(errs, st, reason)
	}

	if len(m.idents) > 0 {
		rec.Identifiers = make([]profile.Identifier, 0, len(m.idents))
		for i := range m.idents {
			s := &m.idents[i]
			str, st, reason := s.text(row)
			if st == stOK {
				v, err := normalize.Identifier(s.normalizer, str, s.opts)
				switch {
				case err != nil:
					st, reason = stInvalid, err.Error()
				case v == "":
					st, reason = stInvalid, "invalid "+s.normalizer+": empty"
				case s.isBlocked(v):
					st, reason = stInvalid, ReasonBlocked
				default:
					id := profile.Identifier{Type: s.typ, Value: v}
					if !slices.Contains(rec.Identifiers, id) {
						rec.Identifiers = append(rec.Identifiers, id)
					}
				}
			}
			errs = s.problem(errs, st, reason)
		}
		if len(rec.Identifiers) == 0 {
			rec.Identifiers = nil
			errs = append(errs, FieldError{Field: FieldIdentifiers, Reason: ReasonNoIdentifier, Fatal: true})
		}
	}

	if m.nAttrs > 0 {
		rec.Attributes = make(map[string]any, m.nAttrs)
	}
	for i := range m.attrs {
		a := &m.attrs[i]
		if a.keyName != "" {
			str, st, reason := a.text(row)
			if st == stOK {
				d, k, err := normalize.Name(str)
				if err == nil {
					rec.Attributes[a.name] = d
					rec.Attributes[a.keyName] = k
					continue
				}
				st, reason = stInvalid, err.Error()
			}
			errs = a.problem(errs, st, reason)
			continue
		}
		v, st, reason := a.value(row)
		if st == stOK {
			rec.Attributes[a.name] = v
			continue
		}
		errs = a.problem(errs, st, reason)
	}
	if m.from != nil {
		errs = m.copyFrom(row, rec.Attributes, errs)
	}
	if len(rec.Attributes) == 0 {
		rec.Attributes = nil
	}

	if m.event != nil {
		var ev *profile.Event
		ev, errs = m.mapEvent(row, &rec, errs)
		if ev != nil {
			rec.Events = []profile.Event{*ev}
		}
	}
	return rec, errs
}

func (s *identSpec) isBlocked(v string) bool {
	if s.blocked[v] {
		return true
	}
	for _, re := range s.blockedRE {
		if re.MatchString(v) {
			return true
		}
	}
	return false
}

// copyFrom copies the keys of the AttributesFrom object into attrs.
func (m *Mapper) copyFrom(row map[string]any, attrs map[string]any, errs []FieldError) []FieldError {
	v, ok := m.from.get(row)
	if !ok || v == nil {
		return errs
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return append(errs, FieldError{Field: m.from.label, Reason: ReasonNotObject})
	}
	for k, v := range obj {
		if k == "" || m.fromSkip[k] {
			continue
		}
		if jv, ok := jsonValue(v, 0); ok {
			attrs[k] = jv
		}
	}
	return errs
}

// maxDepth bounds the nesting of copied JSON values.
const maxDepth = 16

// jsonValue converts a decoded JSON value to the form profile attributes
// hold: strings trimmed (missing placeholders dropped), json.Number as
// float64, objects and arrays copied. ok is false for values to drop.
func jsonValue(v any, depth int) (any, bool) {
	switch v := v.(type) {
	case string:
		s := strings.TrimSpace(v)
		if normalize.IsMissing(s) {
			return nil, false
		}
		return s, true
	case bool, float64:
		if f, ok := v.(float64); ok && (math.IsNaN(f) || math.IsInf(f, 0)) {
			return nil, false
		}
		return v, true
	case json.Number:
		f, err := strconv.ParseFloat(string(v), 64)
		if err != nil || math.IsInf(f, 0) {
			return nil, false
		}
		return f, true
	case int:
		return float64(v), true
	case int64:
		return float64(v), true
	case map[string]any:
		if depth >= maxDepth {
			return nil, false
		}
		out := make(map[string]any, len(v))
		for k, x := range v {
			if jx, ok := jsonValue(x, depth+1); ok {
				out[k] = jx
			}
		}
		return out, true
	case []any:
		if depth >= maxDepth {
			return nil, false
		}
		out := make([]any, 0, len(v))
		for _, x := range v {
			if jx, ok := jsonValue(x, depth+1); ok {
				out = append(out, jx)
			}
		}
		return out, true
	}
	return nil, false
}

// mapEvent maps the row's event; it returns nil when the event has no name.
func (m *Mapper) mapEvent(row map[string]any, rec *profile.Record, errs []FieldError) (*profile.Event, []FieldError) {
	e := m.event
	nameV, st, reason := e.name.value(row)
	if st != stOK {
		if st == stMissing && !e.name.required {
			// An event without a name is no event; say so, the rest of the
			// row stands.
			return nil, append(errs, FieldError{Field: e.name.label, Reason: "event name missing; no event recorded"})
		}
		return nil, e.name.problem(errs, st, reason)
	}
	ev := &profile.Event{
		ID:        rec.ID,
		Source:    m.source,
		Type:      EventType,
		Name:      nameV.(string),
		Timestamp: rec.ObservedAt,
	}
	if s := e.id; s != nil {
		str, st, reason := s.text(row)
		if st == stOK {
			id, err := normalize.ID(str)
			if err == nil {
				ev.ID = id
			} else {
				st, reason = stInvalid, err.Error()
			}
		}
		errs = s.problem(errs, st, reason)
	}
	if s := e.ts; s != nil {
		str, st, reason := s.text(row)
		if st == stOK {
			t, err := normalize.Timestamp(str, s.opts)
			if err == nil {
				ev.Timestamp = t
			} else {
				st, reason = stInvalid, err.Error()
			}
		}
		errs = s.problem(errs, st, reason)
	}
	if len(e.props) > 0 {
		ev.Properties = make(map[string]any, len(e.props))
		for i := range e.props {
			p := &e.props[i]
			v, st, reason := p.value(row)
			if st == stOK {
				ev.Properties[p.name] = v
				continue
			}
			errs = p.problem(errs, st, reason)
		}
		if len(ev.Properties) == 0 {
			ev.Properties = nil
		}
	}
	return ev, errs
}

// FillEventDefaults gives the record's events without an ID the record's
// ID, and those without a timestamp the record's ObservedAt. Callers that
// assign a record ID or ObservedAt after Map (file rows without a mapped
// record id, arrival time) call it afterwards.
func FillEventDefaults(rec *profile.Record) {
	for i := range rec.Events {
		ev := &rec.Events[i]
		if ev.ID == "" {
			ev.ID = rec.ID
		}
		if ev.Timestamp.IsZero() {
			ev.Timestamp = rec.ObservedAt
		}
	}
}
