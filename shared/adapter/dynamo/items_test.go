package dynamo_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aurum-cdp/aurum/shared/adapter/dynamo"
	"github.com/aurum-cdp/aurum/shared/model/fault"
	"github.com/aurum-cdp/aurum/shared/model/profile"
	"github.com/aurum-cdp/aurum/shared/port/store"
)

func itemWrite(op store.ItemOp, sort, value string, n, expect int64) store.ItemWrite {
	it := store.Item{Kind: "seg.member", Key: "p#1", Sort: sort, N: n}
	if value != "" {
		it.Value = []byte(value)
	}
	return store.ItemWrite{Op: op, Item: it, ExpectVersion: expect}
}

func TestDynamoItemOps(t *testing.T) {
	t.Parallel()
	type step struct {
		w       store.ItemWrite
		wantErr error
		// want is the item after the step; Version 0 means absent.
		want store.Item
	}
	item := func(value string, n, version int64) store.Item {
		it := store.Item{Kind: "seg.member", Key: "p#1", Sort: "s", N: n, Version: version}
		if value != "" {
			it.Value = []byte(value)
		}
		return it
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"put, put again, put without value", []step{
			{itemWrite(store.ItemPut, "s", `{"a":1}`, 3, 0), nil, item(`{"a":1}`, 3, 1)},
			{itemWrite(store.ItemPut, "s", `{"a":2}`, 5, 0), nil, item(`{"a":2}`, 5, 2)},
			{itemWrite(store.ItemPut, "s", "", 0, 0), nil, item("", 0, 3)},
		}},
		{"create once", []step{
			{itemWrite(store.ItemCreate, "s", `"x"`, 1, 0), nil, item(`"x"`, 1, 1)},
			{itemWrite(store.ItemCreate, "s", `"y"`, 2, 0), fault.ErrConflict, item(`"x"`, 1, 1)},
		}},
		{"replace", []step{
			{itemWrite(store.ItemReplace, "s", `"x"`, 1, 0), fault.ErrConflict, store.Item{}},
			{itemWrite(store.ItemPut, "s", `"x"`, 1, 0), nil, item(`"x"`, 1, 1)},
			{itemWrite(store.ItemReplace, "s", `"y"`, 2, 2), fault.ErrConflict, item(`"x"`, 1, 1)},
			{itemWrite(store.ItemReplace, "s", `"y"`, 2, 1), nil, item(`"y"`, 2, 2)},
			{itemWrite(store.ItemReplace, "s", `"z"`, 3, 0), nil, item(`"z"`, 3, 3)},
		}},
		{"delete", []step{
			{itemWrite(store.ItemDelete, "s", "", 0, 0), nil, store.Item{}},
			{itemWrite(store.ItemDelete, "s", "", 0, 1), fault.ErrConflict, store.Item{}},
			{itemWrite(store.ItemPut, "s", `"x"`, 1, 0), nil, item(`"x"`, 1, 1)},
			{itemWrite(store.ItemDelete, "s", "", 0, 2), fault.ErrConflict, item(`"x"`, 1, 1)},
			{itemWrite(store.ItemDelete, "s", "", 0, 1), nil, store.Item{}},
		}},
		{"add", []step{
			{itemWrite(store.ItemAdd, "s", "", 5, 0), nil, item("", 5, 1)},
			{itemWrite(store.ItemAdd, "s", `"v"`, -2, 0), nil, item(`"v"`, 3, 2)},
			{itemWrite(store.ItemAdd, "s", "", 1, 0), nil, item(`"v"`, 4, 3)},
		}},
	}
	f := newFixture(t, dynamo.Options{})
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for j, st := range tt.steps {
				st.w.Item.Key = fmt.Sprint("p#", i)
				err := f.store.Commit(t.Context(), store.Change{Items: []store.ItemWrite{st.w}})
				if (st.wantErr == nil && err != nil) || !errors.Is(err, st.wantErr) {
					t.Errorf("step %d: Commit(op %d) = %v; want %v", j, st.w.Op, err, st.wantErr)
				}
				got, err := f.store.Item(t.Context(), "seg.member", st.w.Item.Key, "s")
				if st.want.Version == 0 {
					if !errors.Is(err, fault.ErrNotFound) {
						t.Errorf("step %d: Item() = %+v, %v; want %v", j, got, err, fault.ErrNotFound)
					}
					continue
				}
				st.want.Key = st.w.Item.Key
				if err != nil || !sameItem(got, st.want) {
					t.Errorf("step %d: Item() = %s, %v; want %s", j, showItem(got), err, showItem(st.want))
				}
			}
		})
	}
}

func sameItem(a, b store.Item) bool {
	return a.Kind == b.Kind && a.Key == b.Key && a.Sort == b.Sort && string(a.Value) == string(b.Value) &&
		a.N == b.N && a.Version == b.Version && a.Expires.Equal(b.Expires)
}

func showItem(it store.Item) string {
	return fmt.Sprintf("{%s %s %s value=%s n=%d v=%d exp=%v}", it.Kind, it.Key, it.Sort, it.Value, it.N, it.Version, it.Expires)
}

