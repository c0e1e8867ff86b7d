package pattern

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/aurum-cdp/aurum/shared/model/fault"
)

// maxSearchSteps bounds the array-consistency search of one match so that a
// hostile pattern/event pair cannot run for ever.
const maxSearchSteps = 1 << 20

// ErrTooComplex is returned (wrapped) when matching one event against one
// pattern would need more than an internal step budget. It does not happen
// with realistic events; it exists so that hostile input cannot hang a bus.
var ErrTooComplex = errors.New("bus: event pattern too complex to evaluate against this event")

type kind uint8

const (
	kindString kind = iota
	kindNumber
	kindTrue
	kindFalse
	kindNull
)

// arrayPos records that a leaf lies in element idx of array number id.
type arrayPos struct {
	id  int32
	idx int32
}

// leaf is one scalar value of the event at a flattened path.
type leaf struct {
	kind kind
	// s is the string value, or the number's literal text.
	s string
	// num is the number in millionths when numOK (see numberKey).
	num   int64
	numOK bool
	// arrays lists the arrays that enclose the leaf, outermost first.
	arrays []arrayPos
}

// flatEvent is an event flattened into leaves indexed by dotted path.
type flatEvent struct {
	leaves  []leaf
	byPath  map[string][]int32
	nextArr int32
}

func (fe *flatEvent) add(path string, l leaf) {
	fe.byPath[path] = append(fe.byPath[path], int32(len(fe.leaves)))
	fe.leaves = append(fe.leaves, l)
}

// flattenJSON parses an event document.
func flattenJSON(event []byte) (*flatEvent, error) {
	dec := json.NewDecoder(bytes.NewReader(event))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fault.Invalidf("event: not valid JSON: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fault.Invalidf("event: unexpected data after the event object")
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fault.Invalidf("event: must be a JSON object")
	}
	return flattenValue(m)
}

func flattenValue(m map[string]any) (*flatEvent, error) {
	fe := &flatEvent{byPath: map[string][]int32{}}
	if err := fe.walk("", m, nil); err != nil {
		return nil, err
	}
	return fe, nil
}

func (fe *flatEvent) walk(path string, v any, arrays []arrayPos) error {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			if err := fe.walk(joinPath(path, k), e, arrays); err != nil {
				return err
			}
		}
	case []any:
		id := fe.nextArr
		fe.nextArr++
		for i, e := range t {
			// The three-index slice forces a copy so sibling leaves never
			// share (and overwrite) one backing array.
			inner := append(arrays[:len(arrays):len(arrays)], arrayPos{id: id, idx: int32(i)})
			if err := fe.walk(path, e, inner); err != nil {
				return err
			}
		}
	case string:
		fe.add(path, leaf{kind: kindString, s: t, arrays: arrays})
	case json.Number:
		fe.addNumber(path, string(t), arrays)
	case float64:
		if math.IsNaN(t) || math.IsInf(t, 0) {
			return fault.Invalidf("event: %s: number %v is not valid JSON", path, t)
		}
		fe.addNumber(path, strconv.FormatFloat(t, 'g', -1, 64), arrays)
	case float32:
		return fe.walk(path, float64(t), arrays)
	case int:
		fe.addNumber(path, strconv.FormatInt(int64(t), 10), arrays)
	case int64:
		fe.addNumber(path, strconv.FormatInt(t, 10), arrays)
	case int32:
		fe.addNumber(path, strconv.FormatInt(int64(t), 10), arrays)
	case uint64:
		fe.addNumber(path, strconv.FormatUint(t, 10), arrays)
	case bool:
		if t {
			fe.add(path, leaf{kind: kindTrue, arrays: arrays})
		} else {
			fe.add(path, leaf{kind: kindFalse, arrays: arrays})
		}
	case nil:
		fe.add(path, leaf{kind: kindNull, arrays: arrays})
	default:
		// Any other Go value: take its JSON form.
		b, err := json.Marshal(t)
		if err != nil {
			return fault.Invalidf("event: %s: %v", path, err)
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		var w any
		if err := dec.Decode(&w); err != nil {
			return fault.Invalidf("event: %s: %v", path, err)
		}
		return fe.walk(path, w, arrays)
	}
	return nil
}

