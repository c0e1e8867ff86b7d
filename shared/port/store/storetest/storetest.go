// Package storetest is the conformance suite of the Store port (package
// store), in the style of go-cloud's drivertest: every implementation runs
// it from its own tests, so all of them honour the same contract.
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, storetest.Harness{
//			New:          newTestStore,        // fresh, empty store per subtest
//			Reopen:       reopenTestStore,     // optional
//			NewWithClock: newClockedTestStore, // optional
//		})
//	}
//
// RunConformance(t, newStore) is the short form without reopening.
//
// Conventions the suite relies on and checks:
//
//   - Each subtest calls Harness.New once (Reopen may follow) and expects an
//     empty store. New arranges the store's closing with t.Cleanup; the suite
//     never closes a store itself except through Reopen.
//   - Values are compared by meaning, not representation: both sides are
//     encoded to JSON, times are compared as instants (time zone ignored),
//     and null, [] and {} are treated as absent. Stores must round-trip times
//     at least to the millisecond; the suite only uses UTC times with
//     millisecond precision.
//   - Every change set the suite writes names at most 60 items (records,
//     their events, keys, claims, profiles, redirects, outbox events,
//     generic items), so
//     stores backed by size-limited transactions (DynamoDB: 100 items) run
//     it unchanged.
//   - Generic items: Item, Items and the ItemWrites of Change. An item
//     whose Expires is not after the store's clock is absent for Item,
//     ItemCreate and ItemReplace; the suite keeps such items at least an
//     hour past their expiry (stores may judge expiry to the second), and
//     starts the clocks it gives NewWithClock at the current second so
//     live items are never expired by a background TTL. Items pages are
//     exact: a cursor is returned only before a full page that has more
//     items after it. Item values are at most 64 KiB (larger:
//     fault.ErrTooLarge).
//   - Events with equal timestamps, and outbox events with equal times, may
//     come in any order: the suite only uses distinct times where order is
//     checked. A non-empty Events cursor may lead to an empty last page.
//
// Failures read like `Profile("p1") = ...; want ...`.
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"testing"
	"time"

	"github.com/aurum-cdp/aurum/shared/model/events"
	"github.com/aurum-cdp/aurum/shared/model/profile"
	"github.com/aurum-cdp/aurum/shared/port/store"
)

// Harness tells the suite how to make stores.
type Harness struct {
	// New returns a fresh, empty store and registers its Close with
	// t.Cleanup. Required.
	New func(t *testing.T) store.Store
	// Reopen closes s (made by New in the same test) and returns a new store
	// on the same underlying data. Optional: without it the Reopen subtest
	// is skipped.
	Reopen func(t *testing.T, s store.Store) store.Store
	// NewWithClock is New for a store whose clock is now: it judges item
	// expiry (Item.Expires) by now(), never by the system clock. The suite
	// moves now forward to expire items. Optional: without it the subtests
	// that move time are skipped.
	NewWithClock func(t *testing.T, now func() time.Time) store.Store
}

// RunConformance runs the suite with stores from newStore and no reopen
// test. It is Run(t, Harness{New: newStore}).
func RunConformance(t *testing.T, newStore func(t *testing.T) store.Store) {
	Run(t, Harness{New: newStore})
}

// Run runs the whole suite, each subtest on a fresh store from h.New.
func Run(t *testing.T, h Harness) {
	if h.New == nil {
		t.Fatal("storetest: Harness.New is nil")
	}
	groups := []struct {
		name string
		run  func(*testing.T, Harness)
	}{
		{"Profile", testProfile},
		{"Claims", testClaims},
		{"Redirects", testRedirects},
		{"Atomicity", testAtomicity},
		{"Invalid", testInvalid},
		{"Keys", testKeys},
		{"Records", testRecords},
		{"Events", testEvents},
		{"Outbox", testOutbox},
		{"Items", testItems},
		{"Concurrency", testConcurrency},
		{"LargeMerge", testLargeMerge},
		{"Erase", testErase},
		{"Reopen", testReopen},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) { g.run(t, h) })
	}
}

// Fixtures. All times are UTC with millisecond precision.

