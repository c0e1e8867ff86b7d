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

	triggers := make(map[string]string)
	for i, tr := range c.Triggers {
		p := indexPath("triggers", i)
		if tr.ID == "" {
			v.errorf(p+".id", "missing; every trigger needs a unique id")
		}
		v.unique(triggers, "trigger id", tr.ID, p+".id")
	}
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
	case KindFile, KindBus:
		if len(src.WriteKeys) > 0 {
			v.errorf(p+".write_keys", "apply only to api and webhook sources")
		}
	}
	for j := range src.WriteKeys {
		v.secretRef(indexPath(p+".write_keys", j), &src.WriteKeys[j])
	}

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
	if len(r.Identifiers) == 0 {
		v.errorf(p+".identifiers", "missing; expected at least one identifier type: %s", v.identifierNames())
	}
	for j, name := range r.Identifiers {
		if _, ok := v.cfg.IdentifierType(name); !ok {
			v.errorf(indexPath(p+".identifiers", j), "%q is not a declared identifier type; declared: %s", name, v.identifierNames())
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
