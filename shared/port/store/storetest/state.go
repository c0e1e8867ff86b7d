package storetest

import (
	"fmt"
	"testing"

	"github.com/aurum-cdp/aurum/shared/model/events"
	"github.com/aurum-cdp/aurum/shared/model/fault"
	"github.com/aurum-cdp/aurum/shared/model/profile"
	"github.com/aurum-cdp/aurum/shared/port/store"
)

// richProfile exercises every field and every JSON value kind.
func richProfile(id string) profile.Profile {
	return profile.Profile{
		ID:      id,
		Version: 1,
		Identifiers: []profile.Identifier{
			email(id),
			{Type: "phone", Value: "+447700900123"},
			{Type: "customer_id", Value: "C:1001:x"},
		},
		Attributes: map[string]profile.Attribute{
			"first_name": {Value: "Ann", Source: "crm", RecordID: "r1", ObservedAt: at(10)},
			"ltv":        {Value: 1234.5, Source: "shop", RecordID: "o9", ObservedAt: at(20)},
			"opt_in":     {Value: false, Source: "web", RecordID: "m1", ObservedAt: at(30)},
			"tags":       {Value: []any{"vip", 3.0, true}, Source: "crm", RecordID: "r1", ObservedAt: at(10)},
			"address":    {Value: map[string]any{"city": "Lyon", "zip": "69001", "geo": map[string]any{"lat": 45.76, "lon": 4.83}}, Source: "crm", RecordID: "r2", ObservedAt: at(40)},
		},
		Aggregates:  map[string]any{"orders_count": 3.0, "last_order_at": "2024-04-30T08:00:00.123Z", "big": 1e15},
		Sources:     map[string]int{"crm": 2, "shop": 1, "web": 1},
		RecordCount: 4,
		EventCount:  2,
		RecentEvents: []profile.Event{
			event("shop", "o9", 500),
			{ID: "pv1", Source: "web", Type: "page", Name: "Pricing", Timestamp: at(400)},
		},
		MergedFrom: []string{"p-old-1", "p-old-2"},
		CreatedAt:  at(7),
		UpdatedAt:  at(123456),
	}
}

func testProfile(t *testing.T, h Harness) {
	t.Run("CreateAndRead", func(t *testing.T) {
		s := h.New(t)
		p := richProfile("p1")
		commit(t, s, store.Change{Profiles: []store.ProfileWrite{write(p)}})
		checkProfile(t, s, "p1", p)
		checkResolve(t, s, "p1", "p1")
	})
	t.Run("Update", func(t *testing.T) {
		s := h.New(t)
		p1 := newProfile("p1")
		commit(t, s, store.Change{Profiles: []store.ProfileWrite{write(p1)}})
		p2 := bump(p1)
		p2.Attributes = map[string]profile.Attribute{"first_name": {Value: "Anna", Source: "web", RecordID: "m2", ObservedAt: at(99)}}
		commit(t, s, store.Change{Profiles: []store.ProfileWrite{write(p2)}})
		checkProfile(t, s, "p1", p2)
		p3 := bump(p2)
		commit(t, s, store.Change{Profiles: []store.ProfileWrite{write(p3)}})
		checkProfile(t, s, "p1", p3)
	})
	t.Run("Conflicts", func(t *testing.T) {
		base := newProfile("p1") // stored at version 2 below
		v2 := bump(base)
		tests := []struct {
			name string
			w    store.ProfileWrite
		}{
			{"stale version", store.ProfileWrite{Profile: v2, ExpectVersion: 1}},
			{"future version", store.ProfileWrite{Profile: bump(bump(v2)), ExpectVersion: 3}},
			{"create over existing", store.ProfileWrite{Profile: base, ExpectVersion: 0}},
			{"update of missing", store.ProfileWrite{Profile: bump(newProfile("p-missing")), ExpectVersion: 1}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s := h.New(t)
				commit(t, s, store.Change{Profiles: []store.ProfileWrite{write(base)}}, store.Change{Profiles: []store.ProfileWrite{write(v2)}})
				err := s.Commit(ctx(t), store.Change{Profiles: []store.ProfileWrite{tt.w}})
				wantKind(t, "Commit(write "+tt.w.Profile.ID+")", err, fault.ErrConflict)
				checkProfile(t, s, "p1", v2)
				_, err = s.Profile(ctx(t), "p-missing")
				wantKind(t, `Profile("p-missing")`, err, fault.ErrNotFound)
			})
		}
	})
	t.Run("VersionNotExpectPlusOne", func(t *testing.T) {
		tests := []struct {
			name    string
			version int64
			expect  int64
		}{
			{"create at version 2", 2, 0},
			{"create at version 0", 0, 0},
			{"update keeping version", 1, 1},
			{"update skipping a version", 3, 1},
			{"negative expected version", 0, -1},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s := h.New(t)
				create(t, s, "p1")
				p := newProfile("p1")
				if tt.expect == 0 {
					p.ID = "p2"
				}
				p.Version = tt.version
				err := s.Commit(ctx(t), store.Change{Profiles: []store.ProfileWrite{{Profile: p, ExpectVersion: tt.expect}}})
				wantKind(t, fmt.Sprintf("Commit(version %d expecting %d)", tt.version, tt.expect), err, fault.ErrInvalid)
				checkProfile(t, s, "p1", newProfile("p1"))
				_, err = s.Profile(ctx(t), "p2")
				wantKind(t, `Profile("p2")`, err, fault.ErrNotFound)
			})
		}
	})
	t.Run("Missing", func(t *testing.T) {
		s := h.New(t)
		_, err := s.Profile(ctx(t), "nobody")
		wantKind(t, `Profile("nobody")`, err, fault.ErrNotFound)
	})
}

