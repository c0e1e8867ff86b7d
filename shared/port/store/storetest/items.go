package storetest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aurum-cdp/aurum/shared/kit/clocktest"
	"github.com/aurum-cdp/aurum/shared/model/events"
	"github.com/aurum-cdp/aurum/shared/model/fault"
	"github.com/aurum-cdp/aurum/shared/model/profile"
	"github.com/aurum-cdp/aurum/shared/port/store"
)

// maxItemValue is the largest item value the contract allows (64 KiB).
const maxItemValue = 64 * 1024

// farFuture is an expiry no test run reaches.
var farFuture = time.Date(2100, 1, 2, 3, 4, 5, 678_000_000, time.UTC)

// item returns an item of kind "test.item" with a JSON value.
func item(key, sort, value string, n int64) store.Item {
	it := store.Item{Kind: "test.item", Key: key, Sort: sort, N: n}
	if value != "" {
		it.Value = []byte(value)
	}
	return it
}

func put(it store.Item) store.ItemWrite { return store.ItemWrite{Op: store.ItemPut, Item: it} }

func itemOp(op store.ItemOp, it store.Item, expect int64) store.ItemWrite {
	return store.ItemWrite{Op: op, Item: it, ExpectVersion: expect}
}

func itemName(it store.Item) string { return fmt.Sprintf("(%q, %q, %q)", it.Kind, it.Key, it.Sort) }

// checkItem checks the stored item named like want, whose Version is the
// expected version.
func checkItem(t *testing.T, s store.Store, want store.Item) {
	t.Helper()
	got, err := s.Item(ctx(t), want.Kind, want.Key, want.Sort)
	if err != nil {
		t.Errorf("Item%s = %v; want %s v%d", itemName(want), err, want.Value, want.Version)
		return
	}
	if g, w, ok := same(got, want); !ok {
		t.Errorf("Item%s = %s; want %s", itemName(want), g, w)
	}
}

// checkNoItem checks that the item named like it is absent.
func checkNoItem(t *testing.T, s store.Store, it store.Item) {
	t.Helper()
	got, err := s.Item(ctx(t), it.Kind, it.Key, it.Sort)
	if !errors.Is(err, fault.ErrNotFound) {
		t.Errorf("Item%s = %s, %v; want %v", itemName(it), canonical(got), err, fault.ErrNotFound)
	}
}

// atVersion returns it at version v.
func atVersion(it store.Item, v int64) store.Item {
	it.Version = v
	return it
}

// allItems pages through Items(kind, key, from, to) with limit and returns
// the sort keys in order. It fails the test on a page longer than limit, a
// page shorter than limit with a cursor after it, an empty page after a
// cursor, or too many pages.
func allItems(t *testing.T, s store.Store, kind, key, from, to string, limit int) []string {
	t.Helper()
	var out []string
	cursor := ""
	for page := 0; ; page++ {
		if page > 10000 {
			t.Fatalf("Items(%q, %q, %q, %q, %d, ...): more than 10000 pages", kind, key, from, to, limit)
		}
		its, next, err := s.Items(ctx(t), kind, key, from, to, limit, cursor)
		if err != nil {
			t.Fatalf("Items(%q, %q, %q, %q, %d, %q) = %v; want nil error", kind, key, from, to, limit, cursor, err)
		}
		if cursor != "" && len(its) == 0 {
			t.Fatalf("Items(%q, %q, %q, %q, %d, %q) = no items; want a cursor only before a page with items", kind, key, from, to, limit, cursor)
		}
		if len(its) > limit {
			t.Fatalf("Items(%q, %q, %q, %q, %d, %q) returned %d items; want at most %d", kind, key, from, to, limit, cursor, len(its), limit)
		}
		for _, it := range its {
			if it.Kind != kind || it.Key != key {
				t.Errorf("Items(%q, %q, ...) returned item %s; want kind %q and key %q", kind, key, itemName(it), kind, key)
			}
			out = append(out, it.Sort)
		}
		if next == "" {
			return out
		}
		if len(its) < limit {
			t.Fatalf("Items(%q, %q, %q, %q, %d, %q) = %d items and cursor %q; want %d items before a cursor, or an empty cursor", kind, key, from, to, limit, cursor, len(its), next, limit)
		}
		cursor = next
	}
}

