package storetest

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/aurum-cdp/aurum/shared/model/events"
	"github.com/aurum-cdp/aurum/shared/model/fault"
	"github.com/aurum-cdp/aurum/shared/model/profile"
	"github.com/aurum-cdp/aurum/shared/port/store"
)

// profileEnvelope is an outbox event whose detail names profileID (and
// merged, when not empty).
func profileEnvelope(id, profileID string, merged []string, ms int) events.Envelope {
	d := map[string]any{"version": "1", "profile_id": profileID}
	if len(merged) > 0 {
		d["merged_profile_ids"] = merged
	}
	b, _ := json.Marshal(d)
	return events.Envelope{ID: id, Source: events.Source, DetailType: events.TypeProfileUpdated, Time: at(ms), Detail: b}
}

// testErase checks store.Eraser: a person made of a live profile p1 and
// a profile p2 merged into it is erased with a plan that also names a
// record and a claim of another person (a stale plan); the other person
// keeps them.
func testErase(t *testing.T, h Harness) {
	s := h.New(t)
	er, ok := s.(store.Eraser)
	if !ok {
		t.Skip("store does not implement store.Eraser")
	}
	create(t, s, "p1", "p2", "p3")
	r1 := record("web", "r1", event("web", "e1", 10))
	r2 := record("web", "r2", event("web", "e2", 20))
	r3 := record("web", "r3", event("web", "e3", 30))
	itemsOf := func(key string, sorts ...string) []store.ItemWrite {
		var out []store.ItemWrite
		for _, so := range sorts {
			out = append(out, store.ItemWrite{Op: store.ItemPut, Item: store.Item{Kind: "seg.hist", Key: key, Sort: so, Value: []byte(`{}`)}})
		}
		return out
	}
	commit(t, s,
		store.Change{
			Keys:    []string{"msg/web/r1"},
			Records: []store.RecordWrite{{Record: r1, ProfileID: "p1"}},
			Claims:  []store.Claim{{Identifier: email("ann"), ProfileID: "p1"}},
			Items:   itemsOf("p1", "a", "b"),
			Outbox:  []events.Envelope{profileEnvelope("o1", "p1", nil, 1)},
		},
		store.Change{
			Keys:    []string{"msg/web/r2"},
			Records: []store.RecordWrite{{Record: r2, ProfileID: "p2"}},
			Claims:  []store.Claim{{Identifier: email("ann.old"), ProfileID: "p2"}},
			Outbox:  []events.Envelope{profileEnvelope("o2", "p2", nil, 2)},
		},
		store.Change{
			Keys:    []string{"msg/web/r3"},
			Records: []store.RecordWrite{{Record: r3, ProfileID: "p3"}},
			Claims:  []store.Claim{{Identifier: email("bob"), ProfileID: "p3"}},
			Items:   itemsOf("p3", "a"),
			Outbox:  []events.Envelope{profileEnvelope("o3", "p3", nil, 3)},
		},
		store.Change{
			Redirects: []store.Redirect{{From: "p2", To: "p1", ExpectVersion: 1, At: at(40)}},
			Outbox:    []events.Envelope{profileEnvelope("o4", "p1", []string{"p2"}, 4)},
		},
	)
	deleted, err := events.New(events.TypeProfileDeleted, at(50), events.ProfileDeleted{Version: events.SchemaVersion, ProfileID: "p1", Reason: "erasure"}, "p1")
	if err != nil {
		t.Fatal(err)
	}
	plan := store.Erasure{
		ProfileIDs:  []string{"p1", "p2"},
		Records:     []store.RecordRef{{Source: "web", ID: "r1"}, {Source: "web", ID: "r2"}, {Source: "web", ID: "r3"}, {Source: "web", ID: "missing"}},
		Identifiers: []profile.Identifier{email("ann"), email("ann.old"), email("bob"), email("nobody")},
		Keys:        []string{"msg/web/r1", "msg/web/r2", "msg/web/never"},
		Items: []store.ItemRef{
			{Kind: "seg.hist", Key: "p1", Sort: "a"}, {Kind: "seg.hist", Key: "p1", Sort: "b"},
			{Kind: "seg.hist", Key: "p1", Sort: "missing"},
		},
		Outbox: []events.Envelope{deleted},
	}
	got, err := er.Erase(ctx(t), plan)
	if err != nil {
		t.Fatalf("Erase() = %v; want nil error", err)
	}
	want := store.ErasedCounts{Profiles: 1, Redirects: 1, Records: 2, Identifiers: 2, Events: 2, Keys: 2, Items: 2, Outbox: 3}
	if got != want {
		t.Errorf("Erase() = %+v; want %+v", got, want)
	}

	for _, id := range []string{"p1", "p2"} {
		_, err := s.Profile(ctx(t), id)
		wantKind(t, "Profile("+id+") after Erase", err, fault.ErrNotFound)
		if evs := allEvents(t, s, id, 10); len(evs) > 0 {
			t.Errorf("Events(%q) after Erase = %v; want none", id, eventIDs(evs))
		}
	}
	checkProfile(t, s, "p3", newProfile("p3"))
	checkResolve(t, s, "p2", "p2")
	for _, id := range []string{"r1", "r2"} {
		_, _, err := s.Record(ctx(t), "web", id)
		wantKind(t, "Record(web, "+id+") after Erase", err, fault.ErrNotFound)
	}
	if _, pid, err := s.Record(ctx(t), "web", "r3"); err != nil || pid != "p3" {
		t.Errorf("Record(web, r3) after Erase = %q, %v; want p3, nil (another person's record)", pid, err)
	}
	checkOwner(t, s, email("ann"), store.Owner{})
	checkOwner(t, s, email("ann.old"), store.Owner{})
	checkOwner(t, s, email("bob"), store.Owner{Claimant: "p3", ProfileID: "p3"})
	checkSeen(t, s, map[string]bool{"msg/web/r1": false, "msg/web/r2": false, "msg/web/r3": true})
	if its, _, err := s.Items(ctx(t), "seg.hist", "p1", "", "", 10, ""); err != nil || len(its) > 0 {
		t.Errorf("Items(seg.hist, p1) after Erase = %d items, %v; want none", len(its), err)
	}
	if its, _, err := s.Items(ctx(t), "seg.hist", "p3", "", "", 10, ""); err != nil || len(its) != 1 {
		t.Errorf("Items(seg.hist, p3) after Erase = %d items, %v; want 1", len(its), err)
	}
	ids := outboxIDs(t, s, 10)
	slices.Sort(ids)
	wantIDs := []string{deleted.ID, "o3"}
	slices.Sort(wantIDs)
	if !slices.Equal(ids, wantIDs) {
		t.Errorf("Outbox() after Erase = %v; want %v", ids, wantIDs)
	}

	// A second run finds nothing more (only its own ProfileDeleted event,
	// which it replaces).
	again, err := er.Erase(ctx(t), plan)
	if err != nil {
		t.Fatalf("Erase() again = %v; want nil error", err)
	}
	if again.Profiles+again.Records+again.Identifiers+again.Keys+again.Items+again.Events != 0 {
		t.Errorf("Erase() again = %+v; want nothing left to erase", again)
	}

	_, err = er.Erase(ctx(t), store.Erasure{})
	wantKind(t, "Erase(no profile ids)", err, fault.ErrInvalid)
}
