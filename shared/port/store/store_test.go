package store_test

import (
	"testing"

	"github.com/aurum-cdp/aurum/shared/port/store"
)

func TestMergeAdds(t *testing.T) {
	add := func(key, sort string, n int64) store.ItemWrite {
		return store.ItemWrite{Op: store.ItemAdd, Item: store.Item{Kind: "seg.count", Key: key, Sort: sort, N: n}}
	}
	put := store.ItemWrite{Op: store.ItemPut, Item: store.Item{Kind: "seg.hist", Key: "p1", Sort: "t"}}
	in := []store.ItemWrite{add("lapsed", "14", -1), put, add("vip", "14", 1), add("lapsed", "14", -1), add("lapsed", "03", 1)}
	got := store.MergeAdds(in)
	want := []store.ItemWrite{add("lapsed", "14", -2), put, add("vip", "14", 1), add("lapsed", "03", 1)}
	if len(got) != len(want) {
		t.Fatalf("MergeAdds = %d writes; want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i].Op != want[i].Op || got[i].Item.Kind != want[i].Item.Kind || got[i].Item.Key != want[i].Item.Key ||
			got[i].Item.Sort != want[i].Item.Sort || got[i].Item.N != want[i].Item.N {
			t.Errorf("MergeAdds[%d] = %+v; want %+v", i, got[i], want[i])
		}
	}
	if in[0].Item.N != -1 {
		t.Errorf("MergeAdds changed its input: %+v", in[0])
	}
}
