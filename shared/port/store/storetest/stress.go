package storetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/aurum-cdp/aurum/shared/model/events"
	"github.com/aurum-cdp/aurum/shared/model/fault"
	"github.com/aurum-cdp/aurum/shared/model/profile"
	"github.com/aurum-cdp/aurum/shared/port/store"
)

// workers is the number of goroutines racing in the concurrency tests.
const workers = 8

// maxAttempts bounds the retries of one operation under contention.
const maxAttempts = 10000

func testConcurrency(t *testing.T, h Harness) {
	t.Run("ClaimRace", func(t *testing.T) {
		s := h.New(t)
		ids := make([]profile.Identifier, 16)
		for i := range ids {
			ids[i] = email(fmt.Sprintf("race%02d", i))
		}
		var (
			mu   sync.Mutex
			wins = map[profile.Identifier][]string{}
			wg   sync.WaitGroup
		)
		for w := range workers {
			wg.Go(func() {
				me := fmt.Sprintf("w%d", w)
				for k := range ids {
					id := ids[(k+w)%len(ids)] // each worker starts elsewhere
					err := s.Commit(ctx(t), store.Change{Claims: []store.Claim{{Identifier: id, ProfileID: me}}})
					switch {
					case err == nil:
						mu.Lock()
						wins[id] = append(wins[id], me)
						mu.Unlock()
					case errors.Is(err, fault.ErrConflict):
					default:
						t.Errorf("Commit(claim by %s) = %v; want nil or %v", me, err, fault.ErrConflict)
					}
				}
			})
		}
		wg.Wait()
		got, err := s.Owners(ctx(t), ids)
		if err != nil {
			t.Fatalf("Owners() = %v; want nil error", err)
		}
		for _, id := range ids {
			if len(wins[id]) != 1 {
				t.Errorf("claims of %v won by %v; want exactly one winner", id, wins[id])
				continue
			}
			if want := (store.Owner{Claimant: wins[id][0], ProfileID: wins[id][0]}); got[id] != want {
				t.Errorf("Owners()[%v] = %+v; want %+v", id, got[id], want)
			}
		}
	})
	t.Run("ClaimHandoff", func(t *testing.T) {
		// Workers take an identifier over from whoever holds it, re-reading
		// and retrying on conflict. Every success must start from the
		// state the previous success left: the successes form one chain.
		s := h.New(t)
		id := email("contested")
		const per = 5
		var (
			mu   sync.Mutex
			from = map[string]string{} // expected claimant → new claimant
			dups []string
			wg   sync.WaitGroup
		)
		for w := range workers {
			wg.Go(func() {
				for k := 0; k < per; {
					me := fmt.Sprintf("w%d-%d", w, k)
					for attempt := 0; ; attempt++ {
						if attempt == maxAttempts {
							t.Errorf("claim by %s: still conflicting after %d attempts", me, maxAttempts)
							return
						}
						owners, err := s.Owners(ctx(t), []profile.Identifier{id})
						if err != nil {
							t.Errorf("Owners() = %v; want nil error", err)
							return
						}
						cur := owners[id].Claimant
						err = s.Commit(ctx(t), store.Change{Claims: []store.Claim{{Identifier: id, ProfileID: me, ExpectClaimant: cur}}})
						if errors.Is(err, fault.ErrConflict) {
							continue
						}
						if err != nil {
							t.Errorf("Commit(claim by %s) = %v; want nil or %v", me, err, fault.ErrConflict)
							return
						}
						mu.Lock()
						if _, ok := from[cur]; ok {
							dups = append(dups, cur)
						}
						from[cur] = me
						mu.Unlock()
						break
					}
					k++
				}
			})
		}
		wg.Wait()
		if len(dups) > 0 {
			t.Errorf("claims succeeded twice from claimants %q; want each claimant replaced once", dups)
		}
		last, n := "", 0
		for next, ok := from[""]; ok; next, ok = from[last] {
			last = next
			n++
			if n > len(from) {
				break
			}
		}
		if n != workers*per || len(from) != workers*per {
			t.Errorf("handoff chain from unclaimed covers %d of %d successful claims; want %d of %d", n, len(from), workers*per, workers*per)
		}
		checkOwner(t, s, id, store.Owner{Claimant: last, ProfileID: last})
	})
	t.Run("CreateRace", func(t *testing.T) {
		s := h.New(t)
		var (
			mu      sync.Mutex
			winners []profile.Profile
			wg      sync.WaitGroup
		)
		for w := range workers {
			wg.Go(func() {
				p := newProfile("p")
				p.Attributes = map[string]profile.Attribute{"creator": {Value: fmt.Sprintf("w%d", w), Source: "crm", RecordID: "r", ObservedAt: at(w)}}
				err := s.Commit(ctx(t), store.Change{Profiles: []store.ProfileWrite{write(p)}})
				switch {
				case err == nil:
					mu.Lock()
					winners = append(winners, p)
					mu.Unlock()
				case !errors.Is(err, fault.ErrConflict):
					t.Errorf("Commit(create p) = %v; want nil or %v", err, fault.ErrConflict)
				}
			})
		}
		wg.Wait()
		if len(winners) != 1 {
			t.Fatalf("%d of %d concurrent creates of the same profile succeeded; want 1", len(winners), workers)
		}
		checkProfile(t, s, "p", winners[0])
	})
	t.Run("CounterNoLostUpdates", func(t *testing.T) {
		s := h.New(t)
		p := newProfile("p")
		p.Aggregates = map[string]any{"counter": 0.0}
		commit(t, s, store.Change{Profiles: []store.ProfileWrite{write(p)}})
		const per = 10
		var wg sync.WaitGroup
		for range workers {
			wg.Go(func() {
				for range per {
					for attempt := 0; ; attempt++ {
						if attempt == maxAttempts {
							t.Errorf("increment: still conflicting after %d attempts", maxAttempts)
							return
						}
						cur, err := s.Profile(ctx(t), "p")
						if err != nil {
							t.Errorf(`Profile("p") = %v; want nil error`, err)
							return
						}
						n, _ := cur.Aggregates["counter"].(float64)
						next := bump(cur)
						next.Aggregates = map[string]any{"counter": n + 1}
						err = s.Commit(ctx(t), store.Change{Profiles: []store.ProfileWrite{write(next)}})
						if errors.Is(err, fault.ErrConflict) {
							continue
						}
						if err != nil {
							t.Errorf(`Commit(increment "p") = %v; want nil or %v`, err, fault.ErrConflict)
							return
						}
						break
					}
				}
			})
		}
		wg.Wait()
		got := mustProfile(t, s, "p")
		if want := int64(1 + workers*per); got.Version != want {
			t.Errorf(`Profile("p").Version = %d; want %d`, got.Version, want)
		}
		if n, want := got.Aggregates["counter"], float64(workers*per); n != want {
			t.Errorf(`Profile("p").Aggregates["counter"] = %v; want %v`, n, want)
		}
	})
}