func testClaims(t *testing.T, h Harness) {
	ann := email("ann")
	t.Run("ClaimUnclaimed", func(t *testing.T) {
		s := h.New(t)
		create(t, s, "p1")
		checkOwner(t, s, ann, store.Owner{})
		commit(t, s, store.Change{Claims: []store.Claim{{Identifier: ann, ProfileID: "p1"}}})
		checkOwner(t, s, ann, store.Owner{Claimant: "p1", ProfileID: "p1"})
	})
	t.Run("ExpectClaimantMismatch", func(t *testing.T) {
		tests := []struct {
			name  string
			claim store.Claim
		}{
			{"claimed, expecting unclaimed", store.Claim{Identifier: ann, ProfileID: "p2", ExpectClaimant: ""}},
			{"claimed, expecting another", store.Claim{Identifier: ann, ProfileID: "p2", ExpectClaimant: "p3"}},
			{"claimed, expecting the new claimant", store.Claim{Identifier: ann, ProfileID: "p2", ExpectClaimant: "p2"}},
			{"unclaimed, expecting a claimant", store.Claim{Identifier: email("bob"), ProfileID: "p2", ExpectClaimant: "p1"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s := h.New(t)
				create(t, s, "p1", "p2")
				commit(t, s, store.Change{Claims: []store.Claim{{Identifier: ann, ProfileID: "p1"}}})
				err := s.Commit(ctx(t), store.Change{Claims: []store.Claim{tt.claim}})
				wantKind(t, "Commit(claim)", err, fault.ErrConflict)
				checkOwner(t, s, ann, store.Owner{Claimant: "p1", ProfileID: "p1"})
				checkOwner(t, s, email("bob"), store.Owner{})
			})
		}
	})
	t.Run("Reclaim", func(t *testing.T) {
		s := h.New(t)
		create(t, s, "p1", "p2")
		commit(t, s, store.Change{Claims: []store.Claim{{Identifier: ann, ProfileID: "p1"}}})
		commit(t, s, store.Change{Claims: []store.Claim{{Identifier: ann, ProfileID: "p2", ExpectClaimant: "p1"}}})
		checkOwner(t, s, ann, store.Owner{Claimant: "p2", ProfileID: "p2"})
		err := s.Commit(ctx(t), store.Change{Claims: []store.Claim{{Identifier: ann, ProfileID: "p1", ExpectClaimant: "p1"}}})
		wantKind(t, "Commit(claim expecting the previous claimant)", err, fault.ErrConflict)
		checkOwner(t, s, ann, store.Owner{Claimant: "p2", ProfileID: "p2"})
	})
	t.Run("Owners", func(t *testing.T) {
		s := h.New(t)
		create(t, s, "p1", "p2")
		same := "C-1001"
		ids := []profile.Identifier{
			ann,
			{Type: "customer_id", Value: same},
			{Type: "crm_id", Value: same},
			{Type: "url", Value: "https://example.com:8443/a:b"},
		}
		commit(t, s, store.Change{Claims: []store.Claim{
			{Identifier: ids[0], ProfileID: "p1"},
			{Identifier: ids[1], ProfileID: "p2"},
			{Identifier: ids[3], ProfileID: "p2"},
		}})
		unclaimed := []profile.Identifier{ids[2], email("nobody"), {Type: "customer_id", Value: "C-1002"}}
		got, err := s.Owners(ctx(t), append(append([]profile.Identifier{}, ids...), unclaimed...))
		if err != nil {
			t.Fatalf("Owners() = %v; want nil error", err)
		}
		want := map[profile.Identifier]store.Owner{
			ids[0]: {Claimant: "p1", ProfileID: "p1"},
			ids[1]: {Claimant: "p2", ProfileID: "p2"},
			ids[3]: {Claimant: "p2", ProfileID: "p2"},
		}
		if len(got) != len(want) {
			t.Errorf("Owners() = %v; want %v", got, want)
		}
		for id, w := range want {
			if got[id] != w {
				t.Errorf("Owners()[%v] = %+v; want %+v", id, got[id], w)
			}
		}
		for _, id := range unclaimed {
			if o, ok := got[id]; ok {
				t.Errorf("Owners()[%v] = %+v; want absent", id, o)
			}
		}
		empty, err := s.Owners(ctx(t), nil)
		if err != nil || len(empty) != 0 {
			t.Errorf("Owners(nil) = %v, %v; want empty, nil", empty, err)
		}
	})
}