var epoch = time.Date(2024, 5, 1, 9, 30, 0, 0, time.UTC)

// at returns epoch plus ms milliseconds.
func at(ms int) time.Time { return epoch.Add(time.Duration(ms) * time.Millisecond) }

func email(local string) profile.Identifier {
	return profile.Identifier{Type: "email", Value: local + "@example.com"}
}

// newProfile returns profile id at version 1.
func newProfile(id string) profile.Profile {
	return profile.Profile{
		ID:          id,
		Version:     1,
		Identifiers: []profile.Identifier{email(id)},
		Attributes: map[string]profile.Attribute{
			"first_name": {Value: "Ann", Source: "crm", RecordID: "r-" + id, ObservedAt: at(1)},
		},
		Sources:     map[string]int{"crm": 1},
		RecordCount: 1,
		CreatedAt:   at(0),
		UpdatedAt:   at(0),
	}
}

// bump returns p at its next version with one more record.
func bump(p profile.Profile) profile.Profile {
	q := p
	q.Version++
	q.RecordCount++
	q.Sources = maps.Clone(p.Sources)
	if q.Sources == nil {
		q.Sources = map[string]int{}
	}
	q.Sources["crm"]++
	q.UpdatedAt = at(int(q.Version) * 1000)
	return q
}

// write is the ProfileWrite of p over its previous version.
func write(p profile.Profile) store.ProfileWrite {
	return store.ProfileWrite{Profile: p, ExpectVersion: p.Version - 1}
}

func event(source, id string, ms int) profile.Event {
	return profile.Event{
		ID:         id,
		Source:     source,
		Type:       "track",
		Name:       "Order Completed",
		Timestamp:  at(ms),
		Properties: map[string]any{"total": 42.5, "currency": "EUR"},
	}
}

func record(source, id string, evs ...profile.Event) profile.Record {
	return profile.Record{
		Source:      source,
		ID:          id,
		ObservedAt:  at(1),
		ReceivedAt:  at(2),
		Identifiers: []profile.Identifier{email("rec-" + id)},
		Attributes:  map[string]any{"plan": "pro"},
		Events:      evs,
		Location:    "api:track",
	}
}

func envelope(id string, ms int) events.Envelope {
	return events.Envelope{
		ID:         id,
		Source:     events.Source,
		DetailType: events.TypeProfileUpdated,
		Time:       at(ms),
		Detail:     json.RawMessage(`{"version":"1","profile_id":"p1","profile_version":2}`),
	}
}

// Helpers.

func commit(t *testing.T, s store.Store, changes ...store.Change) {
	t.Helper()
	if err := s.Commit(t.Context(), changes...); err != nil {
		t.Fatalf("Commit() = %v; want nil", err)
	}
}

// create commits new profiles at version 1.
func create(t *testing.T, s store.Store, ids ...string) {
	t.Helper()
	var c store.Change
	for _, id := range ids {
		c.Profiles = append(c.Profiles, write(newProfile(id)))
	}
	commit(t, s, c)
}

func wantKind(t *testing.T, call string, err, kind error) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Errorf("%s = %v; want %v", call, err, kind)
	}
}

func mustProfile(t *testing.T, s store.Store, id string) profile.Profile {
	t.Helper()
	p, err := s.Profile(t.Context(), id)
	if err != nil {
		t.Fatalf("Profile(%q) = %v; want nil error", id, err)
	}
	return p
}

func checkProfile(t *testing.T, s store.Store, id string, want profile.Profile) {
	t.Helper()
	got, err := s.Profile(t.Context(), id)
	if err != nil {
		t.Errorf("Profile(%q) = %v; want profile %s v%d", id, err, want.ID, want.Version)
		return
	}
	if g, w, ok := same(got, want); !ok {
		t.Errorf("Profile(%q) = %s; want %s", id, g, w)
	}
}

func checkResolve(t *testing.T, s store.Store, id, want string) {
	t.Helper()
	got, err := s.Resolve(t.Context(), id)
	if err != nil || got != want {
		t.Errorf("Resolve(%q) = %q, %v; want %q, nil", id, got, err, want)
	}
}