func testLargeMerge(t *testing.T, h Harness) {
	// A profile with thousands of records, each with an event, merges into
	// another in one small change: merge cost does not depend on size.
	const (
		n         = 3000
		perChange = 20
		perCommit = 25
	)
	s := h.New(t)
	create(t, s, "big", "small")
	var batch []store.Change
	for i := 0; i < n; i += perChange {
		var c store.Change
		for j := i; j < i+perChange && j < n; j++ {
			c.Records = append(c.Records, store.RecordWrite{
				Record:    record("bulk", fmt.Sprintf("r%04d", j), event("bulk", fmt.Sprintf("e%04d", j), 10*(j+1))),
				ProfileID: "big",
			})
		}
		if i == 0 {
			c.Claims = []store.Claim{{Identifier: email("big"), ProfileID: "big"}}
		}
		batch = append(batch, c)
		if len(batch) == perCommit {
			commit(t, s, batch...)
			batch = nil
		}
	}
	commit(t, s, batch...)
	commit(t, s, eventsChange("small", "small", 5, 100000))

	small2 := bump(newProfile("small"))
	small2.MergedFrom = []string{"big"}
	commit(t, s, store.Change{
		Keys:      []string{"merge-big"},
		Profiles:  []store.ProfileWrite{write(small2)},
		Redirects: []store.Redirect{{From: "big", To: "small", ExpectVersion: 1, At: at(999999)}},
		Outbox:    []events.Envelope{envelope("merged", 999999)},
	})

	checkProfile(t, s, "big", small2)
	checkResolve(t, s, "big", "small")
	checkOwner(t, s, email("big"), store.Owner{Claimant: "big", ProfileID: "small"})
	if _, pid, err := s.Record(ctx(t), "bulk", "r1234"); err != nil || pid != "big" {
		t.Errorf(`Record("bulk", "r1234") = %q, %v; want "big", nil`, pid, err)
	}
	got := eventIDs(allEvents(t, s, "small", 1000))
	want := []string{"small-e1"}
	for j := n - 1; j >= 0; j-- {
		want = append(want, fmt.Sprintf("e%04d", j))
	}
	want = append(want, "small-e0")
	if !slices.Equal(got, want) {
		t.Errorf(`Events("small") = %d events starting %v; want %d starting %v`, len(got), got[:min(5, len(got))], len(want), want[:5])
	}
}

