package privacy

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/aurum-cdp/aurum/shared/model/profile"
)

// Export is everything Aurum holds about one person, as one document
// (GET /v1/profiles/{id}/export).
type Export struct {
	ExportedAt time.Time       `json:"exported_at"`
	Profile    profile.Profile `json:"profile"`
	// ProfileIDs are the live id and the ids merged into it.
	ProfileIDs []string `json:"profile_ids"`
	// Records are the source records, with the profile each was written
	// under.
	Records []held          `json:"records"`
	Events  []profile.Event `json:"events"`
	// Sections are the forgetters' parts of the document
	// (store.Forgetter.Export), members of the JSON object next to the
	// fields above. With the registry of shared/wire/app: "segments"
	// (segment id → entered at), "segment_history" (membership
	// transitions, oldest first) and "merges" (merge ledger entries).
	Sections map[string]any `json:"-"`
}

// coreMembers are the JSON members of Export's own fields; no section
// may take their names.
var coreMembers = []string{"exported_at", "profile", "profile_ids", "records", "events"}

// MarshalJSON writes Export's fields, then its sections in name order.
func (x Export) MarshalJSON() ([]byte, error) {
	type plain Export
	b, err := json.Marshal(plain(x))
	if err != nil || len(x.Sections) == 0 {
		return b, err
	}
	var buf bytes.Buffer
	buf.Write(b[:len(b)-1]) // without the closing brace
	for _, name := range slices.Sorted(maps.Keys(x.Sections)) {
		k, err := json.Marshal(name)
		if err != nil {
			return nil, err
		}
		v, err := json.Marshal(x.Sections[name])
		if err != nil {
			return nil, fmt.Errorf("privacy: export section %s: %w", name, err)
		}
		buf.WriteByte(',')
		buf.Write(k)
		buf.WriteByte(':')
		buf.Write(v)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// maxExportEvents bounds the events of an export.
const maxExportEvents = 100_000

// Export returns everything held about the person profile id resolves to.
// A missing profile is fault.ErrNotFound.
func (s *Service) Export(ctx context.Context, id string) (Export, error) {
	ps, err := s.load(ctx, id)
	if err != nil {
		return Export{}, fmt.Errorf("privacy: export: %w", err)
	}
	x := Export{
		ExportedAt: s.clock().UTC(),
		Profile:    ps.profile,
		ProfileIDs: ps.ids,
		Records:    ps.records,
		Events:     []profile.Event{},
		Sections:   map[string]any{},
	}
	if x.Records == nil {
		x.Records = []held{}
	}
	cursor := ""
	for len(x.Events) < maxExportEvents {
		evs, next, err := s.st.Events(ctx, ps.profile.ID, pageSize, cursor)
		if err != nil {
			return Export{}, fmt.Errorf("privacy: export events: %w", err)
		}
		x.Events = append(x.Events, evs...)
		if next == "" {
			break
		}
		cursor = next
	}
	subj := ps.subject()
	for _, f := range s.forgetters {
		secs, err := f.Export(ctx, s.st, subj)
		if err != nil {
			return Export{}, fmt.Errorf("privacy: export: %w", err)
		}
		for name, v := range secs {
			if _, dup := x.Sections[name]; dup || slices.Contains(coreMembers, name) {
				return Export{}, fmt.Errorf("privacy: export: section %q of %T is taken", name, f)
			}
			x.Sections[name] = v
		}
	}
	return x, nil
}

// Provenance says where each surviving attribute of a profile came from
// (GET /v1/profiles/{id}/provenance).
type Provenance struct {
	ProfileID  string                `json:"profile_id"`
	Attributes map[string]Origin     `json:"attributes"`
	Sources    map[string]int        `json:"sources"`
	Tallies    map[string][]Observed `json:"tallies,omitempty"`
}

// Origin is the provenance of one attribute value.
type Origin struct {
	Source     string    `json:"source"`
	RecordID   string    `json:"record_id"`
	ObservedAt time.Time `json:"observed_at"`
}

// Observed is one tallied value of an attribute: how many records saw it
// and where it was last seen.
type Observed struct {
	Count int    `json:"count"`
	Last  Origin `json:"last"`
}

// ProvenanceOf returns the provenance of p's attributes (no values: read
// the profile for those).
func ProvenanceOf(p profile.Profile) Provenance {
	pv := Provenance{ProfileID: p.ID, Attributes: map[string]Origin{}, Sources: p.Sources}
	if pv.Sources == nil {
		pv.Sources = map[string]int{}
	}
	for _, name := range slices.Sorted(maps.Keys(p.Attributes)) {
		a := p.Attributes[name]
		pv.Attributes[name] = Origin{Source: a.Source, RecordID: a.RecordID, ObservedAt: a.ObservedAt}
	}
	for name, ts := range p.Tallies {
		if pv.Tallies == nil {
			pv.Tallies = map[string][]Observed{}
		}
		for _, t := range ts {
			pv.Tallies[name] = append(pv.Tallies[name], Observed{Count: t.Count,
				Last: Origin{Source: t.Last.Source, RecordID: t.Last.RecordID, ObservedAt: t.Last.ObservedAt}})
		}
	}
	return pv
}
