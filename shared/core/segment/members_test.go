package segment

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"testing"

	"github.com/aurum-cdp/aurum/shared/port/store"
)

// pagedItems serves member items two per page, the cursor being the
// next offset.
type pagedItems map[string][]store.Item

func (p pagedItems) Items(_ context.Context, kind, key, _, _ string, _ int, cursor string) ([]store.Item, string, error) {
	if kind != KindMember {
		return nil, "", fmt.Errorf("kind %s", kind)
	}
	all := p[key]
	from, _ := strconv.Atoi(cursor)
	to := min(from+2, len(all))
	next := ""
	if to < len(all) {
		next = strconv.Itoa(to)
	}
	return all[from:to], next, nil
}

func TestMembersWalksEveryShardAndPage(t *testing.T) {
	items := pagedItems{}
	var want []string
	for i := range 40 {
		pid := fmt.Sprintf("p%02d", i)
		key := memberKey("vip", Shard(pid))
		items[key] = append(items[key], store.Item{Kind: KindMember, Key: key, Sort: pid})
		items[memberKey("other", Shard(pid))] = append(items[memberKey("other", Shard(pid))], store.Item{Kind: KindMember, Sort: "x" + pid})
		want = append(want, pid)
	}
	var got []string
	if err := Members(context.Background(), items, "vip", func(id string) error { got = append(got, id); return nil }); err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("Members(vip) = %v; want the 40 members of vip", got)
	}
}
