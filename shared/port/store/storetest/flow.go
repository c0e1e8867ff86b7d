package storetest

import (
	"fmt"
	"slices"
	"testing"

	"github.com/aurum-cdp/aurum/shared/model/events"
	"github.com/aurum-cdp/aurum/shared/model/fault"
	"github.com/aurum-cdp/aurum/shared/model/profile"
	"github.com/aurum-cdp/aurum/shared/port/store"
)

// eventsChange writes n records of source src under profile pid, record i
// carrying event "<src>-e<i>" at millisecond times[i].
func eventsChange(src, pid string, times ...int) store.Change {
	var c store.Change
	for i, ms := range times {
		id := fmt.Sprintf("%s-e%d", src, i)
		c.Records = append(c.Records, store.RecordWrite{
			Record:    record(src, fmt.Sprintf("%s-r%d", src, i), event(src, id, ms)),
			ProfileID: pid,
		})
	}
	return c
}

// newestFirst returns the ids of evs sorted by descending timestamp.
func newestFirst(evs []profile.Event) []string {
	s := slices.Clone(evs)
	slices.SortFunc(s, func(a, b profile.Event) int { return b.Timestamp.Compare(a.Timestamp) })
	return eventIDs(s)
}

func testEvents(t *testing.T, h Harness) {
	t.Run("NewestFirstPaged", func(t *testing.T) {
		s := h.New(t)
		create(t, s, "p")
		// 25 events with distinct times, written in scrambled order over
		// five changes, two to four events per record.
		var all []profile.Event
		var changes []store.Change
		for r := range 5 {
			var evs []profile.Event
			for j := range 5 {
				i := r*5 + j
				e := event("web", fmt.Sprintf("e%02d", i), ((i*7)%25)*1000+j)
				evs = append(evs, e)
			}
			all = append(all, evs...)
			changes = append(changes, store.Change{Records: []store.RecordWrite{
				{Record: record("web", fmt.Sprintf("r%d", r), evs[:2]...), ProfileID: "p"},
				{Record: record("shop", fmt.Sprintf("r%d", r), evs[2:]...), ProfileID: "p"},
			}})
		}
		commit(t, s, changes...)
		want := newestFirst(all)
		for _, limit := range []int{1, 7, 25, 100} {
			got := eventIDs(allEvents(t, s, "p", limit))
			if !slices.Equal(got, want) {
				t.Errorf("Events(%q) paged by %d = %v; want %v", "p", limit, got, want)
			}
		}
		first, cursor, err := s.Events(ctx(t), "p", 7, "")
		if err != nil || len(first) != 7 || cursor == "" {
			t.Errorf(`Events("p", 7, "") = %d events, cursor %q, %v; want 7 events, a cursor, nil`, len(first), cursor, err)
		}
	})
	t.Run("RoundTrip", func(t *testing.T) {
		s := h.New(t)
		e := profile.Event{
			ID: "m-1", Source: "web", Type: "track", Name: "Order Completed", Timestamp: at(1234),
			Properties: map[string]any{
				"total": 99.99, "items": []any{map[string]any{"sku": "A1", "qty": 2.0}}, "gift": true, "coupon": nil,
			},
		}
		commit(t, s, store.Change{Records: []store.RecordWrite{{Record: record("web", "r1", e), ProfileID: "p"}}})
		got, _, err := s.Events(ctx(t), "p", 10, "")
		if err != nil || len(got) != 1 {
			t.Fatalf(`Events("p", 10, "") = %v, %v; want [m-1], nil`, eventIDs(got), err)
		}
		if g, w, ok := same(got[0], e); !ok {
			t.Errorf(`Events("p")[0] = %s; want %s`, g, w)
		}
	})
	t.Run("IncludesMergedProfiles", func(t *testing.T) {
		s := h.New(t)
		create(t, s, "a", "b", "d")
		ca := eventsChange("a", "a", 1000, 4000, 7000)
		cb := eventsChange("b", "b", 2000, 5000, 8000)
		cd := eventsChange("d", "d", 3000, 6000, 9000)
		commit(t, s, ca, cb, cd)
		// d merges into a, then a into b: b's events include a's and d's.
		commit(t, s, store.Change{Redirects: []store.Redirect{{From: "d", To: "a", ExpectVersion: 1}}})
		commit(t, s, store.Change{
			Profiles:  []store.ProfileWrite{write(bump(newProfile("b")))},
			Redirects: []store.Redirect{{From: "a", To: "b", ExpectVersion: 1}},
		})
		var all []profile.Event
		for _, c := range []store.Change{ca, cb, cd} {
			for _, r := range c.Records {
				all = append(all, r.Record.Events...)
			}
		}
		want := newestFirst(all)
		for _, id := range []string{"b", "a", "d"} {
			for _, limit := range []int{2, 100} {
				if got := eventIDs(allEvents(t, s, id, limit)); !slices.Equal(got, want) {
					t.Errorf("Events(%q) paged by %d = %v; want %v", id, limit, got, want)
				}
			}
		}
		// Events recorded after the merge under the survivor join in.
		commit(t, s, eventsChange("late", "b", 500))
		want = append(want, "late-e0")
		if got := eventIDs(allEvents(t, s, "b", 4)); !slices.Equal(got, want) {
			t.Errorf("Events(%q) = %v; want %v", "b", got, want)
		}
	})
	t.Run("ReupsertOnce", func(t *testing.T) {
		s := h.New(t)
		r := record("web", "r1", event("web", "e1", 100), event("web", "e2", 200))
		commit(t, s, store.Change{Records: []store.RecordWrite{{Record: r, ProfileID: "p"}}})
		r.Attributes = map[string]any{"plan": "team"}
		commit(t, s, store.Change{Records: []store.RecordWrite{{Record: r, ProfileID: "p"}}})
		commit(t, s, store.Change{Records: []store.RecordWrite{{Record: r, ProfileID: "p"}}})
		if got, want := eventIDs(allEvents(t, s, "p", 10)), []string{"e2", "e1"}; !slices.Equal(got, want) {
			t.Errorf(`Events("p") = %v; want %v`, got, want)
		}
	})
	t.Run("UnknownProfile", func(t *testing.T) {
		s := h.New(t)
		commit(t, s, eventsChange("web", "p", 1))
		evs, cursor, err := s.Events(ctx(t), "nobody", 10, "")
		if err != nil || len(evs) != 0 || cursor != "" {
			t.Errorf(`Events("nobody", 10, "") = %v, %q, %v; want none, "", nil`, eventIDs(evs), cursor, err)
		}
	})
}

