package local_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/aurum-cdp/aurum/shared/adapter/embedded"
	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/core/identity"
	"github.com/aurum-cdp/aurum/shared/core/segment"
)

// storeState is what two runs on the same input must agree on, whatever
// happened during them: the item counts, every live profile (by id,
// which derives from the record that created it) and the segment counts.
// The identity statistics counters are compared and only logged (see
// compareStates).
type storeState struct {
	Profiles, Redirects, Identifiers, Records, Events, Keys int
	Live                                                    map[string]string // profile id → its canonical JSON
	Segments                                                map[string]int64
	IdentityStats                                           map[string]int64
}

// profileState is the part of a profile that does not depend on when it
// was written: no version, no times of writing.
type profileState struct {
	Identifiers []string
	Records     int
	EventCount  int
	Sources     map[string]int
	Attributes  map[string]any
	Segments    []string
	MergedFrom  []string
}

// readState reads the state of the store of the data folder data (no
// aurum local may run on it).
func readState(t *testing.T, cfg *config.Config, data string) storeState {
	t.Helper()
	st, err := embedded.OpenData(data)
	if err != nil {
		t.Fatalf("embedded.OpenData(%s): %v", data, err)
	}
	defer st.Close()
	return stateOf(t, cfg, st)
}

// stateOf reads the state of st.
func stateOf(t *testing.T, cfg *config.Config, st *embedded.Store) storeState {
	t.Helper()
	ctx := context.Background()
	s, err := st.Stats(ctx)
	if err != nil {
		t.Fatalf("Stats: %v", err)
	}
	out := storeState{Profiles: s.Profiles, Redirects: s.Redirects, Identifiers: s.Identifiers,
		Records: s.Records, Events: s.Events, Keys: s.Keys, Live: map[string]string{}, IdentityStats: map[string]int64{}}
	for p, err := range segment.ScanProfiles(ctx, st) {
		if err != nil {
			t.Fatalf("scan profiles: %v", err)
		}
		ps := profileState{Records: p.RecordCount, EventCount: p.EventCount, Sources: p.Sources,
			Attributes: map[string]any{}, Segments: slices.Sorted(maps.Keys(p.Segments)), MergedFrom: slices.Sorted(slices.Values(p.MergedFrom))}
		for _, id := range p.Identifiers {
			ps.Identifiers = append(ps.Identifiers, id.String())
		}
		slices.Sort(ps.Identifiers)
		for k, a := range p.Attributes {
			ps.Attributes[k] = a
		}
		b, err := json.Marshal(ps)
		if err != nil {
			t.Fatal(err)
		}
		out.Live[p.ID] = string(b)
	}
	ev, err := segment.New(cfg.Segments, cfg.RFM, segment.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if out.Segments, err = ev.Counts(ctx, st); err != nil {
		t.Fatalf("segment counts: %v", err)
	}
	for shard := range identity.StatShards {
		items, _, err := st.Items(ctx, identity.ItemStats, fmt.Sprintf("shard-%d", shard), "", "", 10000, "")
		if err != nil {
			t.Fatalf("identity statistics: %v", err)
		}
		for _, it := range items {
			out.IdentityStats[it.Sort] += it.N
		}
	}
	return out
}

// compareStates fails t with the differences between got and want.
func compareStates(t *testing.T, what string, got, want storeState) {
	t.Helper()
	counts := func(s storeState) [6]int {
		return [6]int{s.Profiles, s.Redirects, s.Identifiers, s.Records, s.Events, s.Keys}
	}
	if counts(got) != counts(want) {
		t.Errorf("%s: profiles, redirects, identifiers, records, events, keys = %v; want %v (clean run)", what, counts(got), counts(want))
	}
	if !maps.Equal(got.Segments, want.Segments) {
		t.Errorf("%s: segment counts = %v; want %v", what, got.Segments, want.Segments)
	}
	if !maps.Equal(got.IdentityStats, want.IdentityStats) {
		// Local mode commits each record's identity counters with the
		// record (pipeline.Options.AtomicStats), so no cut separates them.
		t.Errorf("%s: identity statistics = %v; want %v (clean run)", what, got.IdentityStats, want.IdentityStats)
	}
	shown := 0
	for _, id := range slices.Sorted(maps.Keys(want.Live)) {
		if g, ok := got.Live[id]; !ok || g != want.Live[id] {
			if shown++; shown <= 3 {
				t.Errorf("%s: profile %s = %s; want %s", what, id, g, want.Live[id])
			}
		}
	}
	for id := range got.Live {
		if _, ok := want.Live[id]; !ok {
			if shown++; shown <= 3 {
				t.Errorf("%s: profile %s exists; the clean run has none", what, id)
			}
		}
	}
	if shown > 3 {
		t.Errorf("%s: %d profiles differ in all", what, shown)
	}
}
