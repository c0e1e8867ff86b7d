package storetest

import (
	"slices"
	"testing"

	"github.com/aurum-cdp/aurum/shared/model/events"
	"github.com/aurum-cdp/aurum/shared/model/fault"
	"github.com/aurum-cdp/aurum/shared/model/profile"
	"github.com/aurum-cdp/aurum/shared/port/store"
)

// fullChange touches every kind of item: key k-new, record web/r-new with
// event e-new, profile p-new, identifier email new, outbox event ev-new,
// generic items test.item/p-new/new (put) and test.item/p-new/n (added).
func fullChange() store.Change {
	return store.Change{
		Keys:     []string{"k-new"},
		Records:  []store.RecordWrite{{Record: record("web", "r-new", event("web", "e-new", 10)), ProfileID: "p-new"}},
		Profiles: []store.ProfileWrite{write(newProfile("p-new"))},
		Claims:   []store.Claim{{Identifier: email("new"), ProfileID: "p-new"}},
		Outbox:   []events.Envelope{envelope("ev-new", 10)},
		Items: []store.ItemWrite{
			put(item("p-new", "new", `{"new":true}`, 1)),
			itemOp(store.ItemAdd, item("p-new", "n", "", 1), 0),
		},
	}
}

// fullChangeAbsent is what fullChange would have written.
var fullChangeAbsent = nothing{
	keys:     []string{"k-new"},
	records:  []string{"r-new"},
	profiles: []string{"p-new"},
	ids:      []profile.Identifier{email("new")},
	events:   []string{"p-new"},
	outbox:   true,
	items:    []store.Item{item("p-new", "new", "", 0), item("p-new", "n", "", 0)},
}

func testAtomicity(t *testing.T, h Harness) {
	// Stored before each case: profile p-old at version 1 claiming email
	// taken, key k-used, item test.item/p-old/s at version 1.
	setup := func(t *testing.T) store.Store {
		s := h.New(t)
		commit(t, s, store.Change{
			Keys:     []string{"k-used"},
			Profiles: []store.ProfileWrite{write(newProfile("p-old"))},
			Claims:   []store.Claim{{Identifier: email("taken"), ProfileID: "p-old"}},
			Items:    []store.ItemWrite{put(item("p-old", "s", `{"old":true}`, 1))},
		})
		return s
	}
	tests := []struct {
		name string
		fail func(*store.Change) // makes the last item of one kind fail
	}{
		{"claim of a claimed identifier", func(c *store.Change) {
			c.Claims = append(c.Claims, store.Claim{Identifier: email("taken"), ProfileID: "p-new"})
		}},
		{"claim expecting a wrong claimant", func(c *store.Change) {
			c.Claims = append(c.Claims, store.Claim{Identifier: email("taken"), ProfileID: "p-new", ExpectClaimant: "p-new"})
		}},
		{"stale profile version", func(c *store.Change) {
			p := bump(bump(newProfile("p-old")))
			c.Profiles = append(c.Profiles, write(p))
		}},
		{"create over existing profile", func(c *store.Change) {
			c.Profiles = append(c.Profiles, write(newProfile("p-old")))
		}},
		{"recorded key", func(c *store.Change) {
			c.Keys = append(c.Keys, "k-used")
		}},
		{"stale redirect", func(c *store.Change) {
			c.Redirects = append(c.Redirects, store.Redirect{From: "p-old", To: "p-new", ExpectVersion: 7})
		}},
		{"redirect of a missing profile", func(c *store.Change) {
			c.Redirects = append(c.Redirects, store.Redirect{From: "p-ghost", To: "p-new", ExpectVersion: 1})
		}},
		{"create over existing item", func(c *store.Change) {
			c.Items = append(c.Items, itemOp(store.ItemCreate, item("p-old", "s", `{}`, 0), 0))
		}},
		{"replace of an item at a stale version", func(c *store.Change) {
			c.Items = append(c.Items, itemOp(store.ItemReplace, item("p-old", "s", `{}`, 0), 2))
		}},
		{"replace of a missing item", func(c *store.Change) {
			c.Items = append(c.Items, itemOp(store.ItemReplace, item("p-old", "ghost", `{}`, 0), 0))
		}},
		{"delete of an item at a stale version", func(c *store.Change) {
			c.Items = append(c.Items, itemOp(store.ItemDelete, item("p-old", "s", "", 0), 2))
		}},
	}
	for _, tt := range tests {
		t.Run("FailingChangeWritesNothing/"+tt.name, func(t *testing.T) {
			s := setup(t)
			c := fullChange()
			tt.fail(&c)
			err := s.Commit(ctx(t), c)
			wantKind(t, "Commit(failing change)", err, fault.ErrConflict)
			checkNothing(t, s, fullChangeAbsent)
			checkProfile(t, s, "p-old", newProfile("p-old"))
			checkResolve(t, s, "p-old", "p-old")
			checkOwner(t, s, email("taken"), store.Owner{Claimant: "p-old", ProfileID: "p-old"})
			checkItem(t, s, atVersion(item("p-old", "s", `{"old":true}`, 1), 1))
			// The same change without the failing item commits.
			commit(t, s, fullChange())
			checkProfile(t, s, "p-new", newProfile("p-new"))
			checkItem(t, s, atVersion(item("p-new", "new", `{"new":true}`, 1), 1))
		})
	}
	t.Run("CommitStopsAtFailure", func(t *testing.T) {
		s := h.New(t)
		c1 := store.Change{Keys: []string{"k1"}, Profiles: []store.ProfileWrite{write(newProfile("p1"))}, Outbox: []events.Envelope{envelope("ev1", 1)}}
		c2 := store.Change{Keys: []string{"k2"}, Profiles: []store.ProfileWrite{write(newProfile("p2"))}, Claims: []store.Claim{{Identifier: email("two"), ProfileID: "p2"}}}
		c3 := fullChange()
		c3.Profiles = append(c3.Profiles, write(newProfile("p1"))) // p1 exists by then
		c4 := store.Change{Keys: []string{"k4"}, Profiles: []store.ProfileWrite{write(newProfile("p4"))}, Outbox: []events.Envelope{envelope("ev4", 4)}}
		err := s.Commit(ctx(t), c1, c2, c3, c4)
		wantKind(t, "Commit(c1, c2, failing c3, c4)", err, fault.ErrConflict)
		if n := store.Applied(err, 4); n != 2 {
			t.Errorf("store.Applied(Commit(c1, c2, failing c3, c4), 4) = %d; want 2 (a *store.CommitError counting c1 and c2)", n)
		}
		checkSeen(t, s, map[string]bool{"k1": true, "k2": true, "k-new": false, "k4": false})
		checkProfile(t, s, "p1", newProfile("p1"))
		checkProfile(t, s, "p2", newProfile("p2"))
		checkOwner(t, s, email("two"), store.Owner{Claimant: "p2", ProfileID: "p2"})
		checkNothing(t, s, nothing{records: []string{"r-new"}, profiles: []string{"p-new", "p4"}, ids: []profile.Identifier{email("new")}, events: []string{"p-new"}, items: fullChangeAbsent.items})
		if got, want := outboxIDs(t, s, 100), []string{"ev1"}; !slices.Equal(got, want) {
			t.Errorf("Outbox(100) = %v; want %v", got, want)
		}
	})
	t.Run("LaterChangeSeesEarlier", func(t *testing.T) {
		s := h.New(t)
		p1 := newProfile("p")
		p2 := bump(p1)
		err := s.Commit(ctx(t),
			store.Change{Profiles: []store.ProfileWrite{write(p1)}},
			store.Change{Profiles: []store.ProfileWrite{write(p2)}},
			store.Change{Claims: []store.Claim{{Identifier: email("x"), ProfileID: "p"}}},
			store.Change{Claims: []store.Claim{{Identifier: email("x"), ProfileID: "q", ExpectClaimant: "p"}}, Profiles: []store.ProfileWrite{write(newProfile("q"))}},
			store.Change{Redirects: []store.Redirect{{From: "q", To: "p", ExpectVersion: 1}}},
		)
		if err != nil {
			t.Fatalf("Commit(5 dependent changes) = %v; want nil", err)
		}
		checkProfile(t, s, "p", p2)
		checkOwner(t, s, email("x"), store.Owner{Claimant: "q", ProfileID: "p"})
	})
	t.Run("Empty", func(t *testing.T) {
		s := h.New(t)
		if err := s.Commit(ctx(t)); err != nil {
			t.Errorf("Commit() = %v; want nil", err)
		}
		if err := s.Commit(ctx(t), store.Change{}); err != nil {
			t.Errorf("Commit(empty change) = %v; want nil", err)
		}
	})
}