func testRedirects(t *testing.T, h Harness) {
	t.Run("MergeChange", func(t *testing.T) {
		// The shape the pipeline commits: survivor written, loser
		// redirected, loser's identifier re-claimed, all in one change.
		s := h.New(t)
		create(t, s, "a", "b")
		commit(t, s, store.Change{Claims: []store.Claim{{Identifier: email("x"), ProfileID: "a"}, {Identifier: email("y"), ProfileID: "a"}}})
		b2 := bump(newProfile("b"))
		b2.MergedFrom = []string{"a"}
		commit(t, s, store.Change{
			Profiles:  []store.ProfileWrite{write(b2)},
			Redirects: []store.Redirect{{From: "a", To: "b", ExpectVersion: 1, At: at(5)}},
			Claims:    []store.Claim{{Identifier: email("x"), ProfileID: "b", ExpectClaimant: "a"}},
		})
		checkProfile(t, s, "a", b2)
		checkProfile(t, s, "b", b2)
		checkResolve(t, s, "a", "b")
		checkResolve(t, s, "b", "b")
		checkOwner(t, s, email("x"), store.Owner{Claimant: "b", ProfileID: "b"})
		checkOwner(t, s, email("y"), store.Owner{Claimant: "a", ProfileID: "b"})
	})
	t.Run("Chain", func(t *testing.T) {
		s := h.New(t)
		create(t, s, "a", "b", "c")
		commit(t, s, store.Change{Claims: []store.Claim{{Identifier: email("x"), ProfileID: "a"}}})
		commit(t, s, store.Change{Redirects: []store.Redirect{{From: "a", To: "b", ExpectVersion: 1, At: at(1)}}})
		commit(t, s, store.Change{Redirects: []store.Redirect{{From: "b", To: "c", ExpectVersion: 1, At: at(2)}}})
		for _, id := range []string{"a", "b", "c"} {
			checkResolve(t, s, id, "c")
			checkProfile(t, s, id, newProfile("c"))
		}
		checkOwner(t, s, email("x"), store.Owner{Claimant: "a", ProfileID: "c"})
	})
	t.Run("Conflicts", func(t *testing.T) {
		tests := []struct {
			name string
			r    store.Redirect
		}{
			{"stale version", store.Redirect{From: "a", To: "b", ExpectVersion: 2}},
			{"expecting version 0", store.Redirect{From: "a", To: "b", ExpectVersion: 0}},
			{"missing profile", store.Redirect{From: "ghost", To: "b", ExpectVersion: 1}},
			{"already redirected", store.Redirect{From: "m", To: "b", ExpectVersion: 1}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s := h.New(t)
				create(t, s, "a", "b", "c", "m")
				commit(t, s, store.Change{Redirects: []store.Redirect{{From: "m", To: "c", ExpectVersion: 1}}})
				err := s.Commit(ctx(t), store.Change{Redirects: []store.Redirect{tt.r}})
				wantKind(t, "Commit(redirect "+tt.r.From+")", err, fault.ErrConflict)
				checkResolve(t, s, "a", "a")
				checkResolve(t, s, "m", "c")
				checkProfile(t, s, "a", newProfile("a"))
				_, err = s.Profile(ctx(t), "ghost")
				wantKind(t, `Profile("ghost")`, err, fault.ErrNotFound)
			})
		}
	})
	t.Run("MergedProfileIsReadOnly", func(t *testing.T) {
		// A worker holding the loser's pre-merge version must not revive it.
		tests := []struct {
			name string
			w    store.ProfileWrite
		}{
			{"update from pre-merge version", write(bump(newProfile("a")))},
			{"create again", write(newProfile("a"))},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s := h.New(t)
				create(t, s, "a", "b")
				commit(t, s, store.Change{Redirects: []store.Redirect{{From: "a", To: "b", ExpectVersion: 1}}})
				err := s.Commit(ctx(t), store.Change{Profiles: []store.ProfileWrite{tt.w}})
				wantKind(t, `Commit(write "a")`, err, fault.ErrConflict)
				checkResolve(t, s, "a", "b")
				checkProfile(t, s, "a", newProfile("b"))
			})
		}
	})
}

