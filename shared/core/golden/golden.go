// Package golden builds the golden record: it folds source records into a
// profile and merges profiles, keeping provenance for every attribute.
//
// Survivorship is chosen per attribute (Rules.Strategy): most_recent
// (default), source_priority, most_frequent, first_seen, longest, max, min
// or union; consent attributes (consent.<purpose>) always keep the latest
// observation, a withdrawal winning a tie (StrategyConsent). Every strategy compares when the facts were observed
// (Record.ObservedAt), never when they arrived, so late or out-of-order
// data does not overwrite newer values; ties go to the higher-priority
// source, then to the greater record key, so the result does not depend
// on arrival order. A client clock cannot outrank the server's: an
// ObservedAt more than MaxFutureSkew after the record's ReceivedAt counts
// as ReceivedAt (see ObservedAt), so a record dated 2099 does not win for
// ever.
//
// Aggregates declared in config (count, sum, min, max, first, last of
// events) are kept in Profile.Aggregates and combine when profiles merge.
// A profile body stays bounded whatever the number of records: union lists
// and most_frequent tallies are capped, so merge cost does not grow with
// profile size.
package golden

import (
	"cmp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/core/consent"
	"github.com/aurum-cdp/aurum/shared/model/profile"
)

// DefaultMaxTally bounds the values counted per attribute for
// most_frequent.
const DefaultMaxTally = 8

// MaxUnion bounds the elements of a union attribute.
const MaxUnion = 100

// MaxFutureSkew is how far after its ReceivedAt a record's ObservedAt may
// lie (clocks of clients and source systems drift a little); later times
// are taken as ReceivedAt. The tracking API clamps client timestamps with
// the same tolerance.
const MaxFutureSkew = 5 * time.Minute

// ObservedAt returns the time survivorship compares for rec: its
// ObservedAt in UTC, or its ReceivedAt when ObservedAt is more than
// MaxFutureSkew after it (a clock ahead, or a forged date). Records
// without a ReceivedAt keep their ObservedAt.
func ObservedAt(rec profile.Record) time.Time {
	at := rec.ObservedAt.UTC()
	if !rec.ReceivedAt.IsZero() && at.After(rec.ReceivedAt.Add(MaxFutureSkew)) {
		return rec.ReceivedAt.UTC()
	}
	return at
}

// Rules decides survivorship and computes aggregates. The zero value
// (plus SourcePriority) keeps the most recent value of every attribute.
type Rules struct {
	// SourcePriority ranks sources (higher wins).
	SourcePriority map[string]int
	// Default is the strategy of attributes without one; most_recent.
	Default string
	// Attributes sets the strategy per attribute name.
	Attributes map[string]string
	// Aggregates are computed from events.
	Aggregates []config.Aggregate
	// MaxTally bounds most_frequent tallies; DefaultMaxTally when 0.
	MaxTally int
}

// NewRules builds the rules of the golden block g over sources: source
// priorities, the strategy of each attribute (g.Survivorship.Attributes,
// else the strategy of its field type in the sources' mappings, else the
// default) and the aggregates. A name attribute's matching key
// (first_name_key) follows the strategy of the name (first_name).
func NewRules(g config.Golden, sources []config.Source) Rules {
	r := Rules{SourcePriority: map[string]int{}, Attributes: map[string]string{}, Default: g.Survivorship.Default, Aggregates: g.Aggregates}
	s := g.Survivorship
	for _, src := range sources {
		r.SourcePriority[src.Name] = src.Priority
		if len(s.Types) == 0 {
			continue
		}
		for name, f := range src.Mapping.Attributes {
			t := f.Type
			if t == "" {
				t = config.TypeString
			}
			if st, ok := s.Types[t]; ok {
				if _, set := r.Attributes[name]; !set {
					r.Attributes[name] = st
				}
			}
		}
	}
	for name, st := range s.Attributes {
		r.Attributes[name] = st
	}
	return r
}

// StrategyConsent is the fixed strategy of consent attributes
// (consent.<purpose>, package consent): the most recent observation
// wins and, observed at the same time, a withdrawal (false) wins over a
// grant. Configuration cannot change it.
const StrategyConsent = "consent"

// Strategy returns the survivorship strategy of the named attribute.
func (r Rules) Strategy(name string) string {
	if consent.IsAttribute(name) {
		return StrategyConsent
	}
	if s, ok := r.Attributes[name]; ok {
		return s
	}
	if base, ok := strings.CutSuffix(name, "_key"); ok {
		if s, ok := r.Attributes[base]; ok {
			return s
		}
	}
	if r.Default != "" {
		return r.Default
	}
	return config.SurviveMostRecent
}

func (r Rules) maxTally() int {
	if r.MaxTally > 0 {
		return r.MaxTally
	}
	return DefaultMaxTally
}