func TestDynamoItemExpiry(t *testing.T) {
	t.Parallel()
	now := t0
	f := newFixture(t, dynamo.Options{Now: func() time.Time { return now }})
	exp := t0.Add(90*time.Minute + 123456789*time.Nanosecond)
	write := func(op store.ItemOp, sort string, n int64, expires time.Time) error {
		w := itemWrite(op, sort, `"v"`, n, 0)
		w.Item.Expires = expires
		return f.store.Commit(t.Context(), store.Change{Items: []store.ItemWrite{w}})
	}
	for _, sort := range []string{"create", "put", "add"} {
		if err := write(store.ItemCreate, sort, 5, exp); err != nil {
			t.Fatalf("Commit(create %s) = %v", sort, err)
		}
	}
	if got, err := f.store.Item(t.Context(), "seg.member", "p#1", "create"); err != nil || !got.Expires.Equal(exp) {
		t.Errorf("Item().Expires = %v, %v; want %v", got.Expires, err, exp)
	}
	if err := write(store.ItemCreate, "create", 1, exp); !errors.Is(err, fault.ErrConflict) {
		t.Errorf("Commit(create over a live item) = %v; want %v", err, fault.ErrConflict)
	}
	if err := write(store.ItemAdd, "add", 1, time.Time{}); err != nil {
		t.Errorf("Commit(add to a live item) = %v; want nil", err)
	}

	now = exp // expired at its instant
	for _, sort := range []string{"create", "put", "add"} {
		if got, err := f.store.Item(t.Context(), "seg.member", "p#1", sort); !errors.Is(err, fault.ErrNotFound) {
			t.Errorf("Item(%s) after expiry = %s, %v; want %v", sort, showItem(got), err, fault.ErrNotFound)
		}
	}
	if its, _, err := f.store.Items(t.Context(), "seg.member", "p#1", "", "", 10, ""); err != nil || len(its) != 0 {
		t.Errorf("Items() after expiry = %d items, %v; want none", len(its), err)
	}
	if err := write(store.ItemReplace, "put", 1, time.Time{}); !errors.Is(err, fault.ErrConflict) {
		t.Errorf("Commit(replace of an expired item) = %v; want %v", err, fault.ErrConflict)
	}
	// An expired item counts as missing: writes start afresh.
	later := now.Add(time.Hour)
	tests := []struct {
		op    store.ItemOp
		sort  string
		n     int64
		wantN int64
	}{
		{store.ItemCreate, "create", 7, 7},
		{store.ItemPut, "put", 8, 8},
		{store.ItemAdd, "add", 2, 2},
	}
	for _, tt := range tests {
		if err := write(tt.op, tt.sort, tt.n, later); err != nil {
			t.Errorf("Commit(op %d over expired %s) = %v; want nil", tt.op, tt.sort, err)
			continue
		}
		got, err := f.store.Item(t.Context(), "seg.member", "p#1", tt.sort)
		if err != nil || got.Version != 1 || got.N != tt.wantN || !got.Expires.Equal(later) {
			t.Errorf("Item(%s) = %s, %v; want version 1, n %d, expiring at %v", tt.sort, showItem(got), err, tt.wantN, later)
		}
	}
	// And live again: the usual forms apply.
	if err := write(store.ItemAdd, "add", 3, time.Time{}); err != nil {
		t.Errorf("Commit(add) = %v; want nil", err)
	}
	if got, err := f.store.Item(t.Context(), "seg.member", "p#1", "add"); err != nil || got.Version != 2 || got.N != 5 {
		t.Errorf("Item(add) = %s, %v; want version 2, n 5", showItem(got), err)
	}
}

func TestDynamoItemConcurrentAdds(t *testing.T) {
	t.Parallel()
	f := newFixture(t, dynamo.Options{})
	const writers, adds = 8, 5
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < adds; i++ {
				err := f.store.Commit(t.Context(), store.Change{Items: []store.ItemWrite{itemWrite(store.ItemAdd, "count", "", 2, 0)}})
				for errors.Is(err, fault.ErrRetryable) {
					err = f.store.Commit(t.Context(), store.Change{Items: []store.ItemWrite{itemWrite(store.ItemAdd, "count", "", 2, 0)}})
				}
				if err != nil {
					t.Errorf("Commit(add) = %v", err)
				}
			}
		}()
	}
	wg.Wait()
	got, err := f.store.Item(t.Context(), "seg.member", "p#1", "count")
	if err != nil || got.N != 2*writers*adds || got.Version != writers*adds {
		t.Errorf("Item(count) = n %d, version %d, %v; want n %d, version %d", got.N, got.Version, err, 2*writers*adds, writers*adds)
	}
}