func testInvalid(t *testing.T, h Harness) {
	// Each case breaks the rules of Change; the change carries key
	// k-invalid and must write nothing.
	tests := []struct {
		name   string
		change store.Change
	}{
		{"create at version 2", store.Change{Profiles: []store.ProfileWrite{{Profile: bump(newProfile("p1")), ExpectVersion: 0}}}},
		{"empty profile id", store.Change{Profiles: []store.ProfileWrite{write(newProfile(""))}}},
		{"profile written twice", store.Change{Profiles: []store.ProfileWrite{write(newProfile("p1")), write(newProfile("p1"))}}},
		{"profile written and redirected", store.Change{
			Profiles:  []store.ProfileWrite{write(newProfile("p1"))},
			Redirects: []store.Redirect{{From: "p1", To: "p0", ExpectVersion: 1}},
		}},
		{"profile redirected twice", store.Change{Redirects: []store.Redirect{{From: "p0", To: "p1", ExpectVersion: 1}, {From: "p0", To: "p2", ExpectVersion: 1}}}},
		{"redirect to itself", store.Change{Redirects: []store.Redirect{{From: "p0", To: "p0", ExpectVersion: 1}}}},
		{"identifier claimed twice", store.Change{Claims: []store.Claim{{Identifier: email("x"), ProfileID: "p0"}, {Identifier: email("x"), ProfileID: "p1"}}}},
		{"record written twice", store.Change{Records: []store.RecordWrite{{Record: record("web", "r1"), ProfileID: "p0"}, {Record: record("web", "r1"), ProfileID: "p0"}}}},
		{"key named twice", store.Change{Keys: []string{"k-other", "k-other"}}},
		{"outbox event named twice", store.Change{Outbox: []events.Envelope{envelope("ev1", 1), envelope("ev1", 2)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := h.New(t)
			create(t, s, "p0")
			c := tt.change
			c.Keys = append([]string{"k-invalid"}, c.Keys...)
			err := s.Commit(ctx(t), c)
			wantKind(t, "Commit(invalid change)", err, fault.ErrInvalid)
			checkNothing(t, s, nothing{
				keys:     []string{"k-invalid", "k-other"},
				records:  []string{"r1"},
				profiles: []string{"p1", "p2"},
				ids:      []profile.Identifier{email("x")},
				outbox:   true,
			})
			checkResolve(t, s, "p0", "p0")
			checkProfile(t, s, "p0", newProfile("p0"))
		})
	}
}