func checkSeen(t *testing.T, s store.Store, want map[string]bool) {
	t.Helper()
	keys := make([]string, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	got, err := s.Seen(t.Context(), keys)
	if err != nil {
		t.Fatalf("Seen(%q) = %v; want nil error", keys, err)
	}
	for _, k := range keys {
		if got[k] != want[k] {
			t.Errorf("Seen(%q)[%q] = %v; want %v", keys, k, got[k], want[k])
		}
	}
}

// checkOwner checks the owner of id; want.Claimant "" means unclaimed.
func checkOwner(t *testing.T, s store.Store, id profile.Identifier, want store.Owner) {
	t.Helper()
	got, err := s.Owners(t.Context(), []profile.Identifier{id})
	if err != nil {
		t.Fatalf("Owners(%v) = %v; want nil error", id, err)
	}
	o, ok := got[id]
	switch {
	case want.Claimant == "" && ok:
		t.Errorf("Owners(%v)[%v] = %+v; want absent", id, id, o)
	case want.Claimant != "" && (!ok || o != want):
		t.Errorf("Owners(%v)[%v] = %+v (present %v); want %+v", id, id, o, ok, want)
	}
}

// allEvents pages through Events(id) with limit and returns the events in
// order. It fails the test on a page longer than limit, an empty page with
// a cursor after it, or too many pages.
func allEvents(t *testing.T, s store.Store, id string, limit int) []profile.Event {
	t.Helper()
	var out []profile.Event
	cursor := ""
	for page := 0; ; page++ {
		if page > 100000 {
			t.Fatalf("Events(%q, %d, ...): more than 100000 pages", id, limit)
		}
		evs, next, err := s.Events(t.Context(), id, limit, cursor)
		if err != nil {
			t.Fatalf("Events(%q, %d, %q) = %v; want nil error", id, limit, cursor, err)
		}
		if len(evs) > limit {
			t.Fatalf("Events(%q, %d, %q) returned %d events; want at most %d", id, limit, cursor, len(evs), limit)
		}
		out = append(out, evs...)
		if next == "" {
			return out
		}
		if len(evs) == 0 {
			t.Fatalf("Events(%q, %d, %q) = no events and cursor %q; want events or an empty cursor", id, limit, cursor, next)
		}
		cursor = next
	}
}

func eventIDs(evs []profile.Event) []string {
	ids := make([]string, len(evs))
	for i, e := range evs {
		ids[i] = e.ID
	}
	return ids
}

func outboxIDs(t *testing.T, s store.Store, limit int) []string {
	t.Helper()
	envs, err := s.Outbox(t.Context(), limit)
	if err != nil {
		t.Fatalf("Outbox(%d) = %v; want nil error", limit, err)
	}
	ids := make([]string, len(envs))
	for i, e := range envs {
		ids[i] = e.ID
	}
	return ids
}

// same compares got and want by meaning and returns their canonical JSON.
func same(got, want any) (string, string, bool) {
	gs, ws := canonical(got), canonical(want)
	return gs, ws, gs == ws
}

// canonical encodes v to JSON and back, drops null, [] and {} members of
// objects and rewrites RFC 3339 times as UTC instants. It returns the
// resulting JSON, object keys sorted.
func canonical(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("<unencodable: %v>", err)
	}
	var x any
	if err := json.Unmarshal(b, &x); err != nil {
		return fmt.Sprintf("<undecodable: %v>", err)
	}
	b, err = json.Marshal(normalize(x))
	if err != nil {
		return fmt.Sprintf("<unencodable: %v>", err)
	}
	return string(b)
}

func normalize(x any) any {
	switch v := x.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			e = normalize(e)
			if isEmpty(e) {
				continue
			}
			out[k] = e
		}
		return out
	case []any:
		for i := range v {
			v[i] = normalize(v[i])
		}
		return v
	case string:
		if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
			return t.UTC().Format(time.RFC3339Nano)
		}
	}
	return x
}

func isEmpty(x any) bool {
	switch v := x.(type) {
	case nil:
		return true
	case map[string]any:
		return len(v) == 0
	case []any:
		return len(v) == 0
	}
	return false
}

// ctx is shorthand for the test's context.
func ctx(t *testing.T) context.Context { return t.Context() }