func (fe *flatEvent) addNumber(path, lit string, arrays []arrayPos) {
	k, ok := numberKey(lit)
	fe.add(path, leaf{kind: kindNumber, s: lit, num: k, numOK: ok, arrays: arrays})
}

// Match reports whether the JSON event matches the pattern. The event must
// be a JSON object; an event that is not valid JSON is an error wrapping
// fault.ErrInvalid.
func (p *Pattern) Match(event []byte) (bool, error) {
	fe, err := flattenJSON(event)
	if err != nil {
		return false, err
	}
	return p.matchFlat(fe)
}

// MatchValue is Match for an event already decoded into Go values (as
// json.Unmarshal produces; json.Number keeps a number's literal text, and a
// float64 is compared by its shortest decimal form).
func (p *Pattern) MatchValue(event map[string]any) (bool, error) {
	fe, err := flattenValue(event)
	if err != nil {
		return false, err
	}
	return p.matchFlat(fe)
}

func (p *Pattern) matchFlat(fe *flatEvent) (bool, error) {
	var firstErr error
	for _, br := range p.branches {
		ok, err := matchBranch(br, fe)
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		if ok {
			return true, nil
		}
	}
	return false, firstErr
}

// matchBranch reports whether every field of the branch is satisfied by
// leaves that are mutually array-consistent.
func matchBranch(br []*field, fe *flatEvent) (bool, error) {
	var constrained [][][]arrayPos
	for _, f := range br {
		idx := fe.byPath[f.path]
		if len(idx) == 0 {
			if f.absent {
				continue
			}
			return false, nil
		}
		var cands [][]arrayPos
		free := false
		for _, i := range idx {
			l := &fe.leaves[i]
			if !f.accepts(l) {
				continue
			}
			if len(l.arrays) == 0 {
				// Outside any array: consistent with every other choice.
				free = true
				break
			}
			cands = append(cands, l.arrays)
		}
		if free {
			continue
		}
		if len(cands) == 0 {
			return false, nil
		}
		constrained = append(constrained, cands)
	}
	if len(constrained) <= 1 {
		return true, nil
	}
	slices.SortFunc(constrained, func(a, b [][]arrayPos) int { return len(a) - len(b) })
	s := search{fields: constrained, chosen: make([][]arrayPos, 0, len(constrained))}
	ok := s.run(0)
	if s.steps > maxSearchSteps {
		return false, ErrTooComplex
	}
	return ok, nil
}

// search picks one candidate leaf per field such that no two picked leaves
// sit in different elements of the same array (EventBridge's array
// consistency).
type search struct {
	fields [][][]arrayPos
	chosen [][]arrayPos
	steps  int
}

func (s *search) run(i int) bool {
	if i == len(s.fields) {
		return true
	}
	for _, c := range s.fields[i] {
		s.steps++
		if s.steps > maxSearchSteps {
			return false
		}
		ok := true
		for _, prev := range s.chosen {
			if !consistent(prev, c) {
				ok = false
				break
			}
		}
		if !ok {
			continue
		}
		s.chosen = append(s.chosen, c)
		if s.run(i + 1) {
			return true
		}
		s.chosen = s.chosen[:len(s.chosen)-1]
		if s.steps > maxSearchSteps {
			return false
		}
	}
	return false
}

// consistent reports whether two leaves can be matched together: arrays
// nest, so the arrays they share form a common prefix of their lists, and
// within it they must sit in the same element.
func consistent(a, b []arrayPos) bool {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i].id != b[i].id {
			return true
		}
		if a[i].idx != b[i].idx {
			return false
		}
	}
	return true
}

// matcher tests one leaf value.
type matcher interface {
	match(l *leaf) bool
}

// exactString matches a string equal character for character.
type exactString string

func (m exactString) match(l *leaf) bool { return l.kind == kindString && l.s == string(m) }

// exactNumber matches a number by its string representation: EventBridge
// does not consider 300, 300.0 and 3.0e2 equal.
type exactNumber string

func (m exactNumber) match(l *leaf) bool { return l.kind == kindNumber && l.s == string(m) }

// exactKind matches true, false or null.
type exactKind kind

func (m exactKind) match(l *leaf) bool { return l.kind == kind(m) }

type prefixMatcher struct {
	s    string
	fold bool
}

func (m prefixMatcher) match(l *leaf) bool {
	if l.kind != kindString {
		return false
	}
	if m.fold {
		return hasPrefixFold(l.s, m.s)
	}
	return strings.HasPrefix(l.s, m.s)
}

