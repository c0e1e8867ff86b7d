// Package identity decides which records belong to the same person.
//
// An Engine compiles the ordered, named match rules of aurum.yaml:
//
//   - exact rules on identifiers: records sharing a value of one of the
//     rule's identifier types match;
//   - exact rules on a composite key: records whose values of all the
//     rule's attributes are present and equal match;
//   - fuzzy rules: records sharing a blocking key are compared field by
//     field (Jaro-Winkler, Levenshtein, Damerau, name, token, date,
//     number) and match when enough comparisons reach their threshold;
//   - weighted rules: the same comparisons give Fellegi-Sunter match
//     weights (log2 m/u of the agreement level reached) whose sum must
//     reach the rule's threshold.
//
// Two records are linked by the first rule that matches them; clusters
// are the connected components of the links, subject to merge protection
// (max identifiers of a type per profile, do-not-merge assertions, and
// quarantined placeholder values). The same Engine serves the streaming
// pipeline, which finds candidates through index keys (Keys), and batch
// resolution (Resolve), which builds the same indexes in memory; neither
// ever compares all pairs.
package identity

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/model/profile"
)

// DefaultMaxBlockSize bounds a block unless the rule says otherwise.
const DefaultMaxBlockSize = 200

// DefaultMaxDistinct is the placeholder detection's default
// max_distinct.
const DefaultMaxDistinct = 3

// Rule kinds.
const (
	KindIdentifier = "identifier" // exact on identifiers
	KindComposite  = "composite"  // exact on a composite key of attributes
	KindFuzzy      = config.RuleFuzzy
	KindWeighted   = config.RuleWeighted
)

// Link is an identifier that may join a record to a profile, and the rule
// that allows it.
type Link struct {
	Identifier profile.Identifier
	Rule       string
	// Priority is the identifier type's priority (0 is the highest).
	Priority int
}

// Engine applies the match rules. It is immutable and safe for
// concurrent use.
type Engine struct {
	rules []*rule
	// idRule maps an identifier type to the first rule that links on it.
	idRule   map[string]*rule
	types    map[string]typeInfo
	typeList []string
	ph       *placeholders
}

type typeInfo struct {
	priority   int
	max        int
	onConflict string
}

type placeholders struct {
	attrs       []string
	maxDistinct int
}

type rule struct {
	index     int
	name      string
	kind      string
	idTypes   []string
	attrs     []string
	blocking  [][]config.KeyPart
	cmps      []comparator
	minAgree  int
	threshold float64
	maxBlock  int
}

type comparator struct {
	attr      string
	method    string
	threshold float64
	optional  bool
	tolerance float64
	levels    []level
	// elseWeight is the weight of a similarity below every level.
	elseWeight float64
}

type level struct {
	min    float64
	weight float64
}

// New compiles the identity rules (nil: none) over the declared
// identifier types, in priority order (aurum.yaml's identifiers and
// identity sections). With no rules configured, every declared
// identifier type links exactly, under a rule named "exact_<type>". The
// configuration should have been validated; New reports what it cannot
// compile.
func New(types []config.IdentifierType, rules *config.Identity) (*Engine, error) {
	if rules == nil {
		rules = &config.Identity{}
	}
	e := &Engine{idRule: map[string]*rule{}, types: map[string]typeInfo{}}
	for i, it := range types {
		oc := it.OnConflict
		if oc == "" {
			oc = config.ConflictRefuse
		}
		e.types[it.Name] = typeInfo{priority: i, max: it.MaxPerProfile, onConflict: oc}
		e.typeList = append(e.typeList, it.Name)
	}
	for i, mr := range matchRules(types, rules.Rules) {
		r, err := compileRule(i, mr)
		if err != nil {
			return nil, fmt.Errorf("identity: rule %q: %w", mr.Name, err)
		}
		e.rules = append(e.rules, r)
		for _, t := range r.idTypes {
			if _, ok := e.types[t]; !ok {
				return nil, fmt.Errorf("identity: rule %q: identifier type %q is not declared", mr.Name, t)
			}
			if _, ok := e.idRule[t]; !ok {
				e.idRule[t] = r
			}
		}
	}
	if ph := rules.Placeholders; ph != nil {
		e.ph = &placeholders{attrs: ph.Attributes, maxDistinct: ph.MaxDistinct}
		if e.ph.maxDistinct <= 0 {
			e.ph.maxDistinct = DefaultMaxDistinct
		}
	}
	return e, nil
}