func testOutbox(t *testing.T, h Harness) {
	// Written over three changes, out of time order.
	fill := func(t *testing.T, s store.Store) {
		t.Helper()
		commit(t, s,
			store.Change{Outbox: []events.Envelope{envelope("ev30", 30), envelope("ev10", 10)}},
			store.Change{Outbox: []events.Envelope{envelope("ev20", 20)}},
		)
		commit(t, s, store.Change{Outbox: []events.Envelope{envelope("ev40", 40), envelope("ev05", 5)}})
	}
	t.Run("OldestFirst", func(t *testing.T) {
		s := h.New(t)
		fill(t, s)
		tests := []struct {
			limit int
			want  []string
		}{
			{1, []string{"ev05"}},
			{3, []string{"ev05", "ev10", "ev20"}},
			{100, []string{"ev05", "ev10", "ev20", "ev30", "ev40"}},
		}
		for _, tt := range tests {
			if got := outboxIDs(t, s, tt.limit); !slices.Equal(got, tt.want) {
				t.Errorf("Outbox(%d) = %v; want %v", tt.limit, got, tt.want)
			}
		}
	})
	t.Run("RoundTrip", func(t *testing.T) {
		s := h.New(t)
		e, err := events.New(events.TypeProfilesMerged, at(42), events.ProfilesMerged{
			Version: events.SchemaVersion, ProfileID: "b", Merged: []string{"a"}, Rule: "email", RecordKey: "web/r1",
		}, "b", "2")
		if err != nil {
			t.Fatalf("events.New() = %v", err)
		}
		commit(t, s, store.Change{Outbox: []events.Envelope{e}})
		got, err := s.Outbox(ctx(t), 10)
		if err != nil || len(got) != 1 {
			t.Fatalf("Outbox(10) = %d envelopes, %v; want 1, nil", len(got), err)
		}
		if g, w, ok := same(got[0], e); !ok {
			t.Errorf("Outbox(10)[0] = %s; want %s", g, w)
		}
	})
	t.Run("Ack", func(t *testing.T) {
		s := h.New(t)
		fill(t, s)
		if err := s.Ack(ctx(t), []string{"ev05", "ev20"}); err != nil {
			t.Fatalf("Ack(ev05, ev20) = %v; want nil", err)
		}
		if got, want := outboxIDs(t, s, 100), []string{"ev10", "ev30", "ev40"}; !slices.Equal(got, want) {
			t.Errorf("Outbox(100) after Ack = %v; want %v", got, want)
		}
		for _, ids := range [][]string{nil, {"unknown"}, {"ev05"}, {"ev10", "unknown"}} {
			if err := s.Ack(ctx(t), ids); err != nil {
				t.Errorf("Ack(%v) = %v; want nil", ids, err)
			}
		}
		if got, want := outboxIDs(t, s, 100), []string{"ev30", "ev40"}; !slices.Equal(got, want) {
			t.Errorf("Outbox(100) after Acks = %v; want %v", got, want)
		}
	})
	t.Run("FailedChangeNeverAppears", func(t *testing.T) {
		s := h.New(t)
		create(t, s, "p")
		err := s.Commit(ctx(t),
			store.Change{Outbox: []events.Envelope{envelope("ev-ok", 1)}},
			store.Change{Outbox: []events.Envelope{envelope("ev-failed", 2)}, Profiles: []store.ProfileWrite{write(newProfile("p"))}},
		)
		wantKind(t, "Commit(ok, failing)", err, fault.ErrConflict)
		if got, want := outboxIDs(t, s, 100), []string{"ev-ok"}; !slices.Equal(got, want) {
			t.Errorf("Outbox(100) = %v; want %v", got, want)
		}
	})
}