type suffixMatcher struct {
	s    string
	fold bool
}

func (m suffixMatcher) match(l *leaf) bool {
	if l.kind != kindString {
		return false
	}
	if m.fold {
		return hasSuffixFold(l.s, m.s)
	}
	return strings.HasSuffix(l.s, m.s)
}

type ignoreCaseMatcher string

func (m ignoreCaseMatcher) match(l *leaf) bool {
	return l.kind == kindString && strings.EqualFold(l.s, string(m))
}

// numericMatcher matches JSON numbers inside a range, compared in
// millionths (see numberKey). Strings never match, even "5".
type numericMatcher struct {
	lo, hi         int64
	hasLo, hasHi   bool
	loOpen, hiOpen bool
}

func (m numericMatcher) match(l *leaf) bool {
	if l.kind != kindNumber || !l.numOK {
		return false
	}
	v := l.num
	if m.hasLo && (v < m.lo || (m.loOpen && v == m.lo)) {
		return false
	}
	if m.hasHi && (v > m.hi || (m.hiOpen && v == m.hi)) {
		return false
	}
	return true
}

type cidrMatcher struct{ prefix netip.Prefix }

func (m cidrMatcher) match(l *leaf) bool {
	if l.kind != kindString {
		return false
	}
	addr, err := netip.ParseAddr(l.s)
	if err != nil {
		return false
	}
	return m.prefix.Contains(addr.Unmap()) || m.prefix.Contains(addr)
}

// anythingButStrings matches every value except the listed strings.
type anythingButStrings map[string]struct{}

func (m anythingButStrings) match(l *leaf) bool {
	if l.kind != kindString {
		return true
	}
	_, excluded := m[l.s]
	return !excluded
}

// anythingButNumbers matches every value except the listed numbers,
// compared numerically.
type anythingButNumbers map[int64]struct{}

func (m anythingButNumbers) match(l *leaf) bool {
	if l.kind != kindNumber || !l.numOK {
		return true
	}
	_, excluded := m[l.num]
	return !excluded
}

// anythingBut negates a string matcher (prefix, suffix, equals-ignore-case,
// wildcard). Values that are not strings always match, as in EventBridge.
type anythingBut struct{ m matcher }

func (m anythingBut) match(l *leaf) bool {
	if l.kind != kindString {
		return true
	}
	return !m.m.match(l)
}

// anyOf matches when any of its matchers does.
type anyOf []matcher

func (m anyOf) match(l *leaf) bool {
	for _, x := range m {
		if x.match(l) {
			return true
		}
	}
	return false
}

// equalFoldRune reports whether a and b are equal under simple Unicode case
// folding (the folding strings.EqualFold uses).
func equalFoldRune(a, b rune) bool {
	if a == b {
		return true
	}
	for r := unicode.SimpleFold(a); r != a; r = unicode.SimpleFold(r) {
		if r == b {
			return true
		}
	}
	return false
}

func hasPrefixFold(s, prefix string) bool {
	for _, pr := range prefix {
		if s == "" {
			return false
		}
		sr, size := utf8.DecodeRuneInString(s)
		if !equalFoldRune(sr, pr) {
			return false
		}
		s = s[size:]
	}
	return true
}

func hasSuffixFold(s, suffix string) bool {
	for suffix != "" {
		if s == "" {
			return false
		}
		pr, psize := utf8.DecodeLastRuneInString(suffix)
		sr, ssize := utf8.DecodeLastRuneInString(s)
		if !equalFoldRune(sr, pr) {
			return false
		}
		suffix, s = suffix[:len(suffix)-psize], s[:len(s)-ssize]
	}
	return true
}

// Flat is an event flattened once, to be matched against many patterns
// (the local bus matches every subscriber's pattern against one Flat).
type Flat struct{ fe *flatEvent }

// Flatten parses event, a JSON object, for MatchFlat.
func Flatten(event []byte) (*Flat, error) {
	fe, err := flattenJSON(event)
	if err != nil {
		return nil, err
	}
	return &Flat{fe: fe}, nil
}

// MatchFlat reports whether the flattened event matches p.
func (p *Pattern) MatchFlat(f *Flat) (bool, error) { return p.matchFlat(f.fe) }
