package pattern

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strings"

	"github.com/aurum-cdp/aurum/shared/model/fault"
)

// Limits that protect the matcher from pathological patterns. EventBridge has
// its own (undocumented in detail) complexity limits; these are Aurum's.
const (
	// maxBranches bounds how many alternatives $or may expand into.
	maxBranches = 1024
	// maxPatternDepth bounds the nesting of a pattern document.
	maxPatternDepth = 64
)

// Operator names. Inside a $or alternative they may not be used as field
// names, as in EventBridge.
const (
	opPrefix      = "prefix"
	opSuffix      = "suffix"
	opIgnoreCase  = "equals-ignore-case"
	opWildcard    = "wildcard"
	opAnythingBut = "anything-but"
	opNumeric     = "numeric"
	opExists      = "exists"
	opCIDR        = "cidr"
	keyOr         = "$or"
)

var operatorNames = []string{opPrefix, opSuffix, opIgnoreCase, opWildcard, opAnythingBut, opNumeric, opExists, opCIDR}

// Pattern is a compiled EventBridge event pattern. It is immutable and safe
// for concurrent use.
type Pattern struct {
	// branches are alternatives produced by $or; the pattern matches when
	// any branch matches. A pattern without $or has one branch.
	branches [][]*field
	src      string
}

// field is one leaf path of a branch and the values it accepts.
type field struct {
	path     string
	matchers []matcher
	// exists is set by {"exists": true}: any leaf value matches.
	exists bool
	// absent is set by {"exists": false}: the field matches when the event
	// has no leaf value at path.
	absent bool
}

// accepts reports whether the leaf value l satisfies the field.
func (f *field) accepts(l *leaf) bool {
	if f.exists {
		return true
	}
	for _, m := range f.matchers {
		if m.match(l) {
			return true
		}
	}
	return false
}

// String returns the pattern's source JSON.
func (p *Pattern) String() string { return p.src }

// MarshalJSON returns the pattern's source JSON, so a Pattern can be embedded
// in configuration that is written back out.
func (p *Pattern) MarshalJSON() ([]byte, error) { return []byte(p.src), nil }

// UnmarshalJSON compiles a pattern embedded in a JSON document.
func (p *Pattern) UnmarshalJSON(b []byte) error {
	q, err := Parse(b)
	if err != nil {
		return err
	}
	*p = *q
	return nil
}

// Parse compiles an EventBridge event pattern. Invalid patterns yield
// an error wrapping fault.ErrInvalid that names the offending field.
func Parse(b []byte) (*Pattern, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	v, err := decodeOrdered(dec, 0)
	if err != nil {
		return nil, patternErr("", "not valid JSON: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, patternErr("", "unexpected data after the pattern object")
	}
	obj, ok := v.(*object)
	if !ok {
		return nil, patternErr("", "must be a JSON object")
	}
	branches, err := compileObject(obj, "", []branch{{}}, false)
	if err != nil {
		return nil, err
	}
	p := &Pattern{src: string(bytes.TrimSpace(b))}
	for _, br := range branches {
		p.branches = append(p.branches, br.fields())
	}
	return p, nil
}

func patternErr(path, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if path != "" {
		return fault.Invalidf("event pattern: %s: %s", path, msg)
	}
	return fault.Invalidf("event pattern: %s", msg)
}

// object is a JSON object that keeps its keys in document order, because
// EventBridge applies a pattern's keys in order ("if you include a key more
// than once the last reference will be the one used").
type object struct {
	keys []string
	vals []any
}

// decodeOrdered decodes one JSON value: *object, []any, string, json.Number,
// bool or nil.
func decodeOrdered(dec *json.Decoder, depth int) (any, error) {
	if depth > maxPatternDepth {
		return nil, fmt.Errorf("nested deeper than %d levels", maxPatternDepth)
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return tok, nil
	}
	switch d {
	case '{':
		obj := &object{}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return nil, err
			}
			key, ok := kt.(string)
			if !ok {
				return nil, fmt.Errorf("object key is not a string")
			}
			v, err := decodeOrdered(dec, depth+1)
			if err != nil {
				return nil, err
			}
			obj.keys = append(obj.keys, key)
			obj.vals = append(obj.vals, v)
		}
		if _, err := dec.Token(); err != nil {
			return nil, err
		}
		return obj, nil
	case '[':
		arr := []any{}
		for dec.More() {
			v, err := decodeOrdered(dec, depth+1)
			if err != nil {
				return nil, err
			}
			arr = append(arr, v)
		}
		if _, err := dec.Token(); err != nil {
			return nil, err
		}
		return arr, nil
	}
	return nil, fmt.Errorf("unexpected %v", d)
}

