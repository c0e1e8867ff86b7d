package segment_test

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/aurum-cdp/aurum/shared/adapter/embedded"
	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/core/segment"
	"github.com/aurum-cdp/aurum/shared/model/profile"
	"github.com/aurum-cdp/aurum/shared/port/store"
)

// TestForgetter erases p1 (merged from p0), a member of vip: it leaves
// vip once however often the erasure runs, and names its member, history
// and due items; p9's stay out.
func TestForgetter(t *testing.T) {
	ctx := t.Context()
	st, err := embedded.Open(filepath.Join(t.TempDir(), "aurum.db"), embedded.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	due := time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC)
	member := func(pid string) store.Item {
		return store.Item{Kind: segment.KindMember, Key: "vip|" + segment.Shard(pid), Sort: pid, Value: []byte(`{}`)}
	}
	hist := func(pid, sort string) store.Item {
		return store.Item{Kind: segment.KindHistory, Key: pid, Sort: sort, Value: []byte(`{"segment_id":"vip","at":"` + sort + `"}`)}
	}
	var writes []store.ItemWrite
	for _, it := range []store.Item{member("p1"), member("p9"), hist("p1", "b"), hist("p0", "a"), hist("p9", "c")} {
		writes = append(writes, store.ItemWrite{Op: store.ItemPut, Item: it})
	}
	for _, pid := range []string{"p1", "p9"} {
		writes = append(writes, store.ItemWrite{Op: store.ItemAdd, Item: store.Item{Kind: segment.KindCount, Key: "vip", Sort: segment.Shard(pid), N: 1}})
	}
	if err := st.Commit(ctx, store.Change{Items: store.MergeAdds(writes)}); err != nil {
		t.Fatal(err)
	}
	subj := store.Subject{
		Profile:    profile.Profile{ID: "p1", MergedFrom: []string{"p0"}, Segments: map[string]time.Time{"vip": due}, NextEvalAt: due},
		ProfileIDs: []string{"p1", "p0"},
	}
	f := segment.NewForgetter([]config.Segment{{ID: "vip"}, {ID: "lapsed"}})
	var got store.Forgotten
	for range 2 { // a retried erasure
		if got, err = f.Forget(ctx, st, subj); err != nil {
			t.Fatalf("Forget() = %v", err)
		}
	}
	if total := liveCount(t, st, "vip"); total != 1 {
		t.Errorf("vip count after Forget twice = %d; want 1 (p9 only)", total)
	}
	want := []store.ItemRef{
		{Kind: segment.KindMember, Key: "vip|" + segment.Shard("p1"), Sort: "p1"},
		{Kind: segment.KindMember, Key: "lapsed|" + segment.Shard("p1"), Sort: "p1"},
		{Kind: segment.KindHistory, Key: "p1", Sort: "b"},
		{Kind: segment.KindMember, Key: "vip|" + segment.Shard("p0"), Sort: "p0"},
		{Kind: segment.KindMember, Key: "lapsed|" + segment.Shard("p0"), Sort: "p0"},
		{Kind: segment.KindHistory, Key: "p0", Sort: "a"},
		{Kind: segment.KindDue, Key: segment.Shard("p1"), Sort: segment.SortTime(due) + "|p1"},
	}
	if !slices.Equal(got.Items, want) {
		t.Errorf("Forget().Items =\n%+v\nwant\n%+v", got.Items, want)
	}
	if len(got.Index) != 0 {
		t.Errorf("Forget().Index = %+v; want none", got.Index)
	}

	secs, err := f.Export(ctx, st, subj)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(secs)
	if want := `{"segment_history":[{"segment_id":"vip","at":"b"},{"segment_id":"vip","at":"a"}],"segments":{"vip":"2025-07-01T00:00:00Z"}}`; string(b) != want {
		t.Errorf("Export() = %s; want %s", b, want)
	}
}

// liveCount sums the live count of a segment.
func liveCount(t *testing.T, st *embedded.Store, seg string) int64 {
	t.Helper()
	its, err := store.AllItems(t.Context(), st, segment.KindCount, seg)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, it := range its {
		n += it.N
	}
	return n
}
