package trigger_test

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aurum-cdp/aurum/shared/adapter/embedded"
	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/core/trigger"
	"github.com/aurum-cdp/aurum/shared/model/events"
	"github.com/aurum-cdp/aurum/shared/port/store"
)

// TestForgetter erases p1 (merged from p0): its caps and unless markers
// under every trigger and its pending firings are named, p9's are not.
func TestForgetter(t *testing.T) {
	ctx := t.Context()
	st, err := embedded.Open(filepath.Join(t.TempDir(), "aurum.db"), embedded.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	due := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	sched := trigger.NewStoreScheduler(st, nil, nil)
	for _, pid := range []string{"p0", "p9"} {
		p := trigger.Pending{TriggerID: "cart", ProfileID: pid, Cause: events.Cause{EventID: "e-" + pid}, Due: due}
		if err := sched.Schedule(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	p0 := trigger.Pending{TriggerID: "cart", ProfileID: "p0", Cause: events.Cause{EventID: "e-p0"}}.FiringID()
	pending, err := store.AllItems(ctx, st, trigger.KindPending, "all")
	if err != nil || len(pending) != 2 {
		t.Fatalf("pending firings = %d, %v; want 2", len(pending), err)
	}
	i := slices.IndexFunc(pending, func(it store.Item) bool { return strings.HasSuffix(it.Sort, "#"+p0) })
	if i < 0 {
		t.Fatalf("no pending firing %s among %+v", p0, pending)
	}
	var writes []store.ItemWrite
	for _, it := range []store.Item{
		{Kind: trigger.KindCap, Key: "vip/p1", Sort: "head"},
		{Kind: trigger.KindCap, Key: "vip/p1", Sort: "t#1#f1"},
		{Kind: trigger.KindUnless, Key: "cart/p0", Sort: "1#e"},
		{Kind: trigger.KindCap, Key: "vip/p9", Sort: "head"},
		{Kind: trigger.KindFired, Key: "f1", Sort: "F"},
	} {
		writes = append(writes, store.ItemWrite{Op: store.ItemPut, Item: it})
	}
	if err := st.Commit(ctx, store.Change{Items: writes}); err != nil {
		t.Fatal(err)
	}
	subj := store.Subject{ProfileIDs: []string{"p1", "p0"}}
	tests := []struct {
		name     string
		triggers []config.Trigger
		want     []string // kind/key/sort
	}{
		{"no triggers", nil, nil},
		{"two triggers", []config.Trigger{{ID: "vip"}, {ID: "cart"}}, []string{
			"trg.cap/vip/p1/head", "trg.cap/vip/p1/t#1#f1", "trg.unless/cart/p0/1#e",
			"trg.pending/all/" + pending[i].Sort,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := trigger.NewForgetter(tt.triggers).Forget(ctx, st, subj)
			if err != nil {
				t.Fatalf("Forget() = %v", err)
			}
			var names []string
			for _, r := range got.Items {
				names = append(names, r.Kind+"/"+r.Key+"/"+r.Sort)
			}
			if !slices.Equal(names, tt.want) || len(got.Index) > 0 {
				t.Errorf("Forget() = %v, index %v; want %v, none", names, got.Index, tt.want)
			}
		})
	}
}
