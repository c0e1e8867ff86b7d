package identity_test

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"testing"

	"github.com/aurum-cdp/aurum/shared/adapter/embedded"
	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/core/identity"
	"github.com/aurum-cdp/aurum/shared/model/profile"
	"github.com/aurum-cdp/aurum/shared/port/store"
)

// TestForgetterForget erases p1 (merged from p0), holding the records
// crm/1 and web/2, next to p9 holding crm/9: the refs name p1's items
// only, and the do-not-merge assertions lose what names p1.
func TestForgetterForget(t *testing.T) {
	ctx := t.Context()
	st, err := embedded.Open(filepath.Join(t.TempDir(), "aurum.db"), embedded.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	eng, err := identity.New([]config.IdentifierType{{Name: "email", Normalizer: "email"}},
		&config.Identity{Rules: []config.MatchRule{{Name: "name-birth", Kind: config.RuleExact, Attributes: []string{"last_name", "birth_date"}}}})
	if err != nil {
		t.Fatal(err)
	}
	assertion := func(pid string, pairs ...[2]string) []byte {
		b, _ := json.Marshal(identity.Assertion{ProfileID: pid, Pairs: pairs, At: "t"})
		return b
	}
	put := func(kind, key, sort string, val []byte) store.ItemWrite {
		return store.ItemWrite{Op: store.ItemPut, Item: store.Item{Kind: kind, Key: key, Sort: sort, Value: val}}
	}
	err = st.Commit(ctx, store.Change{Items: []store.ItemWrite{
		put(identity.ItemAssertions, identity.AssertionsKey, "t1/p1", assertion("p1", [2]string{"crm/1", "crm/9"})),
		put(identity.ItemAssertions, identity.AssertionsKey, "t2/p9", assertion("p9", [2]string{"web/2", "crm/9"}, [2]string{"crm/9", "crm/8"})),
		put(identity.ItemAssertions, identity.AssertionsKey, "t3/p1", assertion("p1", [2]string{"crm/8", "crm/9"})),
		put(identity.ItemAssertions, identity.AssertionsKey, "t4/p9", assertion("p9", [2]string{"crm/8", "crm/9"})),
		put(identity.ItemApart, "p1", "p9", []byte(`{}`)),
		put(identity.ItemLedger, "p1", "t0/p0", []byte(`{"survivor":"p1","merged":"p0"}`)),
		put(identity.ItemRecords, "p0", "crm/1", []byte(`{}`)),
		put(identity.ItemRecords, "p1", "web/2", []byte(`{}`)),
		put(identity.ItemRecords, "p9", "crm/9", []byte(`{}`)),
	}})
	if err != nil {
		t.Fatal(err)
	}
	email := profile.Identifier{Type: "email", Value: "ann@example.com"}
	crm1 := profile.Record{Source: "crm", ID: "1", Identifiers: []profile.Identifier{email},
		Attributes: map[string]any{"last_name": "Quist", "birth_date": "1990-01-02"}}
	subj := store.Subject{
		Profile:     profile.Profile{ID: "p1", RecordCount: 2, MergedFrom: []string{"p0"}},
		ProfileIDs:  []string{"p1", "p0"},
		Records:     []profile.Record{crm1, {Source: "web", ID: "2"}},
		Identifiers: []profile.Identifier{email},
	}
	got, err := identity.NewForgetter(eng).Forget(ctx, st, subj)
	if err != nil {
		t.Fatalf("Forget() = %v", err)
	}

	t.Run("items", func(t *testing.T) {
		want := []store.ItemRef{
			{Kind: identity.ItemAssertions, Key: identity.AssertionsKey, Sort: "t1/p1"},
			{Kind: identity.ItemFingerprints, Key: identity.IdentifierKey(email), Sort: identity.FingerprintSrt},
			{Kind: identity.ItemLedger, Key: "p1", Sort: "t0/p0"},
			{Kind: identity.ItemMoved, Key: "p1", Sort: identity.MovedSort},
			{Kind: identity.ItemMoved, Key: "p0", Sort: identity.MovedSort},
			{Kind: identity.ItemApart, Key: "p1", Sort: "p9"},
			{Kind: identity.ItemApart, Key: "p9", Sort: "p1"},
			{Kind: identity.ItemTop, Key: identity.TopKey, Sort: identity.TopSort(2, "p1")},
		}
		for _, k := range eng.Keys(crm1) {
			want = append(want, store.ItemRef{Kind: identity.ItemBlock, Key: identity.BlockKey(k), Sort: "crm/1"})
		}
		if len(want) != 9 {
			t.Fatalf("the composite rule gives crm/1 %d block keys; the test needs one", len(want)-8)
		}
		for _, w := range want {
			if !slices.Contains(got.Items, w) {
				t.Errorf("Forget().Items lack %+v", w)
			}
		}
		if len(got.Items) != len(want) {
			t.Errorf("Forget().Items = %+v; want %d items", got.Items, len(want))
		}
		wantIndex := []store.ItemRef{{Kind: identity.ItemRecords, Key: "p1", Sort: "web/2"}, {Kind: identity.ItemRecords, Key: "p0", Sort: "crm/1"}}
		if !slices.Equal(got.Index, wantIndex) {
			t.Errorf("Forget().Index = %+v; want %+v", got.Index, wantIndex)
		}
	})

	tests := []struct {
		sort      string
		wantPID   string
		wantPairs int
		version   int64
	}{
		{"t1/p1", "p1", 1, 1}, // all pairs erased: deleted with the erasure
		{"t2/p9", "p9", 1, 2}, // one pair erased: rewritten
		{"t3/p1", "", 1, 2},   // p1's assertion about others: id dropped
		{"t4/p9", "p9", 1, 1}, // nothing of p1: untouched
	}
	for _, tt := range tests {
		t.Run("assertion "+tt.sort, func(t *testing.T) {
			it, err := st.Item(ctx, identity.ItemAssertions, identity.AssertionsKey, tt.sort)
			if err != nil {
				t.Fatal(err)
			}
			var a identity.Assertion
			if err := json.Unmarshal(it.Value, &a); err != nil {
				t.Fatal(err)
			}
			if a.ProfileID != tt.wantPID || len(a.Pairs) != tt.wantPairs || it.Version != tt.version {
				t.Errorf("assertion %s = %+v at version %d; want profile %q, %d pairs, version %d",
					tt.sort, a, it.Version, tt.wantPID, tt.wantPairs, tt.version)
			}
		})
	}

	again, err := identity.NewForgetter(eng).Forget(ctx, st, subj)
	if err != nil || len(again.Items) != len(got.Items) {
		t.Errorf("Forget() again = %d items, %v; want the same %d (idempotent)", len(again.Items), err, len(got.Items))
	}
	if it, _ := st.Item(ctx, identity.ItemAssertions, identity.AssertionsKey, "t2/p9"); it.Version != 2 {
		t.Errorf("Forget() again rewrote an assertion: version %d; want 2", it.Version)
	}
}

func TestForgetterExport(t *testing.T) {
	ctx := t.Context()
	st, err := embedded.Open(filepath.Join(t.TempDir(), "aurum.db"), embedded.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	err = st.Commit(ctx, store.Change{Items: []store.ItemWrite{
		{Op: store.ItemPut, Item: store.Item{Kind: identity.ItemLedger, Key: "p1", Sort: "t1/p0", Value: []byte(`{"merged":"p0"}`)}},
		{Op: store.ItemPut, Item: store.Item{Kind: identity.ItemLedger, Key: "p0", Sort: "t0/p00", Value: []byte(`{"merged":"p00"}`)}},
		{Op: store.ItemPut, Item: store.Item{Kind: identity.ItemLedger, Key: "p9", Sort: "t0/p8", Value: []byte(`{"merged":"p8"}`)}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	secs, err := identity.NewForgetter(nil).Export(ctx, st, store.Subject{ProfileIDs: []string{"p1", "p0"}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(secs["merges"])
	if want := `[{"merged":"p0"},{"merged":"p00"}]`; string(b) != want {
		t.Errorf("Export()[merges] = %s; want %s", b, want)
	}
}