// Apply folds rec into p and returns the names of attributes (and
// "aggregates.<name>") whose value changed, sorted. p.Version and
// timestamps are left to the caller.
func (r Rules) Apply(p *profile.Profile, rec profile.Record) (changed []string) {
	if p.Attributes == nil {
		p.Attributes = map[string]profile.Attribute{}
	}
	if p.Sources == nil {
		p.Sources = map[string]int{}
	}
	observed := ObservedAt(rec)
	for _, name := range sortedKeys(rec.Attributes) {
		v := rec.Attributes[name]
		cand := profile.Attribute{Value: v, Source: rec.Source, RecordID: rec.ID, ObservedAt: observed}
		var tally []profile.Tally
		if r.Strategy(name) == config.SurviveMostFrequent {
			tally = []profile.Tally{{Count: 1, Last: cand}}
		}
		if r.fold(p, name, cand, tally) {
			changed = append(changed, name)
		}
	}
	for _, id := range rec.Identifiers {
		if !p.HasIdentifier(id) {
			p.Identifiers = append(p.Identifiers, id)
		}
	}
	p.Sources[rec.Source]++
	p.RecordCount++
	p.EventCount += addEvents(p, rec.Events)
	changed = append(changed, r.aggregate(p, rec.Events)...)
	sort.Strings(changed)
	return changed
}

// Merge folds src into dst (src is being merged away) and returns the names
// of dst's attributes (and aggregates) whose value changed, sorted.
func (r Rules) Merge(dst *profile.Profile, src profile.Profile) (changed []string) {
	if dst.Attributes == nil {
		dst.Attributes = map[string]profile.Attribute{}
	}
	if dst.Sources == nil {
		dst.Sources = map[string]int{}
	}
	for _, name := range sortedKeys(src.Attributes) {
		cand := src.Attributes[name]
		var tally []profile.Tally
		if r.Strategy(name) == config.SurviveMostFrequent {
			tally = src.Tallies[name]
			if len(tally) == 0 {
				tally = []profile.Tally{{Count: 1, Last: cand}}
			}
		}
		if r.fold(dst, name, cand, tally) {
			changed = append(changed, name)
		}
	}
	for _, id := range src.Identifiers {
		if !dst.HasIdentifier(id) {
			dst.Identifiers = append(dst.Identifiers, id)
		}
	}
	for s, n := range src.Sources {
		dst.Sources[s] += n
	}
	dst.RecordCount += src.RecordCount
	dst.EventCount += src.EventCount - overlap(dst.RecentEvents, src.RecentEvents)
	addEvents(dst, src.RecentEvents)
	changed = append(changed, r.mergeAggregates(dst, src.Aggregates)...)
	dst.MergedFrom = append(dst.MergedFrom, src.ID)
	dst.MergedFrom = append(dst.MergedFrom, src.MergedFrom...)
	// Fold positions travel with the merged profile: its partition's
	// appended events are folded into dst from now on.
	for part, seq := range src.Folded {
		if dst.Folded == nil {
			dst.Folded = map[string]string{}
		}
		if profile.SeqAfter(seq, dst.Folded[part]) {
			dst.Folded[part] = seq
		}
	}
	if src.CreatedAt.Before(dst.CreatedAt) {
		dst.CreatedAt = src.CreatedAt
	}
	sort.Strings(changed)
	return changed
}

// fold combines candidate cand (with its tally, for most_frequent) into
// attribute name of p and reports whether the surviving value changed.
func (r Rules) fold(p *profile.Profile, name string, cand profile.Attribute, tally []profile.Tally) bool {
	cur, ok := p.Attributes[name]
	next := cand
	switch st := r.Strategy(name); st {
	case config.SurviveUnion:
		if ok {
			next = r.union(cur, cand)
		} else {
			next.Value = unionValues(nil, cand.Value)
		}
	case config.SurviveMostFrequent:
		if p.Tallies == nil {
			p.Tallies = map[string][]profile.Tally{}
		}
		t := p.Tallies[name]
		if len(t) == 0 && ok {
			t = []profile.Tally{{Count: 1, Last: cur}}
		}
		t = r.addTallies(t, tally)
		p.Tallies[name] = t
		next = r.frequent(t)
	default:
		if ok && !r.better(st, cand, cur) {
			return false
		}
	}
	p.Attributes[name] = next
	return !ok || !equalValue(cur.Value, next.Value)
}

// better reports whether candidate a replaces current b under strategy st.
func (r Rules) better(st string, a, b profile.Attribute) bool {
	switch st {
	case config.SurviveSourcePriority:
		if pa, pb := r.SourcePriority[a.Source], r.SourcePriority[b.Source]; pa != pb {
			return pa > pb
		}
	case config.SurviveFirstSeen:
		if !a.ObservedAt.Equal(b.ObservedAt) {
			return a.ObservedAt.Before(b.ObservedAt)
		}
	case config.SurviveLongest:
		if la, lb := len([]rune(text(a.Value))), len([]rune(text(b.Value))); la != lb {
			return la > lb
		}
	case config.SurviveMax, config.SurviveMin:
		if c := compareValues(a.Value, b.Value); c != 0 {
			return (c > 0) == (st == config.SurviveMax)
		}
	case StrategyConsent:
		if !a.ObservedAt.Equal(b.ObservedAt) {
			return a.ObservedAt.After(b.ObservedAt)
		}
		if ga, gb := a.Value == true, b.Value == true; ga != gb {
			return !ga // a withdrawal beats a grant of the same instant
		}
	}
	return r.wins(a, b)
}