func testReopen(t *testing.T, h Harness) {
	if h.Reopen == nil {
		t.Skip("storetest: Harness.Reopen not set")
	}
	s := h.New(t)
	p := richProfile("p")
	r := record("web", "r1", event("web", "e1", 100), event("web", "e2", 200))
	commit(t, s,
		store.Change{
			Keys:     []string{"k1"},
			Records:  []store.RecordWrite{{Record: r, ProfileID: "p"}},
			Profiles: []store.ProfileWrite{write(p), write(newProfile("q"))},
			Claims:   []store.Claim{{Identifier: email("ann"), ProfileID: "q"}},
			Outbox:   []events.Envelope{envelope("ev2", 20), envelope("ev1", 10)},
		},
		store.Change{Redirects: []store.Redirect{{From: "q", To: "p", ExpectVersion: 1}}},
	)
	s = h.Reopen(t, s)

	checkProfile(t, s, "p", p)
	checkProfile(t, s, "q", p)
	checkOwner(t, s, email("ann"), store.Owner{Claimant: "q", ProfileID: "p"})
	checkSeen(t, s, map[string]bool{"k1": true, "k2": false})
	got, pid, err := s.Record(ctx(t), "web", "r1")
	if g, w, ok := same(got, r); err != nil || !ok || pid != "p" {
		t.Errorf(`Record("web", "r1") = %s, %q, %v; want %s, "p", nil`, g, pid, err, w)
	}
	if got, want := eventIDs(allEvents(t, s, "p", 1)), []string{"e2", "e1"}; !slices.Equal(got, want) {
		t.Errorf(`Events("p") = %v; want %v`, got, want)
	}
	if got, want := outboxIDs(t, s, 10), []string{"ev1", "ev2"}; !slices.Equal(got, want) {
		t.Errorf("Outbox(10) = %v; want %v", got, want)
	}

	// The reopened store keeps working, version checks included.
	err = s.Commit(ctx(t), store.Change{Profiles: []store.ProfileWrite{write(newProfile("p"))}})
	wantKind(t, `Commit(create "p" again)`, err, fault.ErrConflict)
	p2 := bump(p)
	commit(t, s, store.Change{
		Keys:     []string{"k2"},
		Profiles: []store.ProfileWrite{write(p2)},
		Outbox:   []events.Envelope{envelope("ev0", 5)},
	})
	checkProfile(t, s, "q", p2)
	if err := s.Ack(ctx(t), []string{"ev1"}); err != nil {
		t.Fatalf("Ack(ev1) = %v; want nil", err)
	}
	if got, want := outboxIDs(t, s, 10), []string{"ev0", "ev2"}; !slices.Equal(got, want) {
		t.Errorf("Outbox(10) = %v; want %v", got, want)
	}
}
