package config

import (
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml/ast"
	"github.com/hbollon/go-edlib"
)

// maxExpandedNodes bounds the size of a document once aliases are expanded,
// so a small file cannot make Parse do unbounded work ("billion laughs").
const maxExpandedNodes = 1 << 20

var (
	configType = reflect.TypeFor[Config]()
	fieldType  = reflect.TypeFor[Field]()
)

// shape checks a YAML document against the Go types before decoding: it
// reports every unknown key and every value of the wrong kind (not only the
// first, as the decoder does), and it indexes every node by its path
// (sources[1].kind) so that semantic errors can name a position.
type shape struct {
	file    string
	errs    Errors
	values  map[string]ast.Node // path → value node
	keys    map[string]ast.Node // path → key node
	anchors map[string]ast.Node // anchor name → anchored value
	seen    map[seenKey]bool    // anchored values already checked, per type
	cycle   ast.Node            // an alias inside the anchor it refers to
}

type seenKey struct {
	node ast.Node
	typ  reflect.Type
}

func newShape(file string, body ast.Node) *shape {
	s := &shape{
		file:    file,
		values:  make(map[string]ast.Node),
		keys:    make(map[string]ast.Node),
		anchors: make(map[string]ast.Node),
		seen:    make(map[seenKey]bool),
	}
	ast.Walk(prepass{s}, body)
	return s
}

// prepass records every anchor of a document and reports tags.
type prepass struct{ s *shape }

func (p prepass) Visit(n ast.Node) ast.Visitor {
	switch v := n.(type) {
	case *ast.AnchorNode:
		if v.Name != nil && v.Value != nil {
			p.s.anchors[v.Name.GetToken().Value] = v.Value
		}
	case *ast.TagNode:
		// Tags have no use in aurum.yaml, and the decoder mishandles some
		// (found by FuzzParse).
		tag := ""
		if v.Start != nil {
			tag = v.Start.Value
		}
		p.s.errorf(v, "", "YAML tag %q is not supported; write a plain value (quote it to make it a string)", tag)
	}
	return p
}

// expandedSize counts the nodes of n with every alias expanded, stopping
// once the count exceeds maxExpandedNodes. An alias to an enclosing anchor
// counts as too large.
func (s *shape) expandedSize(n ast.Node, memo map[ast.Node]int) int {
	if n == nil {
		return 0
	}
	if v, ok := memo[n]; ok {
		if v < 0 { // in progress: an alias inside the anchor it refers to
			return maxExpandedNodes + 1
		}
		return v
	}
	memo[n] = -1
	size := 1
	add := func(c ast.Node) {
		if size <= maxExpandedNodes {
			size += s.expandedSize(c, memo)
		}
	}
	switch n := n.(type) {
	case *ast.AliasNode:
		if n.Value != nil {
			target := s.anchors[n.Value.GetToken().Value]
			if memo[target] < 0 && s.cycle == nil {
				s.cycle = n
			}
			add(target)
		}
	case *ast.AnchorNode:
		add(n.Value)
	case *ast.TagNode:
		add(n.Value)
	case *ast.MappingNode:
		for _, v := range n.Values {
			add(v)
		}
	case *ast.MappingValueNode:
		add(n.Key)
		add(n.Value)
	case *ast.SequenceNode:
		for _, v := range n.Values {
			add(v)
		}
	}
	memo[n] = size
	return size
}

func (s *shape) errorf(n ast.Node, path, format string, args ...any) {
	line, col := nodePos(n)
	s.errs = append(s.errs, &Error{File: s.file, Line: line, Column: col, Path: path, Msg: fmt.Sprintf(format, args...)})
}

// unwrap strips tags and anchors. An alias is replaced by its anchored value
// unless that value was already checked as type t; then unwrap returns nil.
func (s *shape) unwrap(n ast.Node, t reflect.Type) ast.Node {
	for range 64 {
		switch v := n.(type) {
		case *ast.TagNode:
			n = v.Value
		case *ast.AnchorNode:
			n = v.Value
			s.seen[seenKey{n, t}] = true
		case *ast.AliasNode:
			if v.Value == nil {
				return nil
			}
			target := s.anchors[v.Value.GetToken().Value]
			if target == nil || s.seen[seenKey{target, t}] {
				return nil
			}
			s.seen[seenKey{target, t}] = true
			n = target
		default:
			return n
		}
		if n == nil {
			return nil
		}
	}
	return nil
}