// branch maps a flattened field path to its field while compiling.
type branch map[string]*field

func (b branch) fields() []*field {
	out := make([]*field, 0, len(b))
	for _, f := range b {
		out = append(out, f)
	}
	slices.SortFunc(out, func(x, y *field) int { return strings.Compare(x.path, y.path) })
	return out
}

func copyBranches(bs []branch) []branch {
	out := make([]branch, len(bs))
	for i, b := range bs {
		c := make(branch, len(b))
		for k, v := range b {
			c[k] = v
		}
		out[i] = c
	}
	return out
}

func joinPath(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

func describePath(path string) string {
	if path == "" {
		return "(top level)"
	}
	return path
}

// compileObject applies the keys of obj (at path) to every branch. Fields
// are flattened with "." like EventBridge does, so {"a":{"b":[1]}} and
// {"a.b":[1]} compile to the same field.
func compileObject(obj *object, path string, branches []branch, inOr bool) ([]branch, error) {
	if len(obj.keys) == 0 {
		return nil, patternErr(describePath(path), "empty objects are not allowed")
	}
	for i, key := range obj.keys {
		val := obj.vals[i]
		if key == keyOr {
			alts, ok := val.([]any)
			if !ok {
				return nil, patternErr(joinPath(path, key), "$or must be an array of objects")
			}
			if len(alts) < 2 {
				return nil, patternErr(joinPath(path, key), "$or must contain at least 2 objects")
			}
			var next []branch
			for _, alt := range alts {
				o, ok := alt.(*object)
				if !ok {
					return nil, patternErr(joinPath(path, key), "$or may only contain objects")
				}
				forked, err := compileObject(o, path, copyBranches(branches), true)
				if err != nil {
					return nil, err
				}
				next = append(next, forked...)
				if len(next) > maxBranches {
					return nil, patternErr(joinPath(path, key), "$or expands to more than %d combinations", maxBranches)
				}
			}
			branches = next
			continue
		}
		fieldPath := joinPath(path, key)
		if inOr && slices.Contains(operatorNames, key) {
			return nil, patternErr(fieldPath, "%q is an operator and cannot be a field name inside $or", key)
		}
		switch v := val.(type) {
		case *object:
			var err error
			branches, err = compileObject(v, fieldPath, branches, inOr)
			if err != nil {
				return nil, err
			}
		case []any:
			f, err := compileValues(v, fieldPath)
			if err != nil {
				return nil, err
			}
			for _, b := range branches {
				b[fieldPath] = f
			}
		default:
			return nil, patternErr(fieldPath, "value must be an object or an array")
		}
	}
	return branches, nil
}

// compileValues compiles the array of allowed values of one field.
func compileValues(vals []any, path string) (*field, error) {
	if len(vals) == 0 {
		return nil, patternErr(path, "empty arrays are not allowed")
	}
	f := &field{path: path}
	for _, v := range vals {
		switch t := v.(type) {
		case string:
			f.matchers = append(f.matchers, exactString(t))
		case json.Number:
			f.matchers = append(f.matchers, exactNumber(t))
		case bool:
			if t {
				f.matchers = append(f.matchers, exactKind(kindTrue))
			} else {
				f.matchers = append(f.matchers, exactKind(kindFalse))
			}
		case nil:
			f.matchers = append(f.matchers, exactKind(kindNull))
		case *object:
			m, exists, err := compileOperator(t, path)
			if err != nil {
				return nil, err
			}
			switch {
			case exists == existsTrue:
				f.exists = true
			case exists == existsFalse:
				f.absent = true
			default:
				f.matchers = append(f.matchers, m)
			}
		default:
			return nil, patternErr(path, "match values must be strings, numbers, true, false, null or operator objects")
		}
	}
	return f, nil
}

type existsKind int

const (
	existsNone existsKind = iota
	existsTrue
	existsFalse
)

// compileOperator compiles one {"operator": argument} object.
func compileOperator(o *object, path string) (matcher, existsKind, error) {
	if len(o.keys) == 0 {
		return nil, existsNone, patternErr(path, "empty operator object")
	}
	if len(o.keys) > 1 {
		return nil, existsNone, patternErr(path, "only one key allowed in a match expression, got %d", len(o.keys))
	}
	name, arg := o.keys[0], o.vals[0]
	switch name {
	case opPrefix, opSuffix:
		s, fold, err := stringOrIgnoreCase(arg, name, path)
		if err != nil {
			return nil, existsNone, err
		}
		if name == opPrefix {
			return prefixMatcher{s: s, fold: fold}, existsNone, nil
		}
		return suffixMatcher{s: s, fold: fold}, existsNone, nil
	case opIgnoreCase:
		s, ok := arg.(string)
		if !ok {
			return nil, existsNone, patternErr(path, "equals-ignore-case must be a string")
		}
		return ignoreCaseMatcher(s), existsNone, nil
	case opWildcard:
		s, ok := arg.(string)
		if !ok {
			return nil, existsNone, patternErr(path, "wildcard must be a string")
		}
		w, err := parseWildcard(s)
		if err != nil {
			return nil, existsNone, patternErr(path, "wildcard: %v", err)
		}
		return w, existsNone, nil
	case opExists:
		b, ok := arg.(bool)
		if !ok {
			return nil, existsNone, patternErr(path, "exists must be true or false")
		}
		if b {
			return nil, existsTrue, nil
		}
		return nil, existsFalse, nil
	case opCIDR:
		s, ok := arg.(string)
		if !ok {
			return nil, existsNone, patternErr(path, "cidr must be a string")
		}
		pfx, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, existsNone, patternErr(path, "cidr: %q is not a valid CIDR block", s)
		}
		return cidrMatcher{pfx.Masked()}, existsNone, nil
	case opNumeric:
		arr, ok := arg.([]any)
		if !ok {
			return nil, existsNone, patternErr(path, "numeric must be an array such as [\">\", 0, \"<=\", 5]")
		}
		m, err := compileNumeric(arr, path)
		return m, existsNone, err
	case opAnythingBut:
		m, err := compileAnythingBut(arg, path)
		return m, existsNone, err
	}
	return nil, existsNone, patternErr(path, "unknown operator %q", name)
}