// wins reports whether candidate a is more recent than current b, ties
// broken by source priority, source name and record id.
func (r Rules) wins(a, b profile.Attribute) bool {
	if !a.ObservedAt.Equal(b.ObservedAt) {
		return a.ObservedAt.After(b.ObservedAt)
	}
	pa, pb := r.SourcePriority[a.Source], r.SourcePriority[b.Source]
	if pa != pb {
		return pa > pb
	}
	if a.Source != b.Source {
		return a.Source > b.Source
	}
	return a.RecordID >= b.RecordID
}

// union merges the lists of cur and cand; provenance is the most recent.
func (r Rules) union(cur, cand profile.Attribute) profile.Attribute {
	next := cur
	if r.wins(cand, cur) {
		next = cand
	}
	next.Value = unionValues(cur.Value, cand.Value)
	return next
}

// unionValues returns the distinct elements of a and b (lists or single
// values) as a list in canonical order, at most MaxUnion: the result does
// not depend on the order of the inputs.
func unionValues(a, b any) []any {
	seen := map[string]any{}
	for _, v := range [2]any{a, b} {
		switch x := v.(type) {
		case nil:
		case []any:
			for _, e := range x {
				seen[canonical(e)] = e
			}
		case []string:
			for _, e := range x {
				seen[canonical(e)] = e
			}
		default:
			seen[canonical(x)] = x
		}
	}
	keys := make([]string, 0, len(seen))
	for k := range seen {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if len(keys) > MaxUnion {
		keys = keys[:MaxUnion]
	}
	out := make([]any, len(keys))
	for i, k := range keys {
		out[i] = seen[k]
	}
	return out
}

// addTallies adds tallies b into a and keeps at most maxTally values: a
// value that does not fit replaces the least counted one and inherits
// its count (the space-saving algorithm), so frequent values are kept
// with counts that never under-estimate.
func (r Rules) addTallies(a, b []profile.Tally) []profile.Tally {
	out := slices.Clone(a)
	for _, t := range b {
		i := slices.IndexFunc(out, func(x profile.Tally) bool { return equalValue(x.Last.Value, t.Last.Value) })
		switch {
		case i >= 0:
			out[i].Count += t.Count
			if r.wins(t.Last, out[i].Last) {
				out[i].Last = t.Last
			}
		case len(out) < r.maxTally():
			out = append(out, t)
		default:
			m := 0
			for j := range out {
				if out[j].Count < out[m].Count || (out[j].Count == out[m].Count && r.wins(out[m].Last, out[j].Last)) {
					m = j
				}
			}
			out[m] = profile.Tally{Count: out[m].Count + t.Count, Last: t.Last}
		}
	}
	slices.SortFunc(out, func(x, y profile.Tally) int {
		if c := cmp.Compare(y.Count, x.Count); c != 0 {
			return c
		}
		if r.wins(x.Last, y.Last) {
			return -1
		}
		return 1
	})
	return out
}

// frequent returns the most counted value (ties: the most recent).
func (r Rules) frequent(t []profile.Tally) profile.Attribute {
	best := t[0]
	for _, x := range t[1:] {
		if x.Count > best.Count || (x.Count == best.Count && r.wins(x.Last, best.Last)) {
			best = x
		}
	}
	return best.Last
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// addEvents inserts evs into p.RecentEvents (newest first, unique ids,
// bounded) and returns how many were new to the list.
func addEvents(p *profile.Profile, evs []profile.Event) int {
	added := 0
	for _, e := range evs {
		if slices.ContainsFunc(p.RecentEvents, func(x profile.Event) bool { return x.ID == e.ID && x.Source == e.Source }) {
			continue
		}
		p.RecentEvents = append(p.RecentEvents, e)
		added++
	}
	sort.SliceStable(p.RecentEvents, func(i, j int) bool {
		a, b := p.RecentEvents[i], p.RecentEvents[j]
		if !a.Timestamp.Equal(b.Timestamp) {
			return a.Timestamp.After(b.Timestamp)
		}
		return a.ID > b.ID
	})
	if len(p.RecentEvents) > profile.MaxRecentEvents {
		p.RecentEvents = p.RecentEvents[:profile.MaxRecentEvents]
	}
	return added
}

func overlap(a, b []profile.Event) int {
	n := 0
	for _, x := range b {
		if slices.ContainsFunc(a, func(y profile.Event) bool { return x.ID == y.ID && x.Source == y.Source }) {
			n++
		}
	}
	return n
}

func equalValue(a, b any) bool {
	switch av := a.(type) {
	case string, float64, bool, nil, int, int64:
		return a == b
	case time.Time:
		bv, ok := b.(time.Time)
		return ok && av.Equal(bv)
	default:
		// Lists and objects: compare their canonical JSON.
		return canonical(a) == canonical(b)
	}
}