// strip removes tags and anchors, keeping aliases.
func strip(n ast.Node) ast.Node {
	for {
		switch v := n.(type) {
		case *ast.TagNode:
			if v.Value == nil {
				return n
			}
			n = v.Value
		case *ast.AnchorNode:
			if v.Value == nil {
				return n
			}
			n = v.Value
		default:
			return n
		}
	}
}

// hasTag reports whether n, under any anchors, is tagged.
func hasTag(n ast.Node) bool {
	for {
		switch v := n.(type) {
		case *ast.TagNode:
			return true
		case *ast.AnchorNode:
			n = v.Value
		default:
			return false
		}
	}
}

// walk checks node n against Go type t at path.
func (s *shape) walk(n ast.Node, t reflect.Type, path string) {
	if n == nil {
		return
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if _, ok := s.values[path]; !ok {
		s.values[path] = strip(n)
	}
	if hasTag(n) {
		return // reported by the prepass
	}
	n = s.unwrap(n, t)
	if n == nil || n.Type() == ast.NullType {
		return // null is the zero value of any type
	}
	switch t.Kind() {
	case reflect.Struct:
		if t == fieldType && isString(n) {
			return // shorthand: "E-mail" means {field: "E-mail"}
		}
		if !isMapping(n) {
			s.errorf(n, path, "expected %s, got %s", want(t), describe(n))
			return
		}
		fields := yamlFields(t)
		s.eachEntry(n, t, func(key ast.Node, name string, value ast.Node) {
			p := childPath(path, name)
			f, ok := fields[name]
			if !ok {
				s.errorf(key, p, "unknown key %q; %s", name, expectedKeys(name, fields))
				return
			}
			s.keys[p] = key
			s.walk(value, f.Type, p)
		})
	case reflect.Map:
		if !isMapping(n) {
			s.errorf(n, path, "expected %s, got %s", want(t), describe(n))
			return
		}
		s.eachEntry(n, t, func(key ast.Node, name string, value ast.Node) {
			p := childPath(path, name)
			s.keys[p] = key
			s.walk(value, t.Elem(), p)
		})
	case reflect.Slice:
		seq, ok := n.(*ast.SequenceNode)
		if !ok {
			s.errorf(n, path, "expected %s, got %s", want(t), describe(n))
			return
		}
		for i, v := range seq.Values {
			s.walk(v, t.Elem(), indexPath(path, i))
		}
	case reflect.String:
		if !isScalar(n) {
			s.errorf(n, path, "expected %s, got %s", want(t), describe(n))
		}
	case reflect.Int:
		in, ok := n.(*ast.IntegerNode)
		if !ok {
			s.errorf(n, path, "expected %s, got %s", want(t), describe(n))
			return
		}
		if u, ok := in.Value.(uint64); ok && u > math.MaxInt {
			s.errorf(n, path, "%s is out of range", in.GetToken().Value)
		}
	case reflect.Float64:
		switch n.(type) {
		case *ast.IntegerNode, *ast.FloatNode:
		default:
			s.errorf(n, path, "expected %s, got %s", want(t), describe(n))
		}
	case reflect.Bool:
		if n.Type() != ast.BoolType {
			s.errorf(n, path, "expected %s, got %s", want(t), describe(n))
		}
	}
}

// eachEntry calls fn for every key of mapping n, following merge keys
// (<<: *base), which are checked as the same type t.
func (s *shape) eachEntry(n ast.Node, t reflect.Type, fn func(key ast.Node, name string, value ast.Node)) {
	var values []*ast.MappingValueNode
	switch m := n.(type) {
	case *ast.MappingNode:
		values = m.Values
	case *ast.MappingValueNode:
		values = []*ast.MappingValueNode{m}
	}
	for _, mv := range values {
		if mv.Key == nil {
			continue
		}
		if mv.Key.Type() == ast.MergeKeyType {
			s.merge(mv.Value, t, fn)
			continue
		}
		name := ""
		if tk := mv.Key.GetToken(); tk != nil {
			name = tk.Value
		}
		if sk, ok := mv.Key.(*ast.StringNode); ok {
			name = sk.Value
		}
		fn(mv.Key, name, mv.Value)
	}
}

func (s *shape) merge(n ast.Node, t reflect.Type, fn func(key ast.Node, name string, value ast.Node)) {
	if seq, ok := strip(n).(*ast.SequenceNode); ok {
		for _, v := range seq.Values {
			s.merge(v, t, fn)
		}
		return
	}
	if m := s.unwrap(n, t); m != nil && isMapping(m) {
		s.eachEntry(m, t, fn)
	}
}

// yamlFields maps the yaml key names of struct t to its fields, flattening
// inline structs. An outer field shadows an inline one of the same name.
func yamlFields(t reflect.Type) map[string]reflect.StructField {
	fields := make(map[string]reflect.StructField)
	var add func(t reflect.Type)
	add = func(t reflect.Type) {
		var inline []reflect.Type
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			tag := f.Tag.Get("yaml")
			name, opts, _ := strings.Cut(tag, ",")
			if name == "-" {
				continue
			}
			if slices.Contains(strings.Split(opts, ","), "inline") {
				inline = append(inline, f.Type)
				continue
			}
			if name == "" {
				name = strings.ToLower(f.Name)
			}
			if _, dup := fields[name]; !dup {
				fields[name] = f
			}
		}
		for _, it := range inline {
			add(it)
		}
	}
	add(t)
	return fields
}

