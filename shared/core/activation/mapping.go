package activation

import (
	"maps"
	"strings"

	"github.com/aurum-cdp/aurum/shared/destination"
	"github.com/aurum-cdp/aurum/shared/model/profile"
)

// fieldMap maps a tool's field names to Aurum paths.
type fieldMap map[string]string

// merged is the preset's defaults with the destination's entries over
// them; an entry mapped to "" drops a default.
func merged(defaults, own map[string]string) fieldMap {
	m := maps.Clone(defaults)
	if m == nil {
		m = map[string]string{}
	}
	for k, v := range own {
		if v == "" {
			delete(m, k)
			continue
		}
		m[k] = v
	}
	return m
}

// apply resolves every path over data; paths that resolve to nothing are
// left out.
func (m fieldMap) apply(data map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for field, path := range m {
		if v, ok := lookup(data, path); ok && v != nil {
			out[field] = v
		}
	}
	return out
}

// lookup resolves a dotted path over nested maps. A key containing dots
// (the attribute consent.marketing) is tried whole before it is split.
func lookup(data map[string]any, path string) (any, bool) {
	var cur any = data
	rest := path
	for rest != "" {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok := m[rest]; ok {
			return v, true
		}
		head, tail, _ := strings.Cut(rest, ".")
		if cur, ok = m[head]; !ok {
			return nil, false
		}
		rest = tail
	}
	return cur, true
}

// profileData is what field maps see of a profile: its id, its
// identifiers by type (the first value of each; all of them under
// identifiers_all), its surviving attributes, aggregates and segments.
func profileData(p profile.Profile) map[string]any {
	attrs := make(map[string]any, len(p.Attributes))
	for k, a := range p.Attributes {
		attrs[k] = a.Value
	}
	first := map[string]any{}
	all := map[string]any{}
	for _, id := range p.Identifiers {
		if _, ok := first[id.Type]; !ok {
			first[id.Type] = id.Value
		}
		l, _ := all[id.Type].([]any)
		all[id.Type] = append(l, id.Value)
	}
	segs := make([]any, 0, len(p.Segments))
	for s := range p.Segments {
		segs = append(segs, s)
	}
	aggs := maps.Clone(p.Aggregates)
	return map[string]any{
		"id": p.ID, "identifiers": first, "identifiers_all": all,
		"attributes": attrs, "aggregates": aggs, "segments": segs,
	}
}

// member is p as a destination receives it, its attributes mapped by m.
func member(p profile.Profile, m fieldMap, extra map[string]any) destination.Member {
	data := map[string]any{"profile": profileData(p)}
	maps.Copy(data, extra)
	return destination.Member{ProfileID: p.ID, Identifiers: p.Identifiers, Attributes: m.apply(data)}
}