// newClocked returns a store from h.NewWithClock and its clock, which
// starts at the current second (so a store with real background expiry,
// like DynamoDB TTL, never deletes the items the test keeps live). It skips
// the test without NewWithClock.
func newClocked(t *testing.T, h Harness) (store.Store, *clocktest.Clock) {
	t.Helper()
	if h.NewWithClock == nil {
		t.Skip("storetest: Harness.NewWithClock not set")
	}
	c := clocktest.New(time.Now().UTC().Truncate(time.Second))
	return h.NewWithClock(t, c.Now), c
}

func testItems(t *testing.T, h Harness) {
	t.Run("RoundTrip", func(t *testing.T) {
		s := h.New(t)
		full := item("p1", "2024-05-01T09:30:00Z#vip", `{"segment":"vip","entered_at":"2024-05-01T09:30:00Z","n":[1,2.5,true,null]}`, 42)
		full.Expires = farFuture
		bare := item("p1", "bare", "", 0)
		commit(t, s, store.Change{Items: []store.ItemWrite{put(full), put(bare)}})
		checkItem(t, s, atVersion(full, 1))
		checkItem(t, s, atVersion(bare, 1))
		checkNoItem(t, s, item("p1", "missing", "", 0))
		checkNoItem(t, s, item("p2", full.Sort, "", 0))
		checkNoItem(t, s, store.Item{Kind: "other.kind", Key: "p1", Sort: full.Sort})
	})
	t.Run("LargestValue", func(t *testing.T) {
		s := h.New(t)
		it := item("p1", "s", `"`+strings.Repeat("x", maxItemValue-2)+`"`, 0)
		commit(t, s, store.Change{Items: []store.ItemWrite{put(it)}})
		checkItem(t, s, atVersion(it, 1))
	})
	t.Run("Versions", func(t *testing.T) {
		s := h.New(t)
		want := int64(0)
		step := func(w store.ItemWrite) {
			t.Helper()
			commit(t, s, store.Change{Items: []store.ItemWrite{w}})
			want++
			got, err := s.Item(ctx(t), w.Item.Kind, w.Item.Key, w.Item.Sort)
			if err != nil || got.Version != want {
				t.Errorf("Item%s after write %d = version %d, %v; want version %d, nil", itemName(w.Item), want, got.Version, err, want)
			}
		}
		it := item("p1", "s", `{"a":1}`, 1)
		step(put(it))
		step(put(it))
		step(put(it))
		step(itemOp(store.ItemReplace, it, 3))
		step(itemOp(store.ItemReplace, it, 0))
		step(itemOp(store.ItemAdd, it, 0))
		// A deleted item starts again at version 1.
		commit(t, s, store.Change{Items: []store.ItemWrite{itemOp(store.ItemDelete, it, 0)}})
		want = 0
		step(itemOp(store.ItemCreate, it, 0))
	})
	t.Run("PutReplacesEverything", func(t *testing.T) {
		s := h.New(t)
		it := item("p1", "s", `{"a":1}`, 7)
		it.Expires = farFuture
		commit(t, s, store.Change{Items: []store.ItemWrite{put(it)}})
		bare := item("p1", "s", "", 0)
		commit(t, s, store.Change{Items: []store.ItemWrite{put(bare)}})
		checkItem(t, s, atVersion(bare, 2))
		next := item("p1", "s", `{"b":2}`, -3)
		commit(t, s, store.Change{Items: []store.ItemWrite{itemOp(store.ItemReplace, next, 2)}})
		checkItem(t, s, atVersion(next, 3))
	})
	t.Run("Create", func(t *testing.T) {
		s := h.New(t)
		it := item("p1", "fired", `{"trigger":"welcome"}`, 0)
		commit(t, s, store.Change{Items: []store.ItemWrite{itemOp(store.ItemCreate, it, 0)}})
		checkItem(t, s, atVersion(it, 1))
		// A second create fails, and with it the whole change.
		again := item("p1", "fired", `{"trigger":"again"}`, 5)
		err := s.Commit(ctx(t), store.Change{
			Keys:     []string{"k-new"},
			Profiles: []store.ProfileWrite{write(newProfile("p-new"))},
			Claims:   []store.Claim{{Identifier: email("new"), ProfileID: "p-new"}},
			Outbox:   []events.Envelope{envelope("ev-new", 1)},
			Items: []store.ItemWrite{
				put(item("p1", "a-put", `{}`, 1)),
				itemOp(store.ItemAdd, item("p1", "counter", "", 1), 0),
				itemOp(store.ItemCreate, again, 0),
			},
		})
		wantKind(t, "Commit(create over existing item)", err, fault.ErrConflict)
		checkItem(t, s, atVersion(it, 1))
		checkNothing(t, s, nothing{
			keys: []string{"k-new"}, profiles: []string{"p-new"}, ids: []profile.Identifier{email("new")}, outbox: true,
			items: []store.Item{item("p1", "a-put", "", 0), item("p1", "counter", "", 0)},
		})
	})
	t.Run("ReplaceConflicts", func(t *testing.T) {
		tests := []struct {
			name   string
			sort   string
			expect int64
		}{
			{"stale version", "s", 1},
			{"future version", "s", 3},
			{"missing item at any version", "missing", 0},
			{"missing item at a version", "missing", 1},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s := h.New(t)
				it := item("p1", "s", `{"v":1}`, 1)
				commit(t, s, store.Change{Items: []store.ItemWrite{put(it)}}, store.Change{Items: []store.ItemWrite{put(it)}})
				err := s.Commit(ctx(t), store.Change{
					Profiles: []store.ProfileWrite{write(newProfile("p-new"))},
					Items:    []store.ItemWrite{itemOp(store.ItemReplace, item("p1", tt.sort, `{"v":2}`, 2), tt.expect)},
				})
				wantKind(t, fmt.Sprintf("Commit(replace %q expecting version %d)", tt.sort, tt.expect), err, fault.ErrConflict)
				checkItem(t, s, atVersion(it, 2))
				checkNothing(t, s, nothing{profiles: []string{"p-new"}, items: []store.Item{item("p1", "missing", "", 0)}})
			})
		}
	})
	t.Run("Delete", func(t *testing.T) {
		stored := item("p1", "s", `{"v":1}`, 1)
		tests := []struct {
			name     string
			sort     string
			expect   int64
			conflict bool
		}{
			{"at its version", "s", 2, false},
			{"at any version", "s", 0, false},
			{"at a stale version", "s", 1, true},
			{"at a future version", "s", 3, true},
			{"missing, unchecked", "missing", 0, false},
			{"missing, at a version", "missing", 1, true},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s := h.New(t)
				commit(t, s, store.Change{Items: []store.ItemWrite{put(stored)}}, store.Change{Items: []store.ItemWrite{put(stored)}})
				err := s.Commit(ctx(t), store.Change{
					Profiles: []store.ProfileWrite{write(newProfile("p-new"))},
					Items:    []store.ItemWrite{itemOp(store.ItemDelete, item("p1", tt.sort, "", 0), tt.expect)},
				})
				call := fmt.Sprintf("Commit(delete %q expecting version %d)", tt.sort, tt.expect)
				if tt.conflict {
					wantKind(t, call, err, fault.ErrConflict)
					checkItem(t, s, atVersion(stored, 2))
					checkNothing(t, s, nothing{profiles: []string{"p-new"}})
					return
				}
				if err != nil {
					t.Fatalf("%s = %v; want nil", call, err)
				}
				checkProfile(t, s, "p-new", newProfile("p-new"))
				if tt.sort == "s" {
					checkNoItem(t, s, stored)
				} else {
					checkItem(t, s, atVersion(stored, 2))
				}
				checkNoItem(t, s, item("p1", "missing", "", 0))
			})
		}
	})
	t.Run("Add", func(t *testing.T) {
		s := h.New(t)
		add := func(n int64, value string, expires time.Time) {
			t.Helper()
			it := item("shard-3", "orders", value, n)
			it.Expires = expires
			commit(t, s, store.Change{Items: []store.ItemWrite{itemOp(store.ItemAdd, it, 0)}})
		}
		want := item("shard-3", "orders", "", 5)
		add(5, "", time.Time{})
		checkItem(t, s, atVersion(want, 1))
		add(3, "", time.Time{})
		want.N = 8
		checkItem(t, s, atVersion(want, 2))
		add(-10, `{"window":"2024-05"}`, farFuture)
		want.N, want.Value, want.Expires = -2, []byte(`{"window":"2024-05"}`), farFuture
		checkItem(t, s, atVersion(want, 3))
		// Empty Value and Expires leave the stored ones alone.
		add(2, "", time.Time{})
		want.N = 0
		checkItem(t, s, atVersion(want, 4))
	})
	t.Run("ConcurrentAdds", func(t *testing.T) {
		s := h.New(t)
		const per = 25
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				for i := range per {
					n := int64(w*100 + i + 1)
					for attempt := 0; ; attempt++ {
						if attempt == maxAttempts {
							t.Errorf("add by worker %d: still retryable after %d attempts", w, maxAttempts)
							return
						}
						err := s.Commit(ctx(t), store.Change{Items: []store.ItemWrite{itemOp(store.ItemAdd, item("counter", "n", "", n), 0)}})
						if errors.Is(err, fault.ErrRetryable) {
							continue
						}
						if err != nil {
							t.Errorf("Commit(add %d by worker %d) = %v; want nil", n, w, err)
							return
						}
						break
					}
				}
			})
		}
		wg.Wait()
		var sum int64
		for w := range workers {
			for i := range per {
				sum += int64(w*100 + i + 1)
			}
		}
		checkItem(t, s, atVersion(item("counter", "n", "", sum), workers*per))
	})
	t.Run("AcrossChanges", func(t *testing.T) {
		s := h.New(t)
		it := item("p1", "s", `{"v":1}`, 0)
		// Later change sets see earlier ones; a failing one stops Commit.
		err := s.Commit(ctx(t),
			store.Change{Items: []store.ItemWrite{itemOp(store.ItemCreate, it, 0)}},
			store.Change{Items: []store.ItemWrite{itemOp(store.ItemReplace, it, 1)}},
			store.Change{Items: []store.ItemWrite{itemOp(store.ItemAdd, it, 0), put(item("p1", "t", `{}`, 0))}},
			store.Change{Items: []store.ItemWrite{itemOp(store.ItemCreate, it, 0), put(item("p1", "u", `{}`, 0))}},
			store.Change{Items: []store.ItemWrite{put(item("p1", "w", `{}`, 0))}},
		)
		wantKind(t, "Commit(create, replace, add, failing create, put)", err, fault.ErrConflict)
		checkItem(t, s, atVersion(it, 3))
		checkItem(t, s, atVersion(item("p1", "t", `{}`, 0), 1))
		checkNoItem(t, s, item("p1", "u", "", 0))
		checkNoItem(t, s, item("p1", "w", "", 0))
	})
	t.Run("Range", func(t *testing.T) {
		s := h.New(t)
		sorts := []string{"b", "a#2", "c", "a", "b0", "a#10", "a#1", "d#2024-05-01", "Z", "é"}
		var c store.Change
		for i, srt := range sorts {
			c.Items = append(c.Items, put(item("p1", srt, fmt.Sprintf(`{"i":%d}`, i), int64(i))))
		}
		// Neighbours that must not show up.
		c.Items = append(c.Items,
			put(item("p10", "a", `{}`, 0)), put(item("p", "a", `{}`, 0)),
			put(store.Item{Kind: "test.item2", Key: "p1", Sort: "a"}),
		)
		commit(t, s, c)
		asc := slices.Clone(sorts)
		slices.Sort(asc)
		between := func(from, to string) []string {
			var out []string
			for _, srt := range asc {
				if srt >= from && (to == "" || srt < to) {
					out = append(out, srt)
				}
			}
			return out
		}
		tests := []struct {
			from, to string
			want     []string
		}{
			{"", "", asc},
			{"a", "b", []string{"a", "a#1", "a#10", "a#2"}},
			{"a#", "a#2", []string{"a#1", "a#10"}},
			{"b", "", []string{"b", "b0", "c", "d#2024-05-01", "é"}},
			{"", "a", []string{"Z"}},
			{"a#10", "a#10", nil},
			{"c", "b", nil},
			{"z", "", []string{"é"}},
			{"ê", "", nil},
		}
		for _, tt := range tests {
			if w := between(tt.from, tt.to); !slices.Equal(w, tt.want) {
				t.Fatalf("fixture: [%q, %q) holds %q; the table says %q", tt.from, tt.to, w, tt.want)
			}
			for _, limit := range []int{1, 3, 100} {
				if got := allItems(t, s, "test.item", "p1", tt.from, tt.to, limit); !slices.Equal(got, tt.want) {
					t.Errorf("Items(%q, %q, %q, %q) paged by %d = %q; want %q", "test.item", "p1", tt.from, tt.to, limit, got, tt.want)
				}
			}
		}
		// Pages carry whole items.
		its, next, err := s.Items(ctx(t), "test.item", "p1", "b", "c", 100, "")
		if err != nil || next != "" || len(its) != 2 {
			t.Fatalf(`Items("test.item", "p1", "b", "c", 100, "") = %d items, %q, %v; want 2 items, "", nil`, len(its), next, err)
		}
		for _, it := range its {
			i := slices.Index(sorts, it.Sort)
			want := atVersion(item("p1", it.Sort, fmt.Sprintf(`{"i":%d}`, i), int64(i)), 1)
			if g, w, ok := same(it, want); !ok {
				t.Errorf(`Items("test.item", "p1", "b", "c")[%q] = %s; want %s`, it.Sort, g, w)
			}
		}
		first, cursor, err := s.Items(ctx(t), "test.item", "p1", "", "", 3, "")
		if err != nil || len(first) != 3 || cursor == "" {
			t.Errorf(`Items("test.item", "p1", "", "", 3, "") = %d items, cursor %q, %v; want 3 items, a cursor, nil`, len(first), cursor, err)
		}
		none, next, err := s.Items(ctx(t), "test.item", "nobody", "", "", 10, "")
		if err != nil || len(none) != 0 || next != "" {
			t.Errorf(`Items("test.item", "nobody", "", "", 10, "") = %d items, %q, %v; want none, "", nil`, len(none), next, err)
		}
	})
	t.Run("Isolation", func(t *testing.T) {
		// Kinds and keys that a naive concatenation would confuse.
		s := h.New(t)
		names := [][2]string{
			{"a", "b|c"}, {"a|b", "c"},
			{"a", "b#c"}, {"a#b", "c"},
			{"a", "b:c"}, {"a:b", "c"},
			{"a", "b/c"}, {"a/b", "c"},
			{"a", "b"}, {"a", "bc"}, {"ab", "c"},
			{"seg", "member"}, {"seg.member", "p1"}, {"seg.member", "p10"},
		}
		var c store.Change
		for i, n := range names {
			c.Items = append(c.Items,
				put(store.Item{Kind: n[0], Key: n[1], Sort: "s", Value: fmt.Appendf(nil, `{"i":%d}`, i)}),
				put(store.Item{Kind: n[0], Key: n[1], Sort: fmt.Sprintf("s%02d", i)}),
			)
		}
		commit(t, s, c)
		for i, n := range names {
			checkItem(t, s, store.Item{Kind: n[0], Key: n[1], Sort: "s", Value: fmt.Appendf(nil, `{"i":%d}`, i), Version: 1})
			want := []string{"s", fmt.Sprintf("s%02d", i)}
			if got := allItems(t, s, n[0], n[1], "", "", 100); !slices.Equal(got, want) {
				t.Errorf("Items(%q, %q) = %q; want %q", n[0], n[1], got, want)
			}
		}
	})
	t.Run("Invalid", func(t *testing.T) {
		nul := "a\x00b"
		tests := []struct {
			name  string
			items []store.ItemWrite
			kind  error
		}{
			{"empty kind", []store.ItemWrite{put(store.Item{Key: "k", Sort: "s"})}, fault.ErrInvalid},
			{"empty key", []store.ItemWrite{put(store.Item{Kind: "x", Sort: "s"})}, fault.ErrInvalid},
			{"empty sort", []store.ItemWrite{put(store.Item{Kind: "x", Key: "k"})}, fault.ErrInvalid},
			{"NUL in kind", []store.ItemWrite{put(store.Item{Kind: nul, Key: "k", Sort: "s"})}, fault.ErrInvalid},
			{"NUL in key", []store.ItemWrite{put(store.Item{Kind: "x", Key: nul, Sort: "s"})}, fault.ErrInvalid},
			{"NUL in sort", []store.ItemWrite{put(store.Item{Kind: "x", Key: "k", Sort: nul})}, fault.ErrInvalid},
			{"item named twice", []store.ItemWrite{put(item("k", "s", `{}`, 0)), itemOp(store.ItemAdd, item("k", "s", "", 1), 0)}, fault.ErrInvalid},
			{"unknown operation", []store.ItemWrite{{Op: store.ItemAdd + 1, Item: item("k", "s", `{}`, 0)}}, fault.ErrInvalid},
			{"value over 64 KiB", []store.ItemWrite{put(item("k", "s", `"`+strings.Repeat("x", maxItemValue-1)+`"`, 0))}, fault.ErrTooLarge},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s := h.New(t)
				items := append([]store.ItemWrite{put(item("k", "first", `{}`, 0))}, tt.items...)
				err := s.Commit(ctx(t), store.Change{Keys: []string{"k-invalid"}, Profiles: []store.ProfileWrite{write(newProfile("p1"))}, Items: items})
				wantKind(t, "Commit(invalid item write)", err, tt.kind)
				checkNothing(t, s, nothing{keys: []string{"k-invalid"}, profiles: []string{"p1"}, items: []store.Item{item("k", "first", "", 0), item("k", "s", "", 0)}})
			})
		}
		t.Run("Reads", func(t *testing.T) {
			s := h.New(t)
			for _, n := range [][3]string{{"", "k", "s"}, {"x", "", "s"}, {"x", "k", ""}, {nul, "k", "s"}, {"x", nul, "s"}, {"x", "k", nul}} {
				_, err := s.Item(ctx(t), n[0], n[1], n[2])
				wantKind(t, fmt.Sprintf("Item(%q, %q, %q)", n[0], n[1], n[2]), err, fault.ErrInvalid)
			}
			reads := []struct {
				kind, key      string
				limit          int
				cursor, reason string
			}{
				{"x", "k", 0, "", "zero limit"},
				{"x", "k", -1, "", "negative limit"},
				{"", "k", 10, "", "empty kind"},
				{"x", "", 10, "", "empty key"},
				{"x", "k", 10, "!!", "malformed cursor"},
			}
			for _, r := range reads {
				_, _, err := s.Items(ctx(t), r.kind, r.key, "", "", r.limit, r.cursor)
				wantKind(t, fmt.Sprintf("Items(%q, %q, %d, %q) (%s)", r.kind, r.key, r.limit, r.cursor, r.reason), err, fault.ErrInvalid)
			}
		})
	})
	t.Run("Expiry", func(t *testing.T) {
		t.Run("ReadAfterExpiry", func(t *testing.T) {
			s, clk := newClocked(t, h)
			live := item("p1", "live", `{"a":1}`, 1)
			live.Expires = clk.Now().Add(time.Hour)
			dead := item("p1", "dead", `{"a":2}`, 2)
			dead.Expires = clk.Now().Add(-time.Hour)
			forever := item("p1", "forever", `{"a":3}`, 3)
			commit(t, s, store.Change{Items: []store.ItemWrite{put(live), put(dead), put(forever)}})
			checkItem(t, s, atVersion(live, 1))
			checkItem(t, s, atVersion(forever, 1))
			checkNoItem(t, s, dead)
			clk.Advance(2 * time.Hour)
			checkNoItem(t, s, live)
			checkItem(t, s, atVersion(forever, 1))
		})
		t.Run("CreateOverExpired", func(t *testing.T) {
			s, clk := newClocked(t, h)
			old := item("p1", "fired", `{"run":1}`, 1)
			old.Expires = clk.Now().Add(time.Hour)
			commit(t, s, store.Change{Items: []store.ItemWrite{itemOp(store.ItemCreate, old, 0)}})
			err := s.Commit(ctx(t), store.Change{Items: []store.ItemWrite{itemOp(store.ItemCreate, item("p1", "fired", `{"run":2}`, 2), 0)}})
			wantKind(t, "Commit(create over a live item)", err, fault.ErrConflict)
			checkItem(t, s, atVersion(old, 1))

			clk.Advance(2 * time.Hour)
			next := item("p1", "fired", `{"run":3}`, 3)
			next.Expires = clk.Now().Add(time.Hour)
			commit(t, s, store.Change{Items: []store.ItemWrite{itemOp(store.ItemCreate, next, 0)}})
			checkItem(t, s, atVersion(next, 1))
			if got := allItems(t, s, "test.item", "p1", "", "", 10); !slices.Equal(got, []string{"fired"}) {
				t.Errorf(`Items("test.item", "p1") = %q; want ["fired"]`, got)
			}
		})
		t.Run("ReplaceOfExpiredConflicts", func(t *testing.T) {
			s, clk := newClocked(t, h)
			old := item("p1", "s", `{"a":1}`, 1)
			old.Expires = clk.Now().Add(time.Hour)
			commit(t, s, store.Change{Items: []store.ItemWrite{put(old)}})
			clk.Advance(2 * time.Hour)
			for _, expect := range []int64{0, 1} {
				err := s.Commit(ctx(t), store.Change{Items: []store.ItemWrite{itemOp(store.ItemReplace, item("p1", "s", `{"a":2}`, 2), expect)}})
				wantKind(t, fmt.Sprintf("Commit(replace of an expired item expecting version %d)", expect), err, fault.ErrConflict)
			}
			checkNoItem(t, s, old)
		})
	})
	t.Run("Reopen", func(t *testing.T) {
		if h.Reopen == nil {
			t.Skip("storetest: Harness.Reopen not set")
		}
		s := h.New(t)
		it := item("p1", "s", `{"a":1}`, 9)
		it.Expires = farFuture
		commit(t, s, store.Change{Items: []store.ItemWrite{put(it), put(item("p1", "t", `{}`, 0))}})
		commit(t, s, store.Change{Items: []store.ItemWrite{itemOp(store.ItemAdd, item("p1", "s", "", 1), 0)}})
		s = h.Reopen(t, s)
		it.N = 10
		checkItem(t, s, atVersion(it, 2))
		if got, want := allItems(t, s, "test.item", "p1", "", "", 1), []string{"s", "t"}; !slices.Equal(got, want) {
			t.Errorf(`Items("test.item", "p1") = %q; want %q`, got, want)
		}
		err := s.Commit(ctx(t), store.Change{Items: []store.ItemWrite{itemOp(store.ItemReplace, it, 1)}})
		wantKind(t, "Commit(replace at a stale version after reopening)", err, fault.ErrConflict)
	})
}