// expectedKeys says which keys a mapping accepts, suggesting the closest
// one when name looks like a typo.
func expectedKeys(name string, fields map[string]reflect.StructField) string {
	names := make([]string, 0, len(fields))
	for k := range fields {
		names = append(names, k)
	}
	slices.Sort(names)
	best, bestDist := "", 3
	for _, k := range names {
		if d := edlib.LevenshteinDistance(name, k); d < bestDist {
			best, bestDist = k, d
		}
	}
	if best != "" {
		return fmt.Sprintf("did you mean %q?", best)
	}
	return "expected one of " + strings.Join(names, ", ")
}

func isMapping(n ast.Node) bool {
	switch n.(type) {
	case *ast.MappingNode, *ast.MappingValueNode:
		return true
	}
	return false
}

func isString(n ast.Node) bool {
	switch n.Type() {
	case ast.StringType, ast.LiteralType:
		return true
	}
	return false
}

func isScalar(n ast.Node) bool {
	switch n.Type() {
	case ast.StringType, ast.LiteralType, ast.IntegerType, ast.FloatType,
		ast.BoolType, ast.InfinityType, ast.NanType:
		return true
	}
	return false
}

// want names what a value of Go type t looks like in YAML.
func want(t reflect.Type) string {
	if t == fieldType {
		return "a field name or a mapping with field or const"
	}
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		return "a mapping"
	case reflect.Slice:
		return "a list"
	case reflect.Int:
		return "an integer"
	case reflect.Float64:
		return "a number"
	case reflect.Bool:
		return "true or false"
	default:
		return "a string"
	}
}

// describe names the kind of YAML node n.
func describe(n ast.Node) string {
	switch n.Type() {
	case ast.MappingType, ast.MappingValueType:
		return "a mapping"
	case ast.SequenceType:
		return "a list"
	case ast.IntegerType:
		return "an integer"
	case ast.FloatType, ast.InfinityType, ast.NanType:
		return "a number"
	case ast.BoolType:
		return "a boolean"
	case ast.StringType, ast.LiteralType:
		return "a string"
	default:
		return strings.ToLower(n.Type().String())
	}
}

// nodePos returns the 1-based line and column of n: the first key of a
// block mapping, otherwise n's own token.
func nodePos(n ast.Node) (line, col int) {
	switch v := n.(type) {
	case nil:
		return 0, 0
	case *ast.MappingNode:
		if !v.IsFlowStyle && len(v.Values) > 0 {
			return nodePos(v.Values[0])
		}
	case *ast.MappingValueNode:
		if v.Key != nil {
			return nodePos(v.Key)
		}
	}
	tk := n.GetToken()
	if tk == nil || tk.Position == nil {
		return 0, 0
	}
	return tk.Position.Line, tk.Position.Column
}

// childPath appends a mapping key to a path: sources.kind, or
// attributes["first name"] for keys that are not plain identifiers.
func childPath(parent, key string) string {
	if !plainKey(key) {
		return parent + "[" + strconv.Quote(key) + "]"
	}
	if parent == "" {
		return key
	}
	return parent + "." + key
}

func indexPath(parent string, i int) string {
	return parent + "[" + strconv.Itoa(i) + "]"
}

func plainKey(k string) bool {
	if k == "" {
		return false
	}
	for i, r := range k {
		switch {
		case r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z':
		case i > 0 && (r == '-' || r >= '0' && r <= '9'):
		default:
			return false
		}
	}
	return true
}
