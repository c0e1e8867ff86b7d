package embedded_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/aurum-cdp/aurum/shared/adapter/embedded"
	"github.com/aurum-cdp/aurum/shared/kit/clocktest"
	"github.com/aurum-cdp/aurum/shared/model/fault"
	"github.com/aurum-cdp/aurum/shared/port/store"
)

var t0 = time.Date(2024, 5, 1, 9, 30, 0, 0, time.UTC)

func clockedStore(t *testing.T) (*embedded.Store, *clocktest.Clock) {
	t.Helper()
	clk := clocktest.New(t0)
	s := open(t, filepath.Join(t.TempDir(), "aurum.db"), embedded.Options{NoSync: true, Now: clk.Now})
	return s, clk
}

func expiring(sort string, at time.Time) store.Item {
	return store.Item{Kind: "k", Key: "p", Sort: sort, Value: []byte(`{}`), Expires: at}
}

func commitItems(t *testing.T, s *embedded.Store, ws ...store.ItemWrite) {
	t.Helper()
	if err := s.Commit(t.Context(), store.Change{Items: ws}); err != nil {
		t.Fatalf("Commit(%d item writes) = %v; want nil", len(ws), err)
	}
}

func sorts(t *testing.T, s *embedded.Store) []string {
	t.Helper()
	its, _, err := s.Items(t.Context(), "k", "p", "", "", 10000, "")
	if err != nil {
		t.Fatalf(`Items("k", "p") = %v; want nil error`, err)
	}
	var out []string
	for _, it := range its {
		out = append(out, it.Sort)
	}
	return out
}

func TestItemExpiresAtItsInstant(t *testing.T) {
	s, clk := clockedStore(t)
	commitItems(t, s, store.ItemWrite{Item: expiring("a", t0.Add(time.Second))})
	tests := []struct {
		now  time.Time
		live bool
	}{
		{t0.Add(time.Second - time.Nanosecond), true},
		{t0.Add(time.Second), false},
		{t0.Add(time.Hour), false},
	}
	for _, tt := range tests {
		clk.Set(tt.now)
		_, err := s.Item(t.Context(), "k", "p", "a")
		if got := err == nil; got != tt.live || (err != nil && !errors.Is(err, fault.ErrNotFound)) {
			t.Errorf("Item(a) at expiry%+v = %v; want live %v", tt.now.Sub(t0.Add(time.Second)), err, tt.live)
		}
		if got := slices.Contains(sorts(t, s), "a"); got != tt.live {
			t.Errorf("Items() at expiry%+v holds a = %v; want %v", tt.now.Sub(t0.Add(time.Second)), got, tt.live)
		}
	}
}

func TestItemsSkipExpired(t *testing.T) {
	s, clk := clockedStore(t)
	var ws []store.ItemWrite
	for i := range 10 {
		at := time.Time{}
		if i%2 == 0 {
			at = t0.Add(time.Duration(i+1) * time.Minute)
		}
		ws = append(ws, store.ItemWrite{Item: expiring(fmt.Sprintf("s%d", i), at)})
	}
	commitItems(t, s, ws...)
	clk.Set(t0.Add(5*time.Minute + time.Second)) // s0, s2 and s4 have expired
	want := []string{"s1", "s3", "s5", "s6", "s7", "s8", "s9"}
	for _, limit := range []int{1, 2, 100} {
		var got []string
		cursor := ""
		for {
			its, next, err := s.Items(t.Context(), "k", "p", "", "", limit, cursor)
			if err != nil {
				t.Fatalf("Items(limit %d, %q) = %v; want nil error", limit, cursor, err)
			}
			if next != "" && len(its) != limit {
				t.Fatalf("Items(limit %d, %q) = %d items and a cursor; want %d", limit, cursor, len(its), limit)
			}
			for _, it := range its {
				got = append(got, it.Sort)
			}
			if next == "" {
				break
			}
			cursor = next
		}
		if !slices.Equal(got, want) {
			t.Errorf("Items() paged by %d = %q; want %q", limit, got, want)
		}
	}
}

func TestItemAddOverExpiredStartsAfresh(t *testing.T) {
	s, clk := clockedStore(t)
	capped := store.Item{Kind: "trigger.cap", Key: "p", Sort: "welcome", N: 3, Expires: t0.Add(time.Hour)}
	commitItems(t, s, store.ItemWrite{Op: store.ItemAdd, Item: capped})
	clk.Set(t0.Add(2 * time.Hour))
	next := store.Item{Kind: "trigger.cap", Key: "p", Sort: "welcome", N: 1, Expires: t0.Add(3 * time.Hour)}
	commitItems(t, s, store.ItemWrite{Op: store.ItemAdd, Item: next})
	got, err := s.Item(t.Context(), "trigger.cap", "p", "welcome")
	if err != nil || got.N != 1 || got.Version != 1 || !got.Expires.Equal(next.Expires) {
		t.Errorf("Item(welcome) = %+v, %v; want N 1, version 1, expiring at %v", got, err, next.Expires)
	}
}