func TestDynamoItemsRange(t *testing.T) {
	t.Parallel()
	f := newFixture(t, dynamo.Options{})
	var c store.Change
	for _, s := range []string{"2024-05-01#a", "2024-05-02#b", "2024-05-03#c", "2024-05-04#d", "2024-05-05#e"} {
		c.Items = append(c.Items, itemWrite(store.ItemPut, s, `1`, 0, 0))
	}
	other := itemWrite(store.ItemPut, "2024-05-03#c", `1`, 0, 0)
	other.Item.Key = "p#2"
	c.Items = append(c.Items, other)
	if err := f.store.Commit(t.Context(), c); err != nil {
		t.Fatalf("Commit(items) = %v", err)
	}
	tests := []struct {
		from, to string
		limit    int
		want     []string
	}{
		{"", "", 100, []string{"2024-05-01#a", "2024-05-02#b", "2024-05-03#c", "2024-05-04#d", "2024-05-05#e"}},
		{"", "", 2, []string{"2024-05-01#a", "2024-05-02#b", "2024-05-03#c", "2024-05-04#d", "2024-05-05#e"}},
		{"2024-05-02", "2024-05-05", 1, []string{"2024-05-02#b", "2024-05-03#c", "2024-05-04#d"}},
		{"2024-05-02#b", "2024-05-04#d", 100, []string{"2024-05-02#b", "2024-05-03#c"}},
		{"2024-05-03", "", 2, []string{"2024-05-03#c", "2024-05-04#d", "2024-05-05#e"}},
		{"", "2024-05-03", 100, []string{"2024-05-01#a", "2024-05-02#b"}},
		{"2024-05-04", "2024-05-02", 100, nil},
		{"2024-05-03#c", "2024-05-03#c", 100, nil},
	}
	for _, tt := range tests {
		var got []string
		cursor := ""
		for page := 0; page < 20; page++ {
			its, next, err := f.store.Items(t.Context(), "seg.member", "p#1", tt.from, tt.to, tt.limit, cursor)
			if err != nil {
				t.Fatalf("Items(%q, %q, %d, %q) = %v", tt.from, tt.to, tt.limit, cursor, err)
			}
			if len(its) > tt.limit {
				t.Errorf("Items(%q, %q, %d) returned %d items", tt.from, tt.to, tt.limit, len(its))
			}
			for _, it := range its {
				got = append(got, it.Sort)
			}
			if next == "" {
				break
			}
			cursor = next
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("Items(%q, %q) paged by %d = %v; want %v", tt.from, tt.to, tt.limit, got, tt.want)
		}
	}
	for _, limit := range []int{0, -1} {
		if _, _, err := f.store.Items(t.Context(), "seg.member", "p#1", "", "", limit, ""); !errors.Is(err, fault.ErrInvalid) {
			t.Errorf("Items(limit %d) = %v; want %v", limit, err, fault.ErrInvalid)
		}
	}
}

func TestDynamoItemsInvalid(t *testing.T) {
	t.Parallel()
	f := newFixture(t, dynamo.Options{})
	named := func(kind, key, sort string) store.ItemWrite {
		return store.ItemWrite{Op: store.ItemPut, Item: store.Item{Kind: kind, Key: key, Sort: sort}}
	}
	big := named("k", "p", "s")
	big.Item.Value = []byte(`"` + strings.Repeat("x", dynamo.MaxItemValue) + `"`)
	tests := []struct {
		name   string
		change store.Change
		want   error
	}{
		{"empty kind", store.Change{Items: []store.ItemWrite{named("", "p", "s")}}, fault.ErrInvalid},
		{"empty key", store.Change{Items: []store.ItemWrite{named("k", "", "s")}}, fault.ErrInvalid},
		{"empty sort", store.Change{Items: []store.ItemWrite{named("k", "p", "")}}, fault.ErrInvalid},
		{"NUL in sort", store.Change{Items: []store.ItemWrite{named("k", "p", "a\x00b")}}, fault.ErrInvalid},
		{"unknown op", store.Change{Items: []store.ItemWrite{{Op: 99, Item: store.Item{Kind: "k", Key: "p", Sort: "s"}}}}, fault.ErrInvalid},
		{"item twice", store.Change{Items: []store.ItemWrite{named("k", "p", "s"), named("k", "p", "s")}}, fault.ErrInvalid},
		{"value over 64 KiB", store.Change{Items: []store.ItemWrite{big}}, fault.ErrTooLarge},
		{"with a failing claim", store.Change{
			Items:  []store.ItemWrite{named("k", "p", "s")},
			Claims: []store.Claim{{Identifier: profile.Identifier{Type: "email", Value: "x@example.com"}, ProfileID: "q", ExpectClaimant: "other"}},
		}, fault.ErrConflict},
	}
	for _, tt := range tests {
		err := f.store.Commit(t.Context(), tt.change)
		if !errors.Is(err, tt.want) {
			t.Errorf("%s: Commit() = %v; want %v", tt.name, err, tt.want)
		}
	}
	if its, _, err := f.store.Items(t.Context(), "k", "p", "", "", 10, ""); err != nil || len(its) != 0 {
		t.Errorf("Items(k, p) = %d items, %v; want none: every change failed", len(its), err)
	}
}