// stringOrIgnoreCase accepts "s" or {"equals-ignore-case": "s"} (the forms
// of prefix and suffix).
func stringOrIgnoreCase(arg any, op, path string) (string, bool, error) {
	switch t := arg.(type) {
	case string:
		return t, false, nil
	case *object:
		if len(t.keys) == 1 && t.keys[0] == opIgnoreCase {
			if s, ok := t.vals[0].(string); ok {
				return s, true, nil
			}
		}
	}
	return "", false, patternErr(path, "%s must be a string or {\"equals-ignore-case\": string}", op)
}

// compileNumeric compiles ["op", n] or [">"|">=", lo, "<"|"<=", hi].
func compileNumeric(arr []any, path string) (matcher, error) {
	opAt := func(i int) (string, error) {
		s, ok := arr[i].(string)
		if !ok {
			return "", patternErr(path, "numeric: element %d must be an operator string", i)
		}
		return s, nil
	}
	numAt := func(i int, op string) (int64, error) {
		if i >= len(arr) {
			return 0, patternErr(path, "numeric: operator %q needs a number", op)
		}
		n, ok := arr[i].(json.Number)
		if !ok {
			return 0, patternErr(path, "numeric: value of %q must be a number", op)
		}
		k, ok := numberKey(string(n))
		if !ok {
			return 0, patternErr(path, "numeric: %s is outside the supported range %s", n, numberRange)
		}
		return k, nil
	}
	if len(arr) == 0 {
		return nil, patternErr(path, "numeric: empty expression")
	}
	op, err := opAt(0)
	if err != nil {
		return nil, err
	}
	v, err := numAt(1, op)
	if err != nil {
		return nil, err
	}
	r := numericMatcher{}
	switch op {
	case "=":
		r.lo, r.hi, r.hasLo, r.hasHi = v, v, true, true
	case "<", "<=":
		r.hi, r.hasHi, r.hiOpen = v, true, op == "<"
	case ">", ">=":
		r.lo, r.hasLo, r.loOpen = v, true, op == ">"
		if len(arr) > 2 {
			op2, err := opAt(2)
			if err != nil {
				return nil, err
			}
			if op2 != "<" && op2 != "<=" {
				return nil, patternErr(path, "numeric: after %q only \"<\" or \"<=\" may follow, got %q", op, op2)
			}
			hi, err := numAt(3, op2)
			if err != nil {
				return nil, err
			}
			if hi <= v {
				return nil, patternErr(path, "numeric: lower bound must be less than upper bound")
			}
			r.hi, r.hasHi, r.hiOpen = hi, true, op2 == "<"
			if len(arr) > 4 {
				return nil, patternErr(path, "numeric: too many elements")
			}
		}
		return r, nil
	default:
		return nil, patternErr(path, "numeric: unknown operator %q (want =, <, <=, > or >=)", op)
	}
	if len(arr) > 2 {
		return nil, patternErr(path, "numeric: too many elements after %q", op)
	}
	return r, nil
}