func TestSweep(t *testing.T) {
	s, clk := clockedStore(t)
	minute := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	commitItems(t, s,
		store.ItemWrite{Item: expiring("gone", minute(1))},
		store.ItemWrite{Item: expiring("edge", minute(10))},
		store.ItemWrite{Item: expiring("later", minute(20))},
		store.ItemWrite{Item: expiring("forever", time.Time{})},
		store.ItemWrite{Item: expiring("extended", minute(1))},
		store.ItemWrite{Item: expiring("cleared", minute(1))},
		store.ItemWrite{Item: expiring("deleted", minute(1))},
		store.ItemWrite{Item: expiring("added", minute(1))},
	)
	// Rewrites move or drop expiry index entries.
	commitItems(t, s,
		store.ItemWrite{Item: expiring("extended", minute(30))},
		store.ItemWrite{Item: expiring("cleared", time.Time{})},
		store.ItemWrite{Op: store.ItemDelete, Item: expiring("deleted", time.Time{})},
		store.ItemWrite{Op: store.ItemAdd, Item: store.Item{Kind: "k", Key: "p", Sort: "added", N: 1}},
	)
	clk.Set(minute(10))
	n, err := s.Sweep(t.Context())
	if err != nil || n != 3 {
		t.Errorf("Sweep() at minute 10 = %d, %v; want 3 (gone, edge, added), nil", n, err)
	}
	st, err := s.Stats(t.Context())
	if err != nil || st.Items != 4 {
		t.Errorf("Stats().Items = %d, %v; want 4, nil", st.Items, err)
	}
	// Swept items are gone even from a clock that runs behind.
	clk.Set(t0)
	if got, want := sorts(t, s), []string{"cleared", "extended", "forever", "later"}; !slices.Equal(got, want) {
		t.Errorf("Items() after Sweep = %q; want %q", got, want)
	}
	if n, err := s.Sweep(t.Context()); err != nil || n != 0 {
		t.Errorf("Sweep() at minute 0 = %d, %v; want 0, nil", n, err)
	}
	clk.Set(minute(60))
	if n, err := s.Sweep(t.Context()); err != nil || n != 2 {
		t.Errorf("Sweep() at minute 60 = %d, %v; want 2 (later, extended), nil", n, err)
	}
	if got, want := sorts(t, s), []string{"cleared", "forever"}; !slices.Equal(got, want) {
		t.Errorf("Items() after second Sweep = %q; want %q", got, want)
	}
}

func TestSweepManyBatches(t *testing.T) {
	s, clk := clockedStore(t)
	const n = 2500
	var ws []store.ItemWrite
	for i := range n {
		ws = append(ws, store.ItemWrite{Item: expiring(fmt.Sprintf("s%05d", i), t0.Add(time.Duration(i)*time.Millisecond))})
		if len(ws) == 500 {
			commitItems(t, s, ws...)
			ws = nil
		}
	}
	commitItems(t, s, store.ItemWrite{Item: expiring("keep", t0.Add(time.Hour))})
	clk.Set(t0.Add(time.Minute))
	got, err := s.Sweep(t.Context())
	if err != nil || got != n {
		t.Errorf("Sweep() = %d, %v; want %d, nil", got, err, n)
	}
	st, err := s.Stats(t.Context())
	if err != nil || st.Items != 1 {
		t.Errorf("Stats().Items = %d, %v; want 1, nil", st.Items, err)
	}
}

func TestItemsRejectsBadInput(t *testing.T) {
	s := newStore(t)
	tests := []struct {
		name           string
		from, to       string
		limit          int
		cursor         string
		wantInvalidErr bool
	}{
		{"NUL in from", "a\x00", "", 10, "", true},
		{"NUL in to", "", "a\x00", 10, "", true},
		{"empty cursor bytes", "", "", 10, "=", true},
		{"cursor holding NUL", "", "", 10, "AA", true},
		{"good cursor", "", "", 10, "YQ", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := s.Items(t.Context(), "k", "p", tt.from, tt.to, tt.limit, tt.cursor)
			if got := errors.Is(err, fault.ErrInvalid); got != tt.wantInvalidErr {
				t.Errorf("Items(%q, %q, %d, %q) = %v; want invalid %v", tt.from, tt.to, tt.limit, tt.cursor, err, tt.wantInvalidErr)
			}
		})
	}
}