func testKeys(t *testing.T, h Harness) {
	t.Run("Seen", func(t *testing.T) {
		s := h.New(t)
		checkSeen(t, s, map[string]bool{"k1": false})
		commit(t, s, store.Change{Keys: []string{"k1", "s3://drop/sources/crm/a.csv#12"}}, store.Change{Keys: []string{"k3"}})
		checkSeen(t, s, map[string]bool{"k1": true, "s3://drop/sources/crm/a.csv#12": true, "k3": true, "k4": false, "K1": false})
		got, err := s.Seen(ctx(t), nil)
		if err != nil || len(got) != 0 {
			t.Errorf("Seen(nil) = %v, %v; want empty, nil", got, err)
		}
	})
	t.Run("RecordedKeyConflicts", func(t *testing.T) {
		s := h.New(t)
		commit(t, s, store.Change{Keys: []string{"k1"}})
		err := s.Commit(ctx(t), store.Change{
			Keys:     []string{"k2", "k1"},
			Records:  []store.RecordWrite{{Record: record("web", "r1", event("web", "e1", 1)), ProfileID: "p1"}},
			Profiles: []store.ProfileWrite{write(newProfile("p1"))},
			Claims:   []store.Claim{{Identifier: email("ann"), ProfileID: "p1"}},
			Outbox:   []events.Envelope{envelope("ev1", 1)},
		})
		wantKind(t, "Commit(recorded key)", err, fault.ErrConflict)
		checkNothing(t, s, nothing{keys: []string{"k2"}, records: []string{"r1"}, profiles: []string{"p1"}, ids: []profile.Identifier{email("ann")}})
	})
	t.Run("KeyTwiceInOneCommit", func(t *testing.T) {
		s := h.New(t)
		err := s.Commit(ctx(t),
			store.Change{Keys: []string{"k1"}, Profiles: []store.ProfileWrite{write(newProfile("p1"))}},
			store.Change{Keys: []string{"k1"}, Profiles: []store.ProfileWrite{write(newProfile("p2"))}},
		)
		wantKind(t, "Commit(same key twice)", err, fault.ErrConflict)
		checkSeen(t, s, map[string]bool{"k1": true})
		checkProfile(t, s, "p1", newProfile("p1"))
		checkNothing(t, s, nothing{profiles: []string{"p2"}})
	})
}