// compileAnythingBut compiles the argument of anything-but: a string, a
// number, a list of only strings or only numbers, or one of {"prefix": s},
// {"suffix": s}, {"equals-ignore-case": s | [s...]}, {"wildcard": s | [s...]}.
func compileAnythingBut(arg any, path string) (matcher, error) {
	switch t := arg.(type) {
	case string:
		return anythingButStrings{t: {}}, nil
	case json.Number:
		k, ok := numberKey(string(t))
		if !ok {
			return nil, patternErr(path, "anything-but: %s is outside the supported range %s", t, numberRange)
		}
		return anythingButNumbers{k: {}}, nil
	case []any:
		return compileAnythingButList(t, path)
	case *object:
		if len(t.keys) != 1 {
			return nil, patternErr(path, "anything-but: only one key allowed in a match expression")
		}
		name, v := t.keys[0], t.vals[0]
		switch name {
		case opPrefix, opSuffix:
			s, ok := v.(string)
			if !ok {
				return nil, patternErr(path, "anything-but: %s must be a string", name)
			}
			if s == "" {
				return nil, patternErr(path, "anything-but: %s must not be empty", name)
			}
			if name == opPrefix {
				return anythingBut{prefixMatcher{s: s}}, nil
			}
			return anythingBut{suffixMatcher{s: s}}, nil
		case opIgnoreCase:
			list, err := stringOrList(v, path, name)
			if err != nil {
				return nil, err
			}
			ms := make(anyOf, len(list))
			for i, s := range list {
				ms[i] = ignoreCaseMatcher(s)
			}
			return anythingBut{ms}, nil
		case opWildcard:
			list, err := stringOrList(v, path, name)
			if err != nil {
				return nil, err
			}
			ms := make(anyOf, len(list))
			for i, s := range list {
				w, err := parseWildcard(s)
				if err != nil {
					return nil, patternErr(path, "anything-but: wildcard: %v", err)
				}
				ms[i] = w
			}
			return anythingBut{ms}, nil
		}
		return nil, patternErr(path, "anything-but: unsupported operator %q (want prefix, suffix, equals-ignore-case or wildcard)", name)
	}
	return nil, patternErr(path, "anything-but must be a string, a number, a list of strings or numbers, or an object")
}

func compileAnythingButList(list []any, path string) (matcher, error) {
	if len(list) == 0 {
		return nil, patternErr(path, "anything-but: empty list")
	}
	strs := anythingButStrings{}
	nums := anythingButNumbers{}
	for _, v := range list {
		switch t := v.(type) {
		case string:
			strs[t] = struct{}{}
		case json.Number:
			k, ok := numberKey(string(t))
			if !ok {
				return nil, patternErr(path, "anything-but: %s is outside the supported range %s", t, numberRange)
			}
			nums[k] = struct{}{}
		default:
			return nil, patternErr(path, "anything-but: list values must be strings or numbers")
		}
	}
	if len(strs) > 0 && len(nums) > 0 {
		return nil, patternErr(path, "anything-but: list must hold only strings or only numbers")
	}
	if len(nums) > 0 {
		return nums, nil
	}
	return strs, nil
}

func stringOrList(v any, path, op string) ([]string, error) {
	switch t := v.(type) {
	case string:
		return []string{t}, nil
	case []any:
		if len(t) == 0 {
			return nil, patternErr(path, "anything-but: %s list is empty", op)
		}
		out := make([]string, len(t))
		for i, e := range t {
			s, ok := e.(string)
			if !ok {
				return nil, patternErr(path, "anything-but: %s list must hold only strings", op)
			}
			out[i] = s
		}
		return out, nil
	}
	return nil, patternErr(path, "anything-but: %s must be a string or a list of strings", op)
}
