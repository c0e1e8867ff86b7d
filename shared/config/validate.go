package config

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/goccy/go-yaml/ast"
	"github.com/nyaruka/phonenumbers"
)

var (
	identifierNamePattern = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	sourceNamePattern     = regexp.MustCompile(`^[a-z][a-z0-9_-]*$`)
	regionPattern         = regexp.MustCompile(`^[A-Z]{2}$`)
	sha256Pattern         = regexp.MustCompile(`^[0-9a-f]{64}$`)
	envNamePattern        = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// Validate checks the semantic rules of c: the checks Parse runs once the
// structure is right. It is meant for configurations built in Go; errors
// carry paths but no positions. It returns nil or an Errors.
func (c *Config) Validate() error {
	if errs := validate(c, nil); len(errs) > 0 {
		return errs
	}
	return nil
}

// validate checks c. s, when not nil, indexes the YAML nodes c was decoded
// from, so that errors name positions.
func validate(c *Config, s *shape) Errors {
	v := &validator{cfg: c, s: s, file: c.File}
	v.config()
	return sortErrors(v.errs)
}

type validator struct {
	cfg  *Config
	s    *shape
	file string
	errs Errors
}

// errorf reports a problem with the value at path; a missing value is
// reported at the nearest enclosing node that exists.
func (v *validator) errorf(path, format string, args ...any) {
	e := &Error{File: v.file, Path: path, Msg: fmt.Sprintf(format, args...)}
	e.Line, e.Column = v.pos(path)
	v.errs = append(v.errs, e)
}

// pos finds the position of the value at path: the value itself, its key
// when the value is empty, or the nearest ancestor that exists.
func (v *validator) pos(path string) (line, col int) {
	if v.s == nil {
		return 0, 0
	}
	for p := path; ; p = parentPath(p) {
		if n, ok := v.s.values[p]; ok && n != nil {
			if n.Type() == ast.NullType || isEmptyString(n) {
				if k, ok := v.s.keys[p]; ok {
					return nodePos(k)
				}
			}
			return nodePos(n)
		}
		if k, ok := v.s.keys[p]; ok {
			return nodePos(k)
		}
		if p == "" {
			return 0, 0
		}
	}
}

// where describes where path was declared, for messages about duplicates.
func (v *validator) where(path string) string {
	if line, _ := v.pos(path); line > 0 {
		return fmt.Sprintf("line %d", line)
	}
	return path
}

func isEmptyString(n ast.Node) bool {
	s, ok := n.(*ast.StringNode)
	return ok && s.Value == ""
}

// parentPath strips the last segment of a path: sources[1].kind →
// sources[1] → sources → "".
func parentPath(p string) string {
	if strings.HasSuffix(p, `"]`) {
		if i := strings.LastIndex(p, `["`); i >= 0 {
			return p[:i]
		}
	}
	if strings.HasSuffix(p, "]") {
		if i := strings.LastIndexByte(p, '['); i >= 0 {
			return p[:i]
		}
	}
	if i := strings.LastIndexByte(p, '.'); i >= 0 {
		return p[:i]
	}
	return ""
}

// oneOf checks that value is one of allowed; an empty value is reported as
// missing when required.
func (v *validator) oneOf(path, value string, allowed []string, required bool) {
	switch {
	case value == "" && required:
		v.errorf(path, "missing; expected one of %s", strings.Join(allowed, ", "))
	case value != "" && !slices.Contains(allowed, value):
		v.errorf(path, "%q is not one of %s", value, strings.Join(allowed, ", "))
	}
}

// unique reports the second and later uses of an id. seen maps ids to the
// path that declared them first.
func (v *validator) unique(seen map[string]string, what, id, path string) {
	if id == "" {
		return
	}
	if first, dup := seen[id]; dup {
		v.errorf(path, "duplicate %s %q; first declared at %s", what, id, v.where(first))
		return
	}
	seen[id] = path
}

func (v *validator) config() {
	c := v.cfg
	switch c.Version {
	case 1:
	case 0:
		v.errorf("version", "missing; expected version: 1")
	default:
		v.errorf("version", "%d is not supported; expected 1", c.Version)
	}

	if len(c.Identifiers) == 0 {
		v.errorf("identifiers", "empty; declare at least one identifier type")
	}
	names := make(map[string]string)
	for i := range c.Identifiers {
		v.identifierType(indexPath("identifiers", i), &c.Identifiers[i], names)
	}

	if len(c.Sources) == 0 {
		v.errorf("sources", "empty; declare at least one source")
	}
	sources := make(map[string]string)
	for i := range c.Sources {
		v.source(indexPath("sources", i), &c.Sources[i], sources)
	}

	rules := make(map[string]string)
	for i := range c.Identity.Rules {
		v.rule(indexPath("identity.rules", i), &c.Identity.Rules[i], rules)
	}

	if c.Identity.Placeholders != nil {
		v.placeholders("identity.placeholders", c.Identity.Placeholders)
	}
	for i := range c.Identifiers {
		v.oneOf(indexPath("identifiers", i)+".on_conflict", c.Identifiers[i].OnConflict, conflicts, false)
	}
	v.golden(&c.Golden)

	segments := make(map[string]string)
	for i, sg := range c.Segments {
		p := indexPath("segments", i)
		if sg.ID == "" {
			v.errorf(p+".id", "missing; every segment needs a unique id")
		}
		v.unique(segments, "segment id", sg.ID, p+".id")
		if strings.TrimSpace(sg.Expr) == "" {
			v.errorf(p+".expr", "missing; expected a CEL expression over the profile")
		}
	}

	if c.RFM != nil {
		v.rfm("rfm", c.RFM)
	}
	v.triggers(segments)
	v.destinations(segments)
	v.subscribers()
	v.busSources()
}

func (v *validator) identifierType(p string, it *IdentifierType, seen map[string]string) {
	switch {
	case it.Name == "":
		v.errorf(p+".name", "missing; expected a name such as email or customer_id")
	case !identifierNamePattern.MatchString(it.Name):
		v.errorf(p+".name", "%q must match %s (a lower-case letter, then lower-case letters, digits or _)", it.Name, identifierNamePattern)
	}
	v.unique(seen, "identifier type", it.Name, p+".name")
	v.oneOf(p+".normalizer", it.Normalizer, normalizers, true)
	if it.GmailDots && it.Normalizer != NormalizerEmail {
		v.errorf(p+".gmail_dots", "applies only to normalizer email")
	}
	if it.MaxPerProfile < 0 {
		v.errorf(p+".max_per_profile", "%d is negative; expected 0 (no cap) or more", it.MaxPerProfile)
	}
	for j, b := range it.Blocked {
		bp := indexPath(p+".blocked", j)
		if b == "" {
			v.errorf(bp, "empty; expected a value or a /regular expression/")
			continue
		}
		if re, ok := blockedRegexp(b); ok {
			if _, err := regexp.Compile(re); err != nil {
				v.errorf(bp, "regular expression %s does not compile: %v", b, err)
			}
		}
	}
}

// blockedRegexp returns the expression of a blocked entry written /like this/.
func blockedRegexp(b string) (string, bool) {
	if len(b) >= 2 && b[0] == '/' && b[len(b)-1] == '/' {
		return b[1 : len(b)-1], true
	}
	return "", false
}

func (v *validator) source(p string, src *Source, seen map[string]string) {
	switch {
	case src.Name == "":
		v.errorf(p+".name", "missing; expected a name such as crm or web-events")
	case !sourceNamePattern.MatchString(src.Name):
		v.errorf(p+".name", "%q must match %s (a lower-case letter, then lower-case letters, digits, _ or -)", src.Name, sourceNamePattern)
	}
	v.unique(seen, "source name", src.Name, p+".name")
	v.oneOf(p+".kind", src.Kind, kinds, true)
	if !slices.Contains(kinds, src.Kind) {
		// The checks below depend on the kind; they would only add noise.
		v.mapping(p+".mapping", src)
		return
	}

	switch {
	case src.Kind == KindFile && src.Format == "":
		v.errorf(p+".format", "missing; file sources need format csv or jsonl")
	case src.Kind == KindFile:
		v.oneOf(p+".format", src.Format, formats, true)
	case src.Format != "":
		v.errorf(p+".format", "applies only to file sources")
	}
	if src.CSV != nil {
		v.csv(p+".csv", src)
	}

	if src.Region != "" {
		switch {
		case !regionPattern.MatchString(src.Region):
			v.errorf(p+".region", "%q must be two upper-case letters (ISO 3166-1 alpha-2, e.g. GB)", src.Region)
		case !phonenumbers.GetSupportedRegions()[src.Region]:
			hint := ""
			if src.Region == "UK" {
				hint = "; did you mean GB?"
			}
			v.errorf(p+".region", "%q is not a region known to the phone number library%s", src.Region, hint)
		}
	}

	switch src.Kind {
	case KindAPI:
		if len(src.WriteKeys) == 0 {
			v.errorf(p+".write_keys", "missing; api sources need at least one write key")
		}
	case KindFile, KindBus, KindPull:
		if len(src.WriteKeys) > 0 {
			v.errorf(p+".write_keys", "apply only to api and webhook sources")
		}
	}
	for j := range src.WriteKeys {
		v.secretRef(indexPath(p+".write_keys", j), &src.WriteKeys[j])
	}
	v.allowedTraits(p, src)
	v.webhookSource(p, src)
	v.pullSource(p, src)

	v.mapping(p+".mapping", src)
}

func (v *validator) csv(p string, src *Source) {
	if src.Format != FormatCSV {
		v.errorf(p, "applies only to format csv")
	}
	delim := ','
	if d := src.CSV.Delimiter; d != "" {
		r, ok := singleRune(d)
		switch {
		case !ok:
			v.errorf(p+".delimiter", "%q must be a single character", d)
		case r == '\r' || r == '\n' || r == '"':
			v.errorf(p+".delimiter", "%q cannot be a delimiter", d)
		default:
			delim = r
		}
	}
	if c := src.CSV.Comment; c != "" {
		r, ok := singleRune(c)
		switch {
		case !ok:
			v.errorf(p+".comment", "%q must be a single character", c)
		case r == '\r' || r == '\n' || r == '"':
			v.errorf(p+".comment", "%q cannot start a comment", c)
		case r == delim:
			v.errorf(p+".comment", "%q is also the delimiter; expected another character", c)
		}
	}
}

// singleRune returns the only character of s.
func singleRune(s string) (rune, bool) {
	r, n := utf8.DecodeRuneInString(s)
	return r, n == len(s) && r != utf8.RuneError
}

func (v *validator) secretRef(p string, ref *SecretRef) {
	var set []string
	for _, kv := range [...]struct{ key, value string }{
		{"env", ref.Env}, {"ssm", ref.SSM}, {"secrets_manager", ref.SecretsManager}, {"sha256", ref.SHA256},
	} {
		if kv.value != "" {
			set = append(set, kv.key)
		}
	}
	if len(set) != 1 {
		got := "none"
		if len(set) > 1 {
			got = strings.Join(set, " and ")
		}
		v.errorf(p, "has %s; expected exactly one of env, ssm, secrets_manager, sha256", got)
		return
	}
	if ref.Env != "" && !envNamePattern.MatchString(ref.Env) {
		v.errorf(p+".env", "%q is not an environment variable name", ref.Env)
	}
	if ref.SHA256 != "" && !sha256Pattern.MatchString(ref.SHA256) {
		v.errorf(p+".sha256", "expected 64 lower-case hexadecimal digits (the SHA-256 of the key)")
	}
}

func (v *validator) mapping(p string, src *Source) {
	m := &src.Mapping
	if m.RecordID != nil {
		v.field(p+".record_id", m.RecordID, "a constant record id would make every row the same record")
	}
	if m.ObservedAt != nil {
		v.field(p+".observed_at", m.ObservedAt, "")
	}
	for j := range m.Identifiers {
		ip := indexPath(p+".identifiers", j)
		id := &m.Identifiers[j]
		switch {
		case id.Type == "":
			v.errorf(ip+".type", "missing; expected one of the identifier types: %s", v.identifierNames())
		default:
			if _, ok := v.cfg.IdentifierType(id.Type); !ok {
				v.errorf(ip+".type", "%q is not a declared identifier type; declared: %s", id.Type, v.identifierNames())
			}
		}
		v.field(ip, &id.Field, "a constant identifier would merge every row into one profile")
	}
	for _, name := range slices.Sorted(maps.Keys(m.Attributes)) {
		f := m.Attributes[name]
		ap := childPath(p+".attributes", name)
		if name == "" {
			v.errorf(ap, "empty attribute name")
		}
		v.consentAttribute(ap, name, f)
		v.field(ap, &f, "")
	}
	if m.AttributesFrom != "" && src.Kind == KindFile && src.Format == FormatCSV {
		v.errorf(p+".attributes_from", "needs JSON input (jsonl, api, webhook or bus); CSV rows have no nested objects")
	}
	if e := m.Event; e != nil {
		ep := p + ".event"
		v.field(ep+".name", &e.Name, "")
		if e.ID != nil {
			v.field(ep+".id", e.ID, "a constant event id would make every row the same event")
		}
		if e.Timestamp != nil {
			v.field(ep+".timestamp", e.Timestamp, "")
		}
		for _, name := range slices.Sorted(maps.Keys(e.Properties)) {
			f := e.Properties[name]
			pp := childPath(ep+".properties", name)
			if name == "" {
				v.errorf(pp, "empty property name")
			}
			v.field(pp, &f, "")
		}
	}
}

// field checks one Field. noConst, when not empty, forbids const and says
// why.
// consentPurpose is the form of a purpose in a consent attribute's name
// (package consent normalises Segment categories to it).
var consentPurpose = regexp.MustCompile(`^[a-z0-9]+(_[a-z0-9]+)*$`)

// consentAttribute checks an attribute named consent.<purpose>: its
// purpose is lower-case letters, digits and single underscores, and its
// value a boolean (true: granted, false: withdrawn).
func (v *validator) consentAttribute(p, name string, f Field) {
	purpose, ok := strings.CutPrefix(name, "consent.")
	if !ok {
		return
	}
	if !consentPurpose.MatchString(purpose) || len(purpose) > 64 {
		v.errorf(p, "consent purpose %q: expected lower-case letters, digits and _ (at most 64)", purpose)
	}
	if f.Type != TypeBool {
		v.errorf(p+".type", "%q for a consent attribute; expected bool (true: granted, false: withdrawn)", f.Type)
	}
}

func (v *validator) field(p string, f *Field, noConst string) {
	switch {
	case f.Field != "" && f.Const != "":
		v.errorf(p, "has both field and const; expected exactly one")
	case f.Const != "" && noConst != "":
		v.errorf(p+".const", "not allowed here (%s); expected field", noConst)
	case f.Field == "" && f.Const == "" && noConst != "":
		v.errorf(p, "missing field; expected the input field (CSV column or dotted JSON path)")
	case f.Field == "" && f.Const == "":
		v.errorf(p, "missing field or const; expected exactly one")
	}
	v.oneOf(p+".type", f.Type, fieldTypes, false)
	for k, t := range f.Transforms {
		v.oneOf(indexPath(p+".transforms", k), t, transforms, true)
	}
	for k, fm := range f.Formats {
		if strings.TrimSpace(fm) == "" {
			v.errorf(indexPath(p+".formats", k), "empty; expected a date layout")
		}
	}
}

func (v *validator) rule(p string, r *MatchRule, seen map[string]string) {
	if r.Name == "" {
		v.errorf(p+".name", "missing; every match rule needs a unique name")
	}
	v.unique(seen, "match rule", r.Name, p+".name")
	v.oneOf(p+".kind", r.Kind, ruleKinds, true)
	for j, name := range r.Identifiers {
		if _, ok := v.cfg.IdentifierType(name); !ok {
			v.errorf(indexPath(p+".identifiers", j), "%q is not a declared identifier type; declared: %s", name, v.identifierNames())
		}
	}
	for j, a := range r.Attributes {
		if strings.TrimSpace(a) == "" {
			v.errorf(indexPath(p+".attributes", j), "empty; expected an attribute name")
		}
	}
	switch r.Kind {
	case RuleExact:
		switch {
		case len(r.Identifiers) == 0 && len(r.Attributes) == 0:
			v.errorf(p+".identifiers", "missing; exact rules need identifiers (%s) or attributes (a composite key)", v.identifierNames())
		case len(r.Identifiers) > 0 && len(r.Attributes) > 0:
			v.errorf(p+".attributes", "not allowed with identifiers; write two rules")
		}
		for _, k := range []struct {
			key string
			set bool
		}{{"blocking", len(r.Blocking) > 0}, {"compare", len(r.Compare) > 0}, {"min_agree", r.MinAgree != 0}, {"threshold", r.Threshold != 0}, {"max_block_size", r.MaxBlockSize != 0}} {
			if k.set {
				v.errorf(p+"."+k.key, "applies only to fuzzy and weighted rules")
			}
		}
	case RuleFuzzy, RuleWeighted:
		if len(r.Identifiers) > 0 {
			v.errorf(p+".identifiers", "applies only to exact rules; fuzzy rules compare attributes")
		}
		if len(r.Attributes) > 0 {
			v.errorf(p+".attributes", "applies only to exact rules; use blocking and compare")
		}
		if len(r.Blocking) == 0 {
			v.errorf(p+".blocking", "missing; %s rules need at least one blocking key (records are only compared within blocks)", r.Kind)
		}
		for j, key := range r.Blocking {
			bp := indexPath(p+".blocking", j)
			if len(key) == 0 {
				v.errorf(bp, "empty; expected a list of key parts such as soundex(last_name_key)")
			}
			for k, part := range key {
				if err := CheckKeyPart(part); err != nil {
					v.errorf(indexPath(bp, k), "%v", err)
				}
			}
		}
		if len(r.Compare) == 0 {
			v.errorf(p+".compare", "missing; %s rules need at least one comparison", r.Kind)
		}
		for j := range r.Compare {
			v.comparison(indexPath(p+".compare", j), r.Kind, &r.Compare[j])
		}
		if r.MaxBlockSize < 0 {
			v.errorf(p+".max_block_size", "%d is negative", r.MaxBlockSize)
		}
		if r.Kind == RuleFuzzy {
			if r.Threshold != 0 {
				v.errorf(p+".threshold", "applies only to weighted rules; fuzzy comparisons have their own thresholds")
			}
			if r.MinAgree < 0 || r.MinAgree > len(r.Compare) {
				v.errorf(p+".min_agree", "%d is out of range; expected 1 to %d (the number of comparisons)", r.MinAgree, len(r.Compare))
			}
		} else {
			if r.MinAgree != 0 {
				v.errorf(p+".min_agree", "applies only to fuzzy rules")
			}
			if r.Threshold <= 0 {
				v.errorf(p+".threshold", "missing; weighted rules need a positive match weight threshold (e.g. 10)")
			}
		}
	}
}

func (v *validator) comparison(p, kind string, c *Comparison) {
	if strings.TrimSpace(c.Attribute) == "" {
		v.errorf(p+".attribute", "missing; expected the attribute compared")
	}
	v.oneOf(p+".method", c.Method, methods, true)
	if c.Tolerance < 0 {
		v.errorf(p+".tolerance", "%g is negative", c.Tolerance)
	}
	if c.Tolerance != 0 && c.Method != CompareNumber {
		v.errorf(p+".tolerance", "applies only to method number")
	}
	if kind == RuleFuzzy {
		if c.Threshold <= 0 || c.Threshold > 1 {
			v.errorf(p+".threshold", "%g is out of range; fuzzy comparisons need a similarity threshold in (0, 1]", c.Threshold)
		}
		if len(c.Levels) > 0 {
			v.errorf(p+".levels", "apply only to weighted rules")
		}
		return
	}
	if c.Threshold != 0 {
		v.errorf(p+".threshold", "applies only to fuzzy rules; weighted comparisons have levels")
	}
	if c.Optional {
		v.errorf(p+".optional", "applies only to fuzzy rules; missing values weigh 0 in weighted rules")
	}
	if len(c.Levels) == 0 {
		v.errorf(p+".levels", "missing; weighted comparisons need at least one level with min, m and u")
	}
	var sm, su float64
	for j, l := range c.Levels {
		lp := indexPath(p+".levels", j)
		if l.Min < 0 || l.Min > 1 {
			v.errorf(lp+".min", "%g is out of range [0, 1]", l.Min)
		}
		if j > 0 && l.Min >= c.Levels[j-1].Min {
			v.errorf(lp+".min", "%g is not below the previous level's %g; list levels from the most similar", l.Min, c.Levels[j-1].Min)
		}
		if l.M <= 0 || l.M >= 1 {
			v.errorf(lp+".m", "%g is out of range; expected a probability strictly between 0 and 1", l.M)
		}
		if l.U <= 0 || l.U >= 1 {
			v.errorf(lp+".u", "%g is out of range; expected a probability strictly between 0 and 1", l.U)
		}
		sm += l.M
		su += l.U
	}
	if len(c.Levels) > 0 && (sm >= 1 || su >= 1) {
		v.errorf(p+".levels", "m sum to %g and u to %g; each must stay below 1 (the rest is the disagreement level)", sm, su)
	}
}

func (v *validator) placeholders(p string, ph *Placeholders) {
	if len(ph.Attributes) == 0 {
		v.errorf(p+".attributes", "missing; expected the attributes that agree among one person's records (e.g. last_name_key)")
	}
	for j, a := range ph.Attributes {
		if strings.TrimSpace(a) == "" {
			v.errorf(indexPath(p+".attributes", j), "empty; expected an attribute name")
		}
	}
	if ph.MaxDistinct < 0 {
		v.errorf(p+".max_distinct", "%d is negative", ph.MaxDistinct)
	}
}

func (v *validator) golden(g *Golden) {
	s := &g.Survivorship
	v.oneOf("golden.survivorship.default", s.Default, strategies, false)
	for _, t := range slices.Sorted(maps.Keys(s.Types)) {
		p := childPath("golden.survivorship.types", t)
		if !slices.Contains(fieldTypes, t) {
			v.errorf(p, "%q is not a field type; expected one of %s", t, strings.Join(fieldTypes, ", "))
		}
		v.oneOf(p, s.Types[t], strategies, true)
	}
	for _, a := range slices.Sorted(maps.Keys(s.Attributes)) {
		if strings.HasPrefix(a, "consent.") {
			v.errorf(childPath("golden.survivorship.attributes", a), "consent attributes keep the latest observation (a withdrawal wins a tie); their strategy cannot be set")
			continue
		}
		v.oneOf(childPath("golden.survivorship.attributes", a), s.Attributes[a], strategies, true)
	}
	names := make(map[string]string)
	for i := range g.Aggregates {
		a := &g.Aggregates[i]
		p := indexPath("golden.aggregates", i)
		switch {
		case a.Name == "":
			v.errorf(p+".name", "missing; expected a name such as orders_count")
		case !identifierNamePattern.MatchString(a.Name):
			v.errorf(p+".name", "%q must match %s", a.Name, identifierNamePattern)
		}
		v.unique(names, "aggregate", a.Name, p+".name")
		v.oneOf(p+".function", a.Function, aggregates, true)
		switch a.Function {
		case AggSum, AggMin, AggMax:
			if a.Property == "" {
				v.errorf(p+".property", "missing; %s needs the numeric event property it reads", a.Function)
			}
		case AggFirst, AggLast:
			if a.Property != "" {
				v.errorf(p+".property", "not allowed with %s, which keeps an event timestamp", a.Function)
			}
		}
	}
}

func (v *validator) identifierNames() string {
	names := make([]string, 0, len(v.cfg.Identifiers))
	for _, it := range v.cfg.Identifiers {
		if it.Name != "" {
			names = append(names, it.Name)
		}
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}
