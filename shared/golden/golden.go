// Package golden builds the golden record: it folds source records into a
// profile and merges profiles, keeping provenance for every attribute.
//
// Survivorship compares when the facts were observed (Record.ObservedAt),
// never when they arrived, so late or out-of-order data does not overwrite
// newer values. Ties go to the higher-priority source, then to the greater
// record key, so the result does not depend on arrival order.
package golden

import (
	"slices"
	"sort"
	"time"

	"github.com/aurum-cdp/aurum/shared/profile"
)

// Rules decides survivorship.
type Rules struct {
	// SourcePriority ranks sources (higher wins a tie on observed time).
	SourcePriority map[string]int
}

// Apply folds rec into p and returns the names of attributes whose
// surviving value changed, sorted. p.Version and timestamps are left to
// the caller.
func (r Rules) Apply(p *profile.Profile, rec profile.Record) (changed []string) {
	if p.Attributes == nil {
		p.Attributes = map[string]profile.Attribute{}
	}
	if p.Sources == nil {
		p.Sources = map[string]int{}
	}
	for name, v := range rec.Attributes {
		cand := profile.Attribute{Value: v, Source: rec.Source, RecordID: rec.ID, ObservedAt: rec.ObservedAt.UTC()}
		cur, ok := p.Attributes[name]
		if ok && !r.wins(cand, cur) {
			continue
		}
		if !ok || !equalValue(cur.Value, v) {
			changed = append(changed, name)
		}
		p.Attributes[name] = cand
	}
	for _, id := range rec.Identifiers {
		if !p.HasIdentifier(id) {
			p.Identifiers = append(p.Identifiers, id)
		}
	}
	p.Sources[rec.Source]++
	p.RecordCount++
	p.EventCount += addEvents(p, rec.Events)
	sort.Strings(changed)
	return changed
}

// Merge folds src into dst (src is being merged away) and returns the names
// of dst's attributes whose surviving value changed, sorted.
func (r Rules) Merge(dst *profile.Profile, src profile.Profile) (changed []string) {
	if dst.Attributes == nil {
		dst.Attributes = map[string]profile.Attribute{}
	}
	if dst.Sources == nil {
		dst.Sources = map[string]int{}
	}
	for name, cand := range src.Attributes {
		cur, ok := dst.Attributes[name]
		if ok && !r.wins(cand, cur) {
			continue
		}
		if !ok || !equalValue(cur.Value, cand.Value) {
			changed = append(changed, name)
		}
		dst.Attributes[name] = cand
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
	dst.MergedFrom = append(dst.MergedFrom, src.ID)
	dst.MergedFrom = append(dst.MergedFrom, src.MergedFrom...)
	if src.CreatedAt.Before(dst.CreatedAt) {
		dst.CreatedAt = src.CreatedAt
	}
	sort.Strings(changed)
	return changed
}

// wins reports whether candidate a replaces current b.
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