// matchRules returns the configured rules, or without any one exact rule
// per identifier type.
func matchRules(types []config.IdentifierType, rules []config.MatchRule) []config.MatchRule {
	if len(rules) > 0 {
		return rules
	}
	var exact []config.MatchRule
	for _, it := range types {
		exact = append(exact, config.MatchRule{Name: "exact_" + it.Name, Kind: config.RuleExact, Identifiers: []string{it.Name}})
	}
	return exact
}

// compileRule compiles match rule mr, the i-th.
func compileRule(i int, mr config.MatchRule) (*rule, error) {
	r := &rule{index: i, name: mr.Name, threshold: mr.Threshold, maxBlock: mr.MaxBlockSize, minAgree: mr.MinAgree}
	if r.maxBlock <= 0 {
		r.maxBlock = DefaultMaxBlockSize
	}
	switch mr.Kind {
	case config.RuleExact, "":
		if err := r.compileExact(mr); err != nil {
			return nil, err
		}
		return r, nil
	case config.RuleFuzzy, config.RuleWeighted:
		r.kind = mr.Kind
	default:
		return nil, fmt.Errorf("unknown kind %q", mr.Kind)
	}
	if len(mr.Blocking) == 0 || len(mr.Compare) == 0 {
		return nil, fmt.Errorf("%s rule needs blocking keys and comparisons", mr.Kind)
	}
	var err error
	if r.blocking, err = compileBlocking(mr.Blocking); err != nil {
		return nil, err
	}
	for _, c := range mr.Compare {
		cmp, err := compileComparison(c, mr.Kind == config.RuleWeighted)
		if err != nil {
			return nil, err
		}
		r.cmps = append(r.cmps, cmp)
	}
	if r.kind == KindFuzzy && (r.minAgree <= 0 || r.minAgree > len(r.cmps)) {
		r.minAgree = len(r.cmps)
	}
	return r, nil
}

// compileExact makes r an exact rule on identifiers or on a composite key
// of attributes.
func (r *rule) compileExact(mr config.MatchRule) error {
	switch {
	case len(mr.Identifiers) > 0:
		r.kind, r.idTypes = KindIdentifier, mr.Identifiers
	case len(mr.Attributes) > 0:
		r.kind, r.attrs = KindComposite, mr.Attributes
	default:
		return fmt.Errorf("exact rule without identifiers or attributes")
	}
	return nil
}

// compileBlocking parses the blocking keys.
func compileBlocking(keys [][]string) ([][]config.KeyPart, error) {
	var out [][]config.KeyPart
	for _, key := range keys {
		var parts []config.KeyPart
		for _, s := range key {
			p, err := config.ParseKeyPart(s)
			if err != nil {
				return nil, fmt.Errorf("blocking key: %w", err)
			}
			parts = append(parts, p)
		}
		out = append(out, parts)
	}
	return out, nil
}

// compileComparison compiles one comparison; for a weighted rule its
// levels become match weights (log2 m/u), the rest of the probability
// mass the weight below every level.
func compileComparison(c config.Comparison, weighted bool) (comparator, error) {
	cmp := comparator{attr: c.Attribute, method: c.Method, threshold: c.Threshold, optional: c.Optional, tolerance: c.Tolerance}
	if !weighted {
		return cmp, nil
	}
	var sm, su float64
	for _, l := range c.Levels {
		if l.M <= 0 || l.U <= 0 {
			return comparator{}, fmt.Errorf("comparison %s: m and u must be positive", c.Attribute)
		}
		cmp.levels = append(cmp.levels, level{min: l.Min, weight: math.Log2(l.M / l.U)})
		sm += l.M
		su += l.U
	}
	if sm >= 1 || su >= 1 {
		return comparator{}, fmt.Errorf("comparison %s: m and u must each sum below 1", c.Attribute)
	}
	cmp.elseWeight = math.Log2((1 - sm) / (1 - su))
	return cmp, nil
}