func testRecords(t *testing.T, h Harness) {
	t.Run("ReadBack", func(t *testing.T) {
		s := h.New(t)
		r := record("crm", "r1", event("crm", "e1", 5))
		r.Attributes = map[string]any{"plan": "pro", "seats": 12.0, "trial": false, "tags": []any{"a", "b"}, "address": map[string]any{"city": "Lyon"}}
		commit(t, s, store.Change{Records: []store.RecordWrite{{Record: r, ProfileID: "p1"}}})
		got, pid, err := s.Record(ctx(t), "crm", "r1")
		if err != nil {
			t.Fatalf(`Record("crm", "r1") = %v; want nil error`, err)
		}
		if pid != "p1" {
			t.Errorf(`Record("crm", "r1") profile = %q; want "p1"`, pid)
		}
		if g, w, ok := same(got, r); !ok {
			t.Errorf(`Record("crm", "r1") = %s; want %s`, g, w)
		}
	})
	t.Run("Upsert", func(t *testing.T) {
		s := h.New(t)
		commit(t, s, store.Change{Records: []store.RecordWrite{{Record: record("crm", "r1"), ProfileID: "p1"}}})
		r := record("crm", "r1")
		r.Attributes = map[string]any{"plan": "enterprise"}
		r.ObservedAt = at(77)
		commit(t, s, store.Change{Records: []store.RecordWrite{{Record: r, ProfileID: "p2"}}})
		got, pid, err := s.Record(ctx(t), "crm", "r1")
		if err != nil {
			t.Fatalf(`Record("crm", "r1") = %v; want nil error`, err)
		}
		if g, w, ok := same(got, r); !ok || pid != "p2" {
			t.Errorf(`Record("crm", "r1") = %s, %q; want %s, "p2"`, g, pid, w)
		}
	})
	t.Run("SourcesAreSeparate", func(t *testing.T) {
		s := h.New(t)
		a, b := record("crm", "42"), record("shop", "42")
		b.Attributes = map[string]any{"plan": "free"}
		commit(t, s, store.Change{Records: []store.RecordWrite{{Record: a, ProfileID: "p1"}, {Record: b, ProfileID: "p2"}}})
		for _, want := range []struct {
			r   profile.Record
			pid string
		}{{a, "p1"}, {b, "p2"}} {
			got, pid, err := s.Record(ctx(t), want.r.Source, want.r.ID)
			if err != nil {
				t.Fatalf("Record(%q, %q) = %v; want nil error", want.r.Source, want.r.ID, err)
			}
			if g, w, ok := same(got, want.r); !ok || pid != want.pid {
				t.Errorf("Record(%q, %q) = %s, %q; want %s, %q", want.r.Source, want.r.ID, g, pid, w, want.pid)
			}
		}
	})
	t.Run("Missing", func(t *testing.T) {
		s := h.New(t)
		commit(t, s, store.Change{Records: []store.RecordWrite{{Record: record("crm", "r1"), ProfileID: "p1"}}})
		for _, k := range [][2]string{{"crm", "r2"}, {"shop", "r1"}} {
			_, _, err := s.Record(ctx(t), k[0], k[1])
			wantKind(t, "Record("+k[0]+", "+k[1]+")", err, fault.ErrNotFound)
		}
	})
}

// nothing lists what must be absent from a store.
type nothing struct {
	keys     []string
	records  []string // ids in source "web"
	profiles []string
	ids      []profile.Identifier
	events   []string     // profiles whose Events must be empty
	outbox   bool         // the outbox must be empty
	items    []store.Item // items (by kind, key and sort) that must be absent
}

func checkNothing(t *testing.T, s store.Store, n nothing) {
	t.Helper()
	if len(n.keys) > 0 {
		want := map[string]bool{}
		for _, k := range n.keys {
			want[k] = false
		}
		checkSeen(t, s, want)
	}
	for _, id := range n.records {
		_, _, err := s.Record(ctx(t), "web", id)
		wantKind(t, `Record("web", `+id+`)`, err, fault.ErrNotFound)
	}
	for _, id := range n.profiles {
		_, err := s.Profile(ctx(t), id)
		wantKind(t, "Profile("+id+")", err, fault.ErrNotFound)
	}
	for _, id := range n.ids {
		checkOwner(t, s, id, store.Owner{})
	}
	for _, id := range n.events {
		evs, _, err := s.Events(ctx(t), id, 100, "")
		if err != nil || len(evs) != 0 {
			t.Errorf("Events(%q) = %v, %v; want none, nil", id, eventIDs(evs), err)
		}
	}
	if n.outbox {
		if ids := outboxIDs(t, s, 100); len(ids) != 0 {
			t.Errorf("Outbox(100) = %v; want none", ids)
		}
	}
	for _, it := range n.items {
		checkNoItem(t, s, it)
	}
}