// Rules returns the names of the rules in order.
func (e *Engine) Rules() []string {
	names := make([]string, len(e.rules))
	for i, r := range e.rules {
		names[i] = r.name
	}
	return names
}

// Links returns the identifiers of rec that may link it to profiles under
// exact identifier rules, in the record's order (the mapper orders
// identifiers by type priority).
func (e *Engine) Links(rec profile.Record) []Link {
	links := make([]Link, 0, len(rec.Identifiers))
	for _, id := range rec.Identifiers {
		if r, ok := e.idRule[id.Type]; ok {
			links = append(links, Link{Identifier: id, Rule: r.name, Priority: e.types[id.Type].priority})
		}
	}
	return links
}

// Text renders an attribute value for matching: strings trimmed and
// lower-cased, numbers in their shortest form, lists and objects as JSON.
// A missing or empty value is "".
func Text(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return strings.ToLower(strings.TrimSpace(x))
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case json.Number:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	default:
		b, err := json.Marshal(x)
		if err != nil {
			return ""
		}
		return string(b)
	}
}

func attr(rec *profile.Record, name string) string {
	return Text(rec.Attributes[name])
}

// Key is an index key of a record: records with equal keys are candidates
// of the key's rule. Value is the key's text (not hashed); the pipeline
// hashes it before storing.
type Key struct {
	Rule  string
	Value string
}

// String renders the key as rule + NUL-free separator + value.
func (k Key) String() string { return k.Rule + "\x1f" + k.Value }

// Keys returns the index keys of rec for composite, fuzzy and weighted
// rules: the composite key, and every blocking key the record has (parts
// whose attribute is missing make no key).
func (e *Engine) Keys(rec profile.Record) []Key {
	var keys []Key
	for _, r := range e.rules {
		keys = append(keys, r.keys(&rec)...)
	}
	return keys
}

func (r *rule) keys(rec *profile.Record) []Key {
	switch r.kind {
	case KindComposite:
		if v, ok := r.compositeKey(rec); ok {
			return []Key{{Rule: r.name, Value: v}}
		}
		return nil
	case KindFuzzy, KindWeighted:
		var keys []Key
		for i, parts := range r.blocking {
			if v, ok := blockKey(rec, parts); ok {
				k := Key{Rule: r.name, Value: strconv.Itoa(i) + ":" + v}
				if !containsKey(keys, k) {
					keys = append(keys, k)
				}
			}
		}
		return keys
	}
	return nil
}

func containsKey(keys []Key, k Key) bool {
	for _, x := range keys {
		if x == k {
			return true
		}
	}
	return false
}

func (r *rule) compositeKey(rec *profile.Record) (string, bool) {
	vals := make([]string, len(r.attrs))
	for i, a := range r.attrs {
		v := attr(rec, a)
		if v == "" {
			return "", false
		}
		vals[i] = v
	}
	return strings.Join(vals, "\x1f"), true
}

func blockKey(rec *profile.Record, parts []config.KeyPart) (string, bool) {
	vals := make([]string, len(parts))
	for i, p := range parts {
		v := keyPart(attr(rec, p.Attribute), p)
		if v == "" {
			return "", false
		}
		vals[i] = v
	}
	return strings.Join(vals, "\x1f"), true
}

func keyPart(v string, p config.KeyPart) string {
	if v == "" {
		return ""
	}
	switch p.Func {
	case "":
		return v
	case "soundex":
		return Soundex(v)
	case "prefix":
		r := []rune(v)
		return string(r[:min(p.N, len(r))])
	case "suffix":
		r := []rune(v)
		return string(r[max(0, len(r)-p.N):])
	case "year":
		d := digitsOf(v)
		if len(d) < 4 {
			return ""
		}
		return d[:4]
	case "digits":
		return digitsOf(v)
	case "first_token":
		t := tokens(v)
		if len(t) == 0 {
			return ""
		}
		return t[0]
	case "last_token":
		t := tokens(v)
		if len(t) == 0 {
			return ""
		}
		return t[len(t)-1]
	case "sorted_tokens":
		return sortedTokens(v)
	}
	return ""
}
