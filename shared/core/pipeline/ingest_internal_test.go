package pipeline

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/aurum-cdp/aurum/shared/core/identity"
	"github.com/aurum-cdp/aurum/shared/model/fault"
	"github.com/aurum-cdp/aurum/shared/model/profile"
	"github.com/aurum-cdp/aurum/shared/port/store"
)

func TestPendingOf(t *testing.T) {
	if got := fmt.Sprint(pendingOf([]bool{true, false, false, true, false})); got != "[1 2 4]" {
		t.Errorf("pendingOf() = %s; want [1 2 4]", got)
	}
}

func TestCommitBatch(t *testing.T) {
	b := batch{
		changes:  []store.Change{{Keys: []string{"k0"}}, {Keys: []string{"k1"}}},
		idx:      []int{0, 2},
		outcomes: []outcome{{profileID: "p0", created: true}, {profileID: "p1", merged: 1}},
	}
	disk := errors.New("disk")
	for _, tt := range []struct {
		name string
		err  error
		// seen are keys recorded when the commit returns (by this commit
		// or a concurrent writer).
		seen     []string
		wantErr  error
		accepted int
		done     string
	}{
		{"committed", nil, nil, nil, 2, "[true false true]"},
		{"conflict after the first applied", &store.CommitError{Applied: 1, Err: fault.ErrConflict}, []string{"k0"}, fault.ErrConflict, 1, "[true false false]"},
		{"key taken by a concurrent writer", &store.CommitError{Applied: 0, Err: fault.ErrConflict}, []string{"k0", "k1"}, fault.ErrConflict, 0, "[false false false]"},
		{"conflict the store does not count", fault.ErrConflict, []string{"k0"}, fault.ErrConflict, 0, "[false false false]"},
		{"other failure after the first applied", &store.CommitError{Applied: 1, Err: disk}, []string{"k0"}, disk, 1, "[true false false]"},
		{"other failure", disk, nil, disk, 0, "[false false false]"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeStore()
			f.err = tt.err
			for _, k := range tt.seen {
				f.seen[k] = true
			}
			p := stepPipeline(t, f)
			res := &Result{ProfileIDs: make([]string, 3), stats: map[string]int64{}}
			done := make([]bool, 3)
			err := p.commitBatch(context.Background(), b, done, res)
			if (err == nil) != (tt.err == nil) || (tt.wantErr != nil && !errors.Is(err, tt.wantErr)) {
				t.Errorf("commitBatch() = %v; want %v", err, tt.wantErr)
			}
			if res.Accepted != tt.accepted || fmt.Sprint(done) != tt.done {
				t.Errorf("commitBatch() accepted %d, done %v; want %d, %s", res.Accepted, done, tt.accepted, tt.done)
			}
		})
	}
}

func TestSizeItems(t *testing.T) {
	big := identity.MinRanked
	for _, tt := range []struct {
		name          string
		before, after map[string]int
		wantStats     string
		wantOps       []store.ItemOp
	}{
		{"unchanged", map[string]int{"p": 2}, map[string]int{"p": 2}, "map[]", nil},
		{"grows one bucket", map[string]int{"p": 2}, map[string]int{"p": 3}, "map[hist/2:-1 hist/3-5:1]", nil},
		{"created", nil, map[string]int{"p": 1}, "map[hist/1:1]", nil},
		{"gone", map[string]int{"p": 1}, nil, "map[hist/1:-1]", nil},
		{"reaches the ranking", map[string]int{"p": big - 1}, map[string]int{"p": big}, "", []store.ItemOp{store.ItemPut}},
		{"ranked profile goes", map[string]int{"p": big}, nil, "", []store.ItemOp{store.ItemDelete}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			stats := map[string]int64{}
			items := sizeItems(tt.before, tt.after, stats)
			var ops []store.ItemOp
			for _, w := range items {
				ops = append(ops, w.Op)
				if w.Item.Kind != identity.ItemTop {
					t.Errorf("item kind %s; want %s", w.Item.Kind, identity.ItemTop)
				}
			}
			if tt.wantStats != "" && fmt.Sprint(stats) != tt.wantStats {
				t.Errorf("sizeItems() stats = %v; want %s", stats, tt.wantStats)
			}
			if !slices.Equal(ops, tt.wantOps) {
				t.Errorf("sizeItems() ops = %v; want %v", ops, tt.wantOps)
			}
		})
	}
}

func TestSoleClaimant(t *testing.T) {
	claimants := map[profile.Identifier]string{ident("email:a@x.com"): "p1", ident("phone:+441"): "p1", ident("email:b@x.com"): "p2"}
	for _, tt := range []struct {
		name string
		ids  []profile.Identifier
		want string
	}{
		{"one profile claims all", idents("email:a@x.com", "phone:+441"), "p1"},
		{"two profiles", idents("email:a@x.com", "email:b@x.com"), ""},
		{"an unclaimed identifier", idents("email:a@x.com", "email:new@x.com"), ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := soleClaimant(profile.Record{Identifiers: tt.ids}, claimants); got != tt.want {
				t.Errorf("soleClaimant(%v) = %q; want %q", tt.ids, got, tt.want)
			}
		})
	}
}

func appended(part, seq, id, event string, hour int) store.Appended {
	return store.Appended{ProfileID: part, Seq: seq, Record: profile.Record{Source: "web", ID: id, ObservedAt: st0.Add(timeHours(hour)), Events: []profile.Event{{ID: event, Name: "page"}}}}
}

func TestByPartition(t *testing.T) {
	by, parts, err := byPartition([]store.Appended{appended("p2", "1", "a", "e1", 0), appended("p1", "2", "b", "e2", 0), appended("p2", "3", "c", "e3", 0)})
	if err != nil || fmt.Sprint(parts) != "[p2 p1]" || len(by["p2"]) != 2 {
		t.Errorf("byPartition() = %v, %d of p2, %v; want [p2 p1], 2", parts, len(by["p2"]), err)
	}
	bad := appended("p1", "1", "a", "e1", 0)
	bad.Record.Events = nil
	if _, _, err := byPartition([]store.Appended{bad}); !fault.Is(err, fault.ErrInvalid) {
		t.Errorf("byPartition(append without its event) = %v; want %v", err, fault.ErrInvalid)
	}
}

func TestUnfolded(t *testing.T) {
	surv := profile.Profile{Folded: map[string]string{"p1": "5"}, RecentEvents: []profile.Event{{ID: "seen"}}}
	todo, skipped := unfolded(&surv, []store.Appended{
		appended("p1", "4", "old", "e0", 0),   // folded before
		appended("p1", "6", "late", "e1", 3),  // new, observed last
		appended("p2", "1", "dup", "seen", 1), // already among the recent events
		appended("p2", "2", "early", "e2", 1), // new, observed first
	})
	var ids []string
	for _, r := range todo {
		ids = append(ids, r.ID)
	}
	if fmt.Sprint(ids) != "[early late]" || skipped != 2 {
		t.Errorf("unfolded() = %v, %d skipped; want [early late] in observation order, 2 skipped", ids, skipped)
	}
	if surv.Folded["p1"] != "6" || surv.Folded["p2"] != "2" {
		t.Errorf("fold positions = %v; want p1 at 6, p2 at 2", surv.Folded)
	}
}

func TestApplyFolds(t *testing.T) {
	p := stepPipeline(t, newFakeStore())
	surv := profile.Profile{ID: "p1"}
	a := appended("p1", "1", "a", "e1", 0).Record
	a.Identifiers = idents("email:a@x.com")
	a.Attributes = map[string]any{"city": "Leeds"}
	b := appended("p1", "2", "b", "e2", 1).Record
	b.Source = "crm"
	f := p.applyFolds(&surv, []profile.Record{a, b})
	if fmt.Sprint(f.sources) != "[crm web]" || fmt.Sprint(f.names) != "[page page]" || !slices.Contains(f.changed, "city") {
		t.Errorf("applyFolds() = sources %v, names %v, changed %v; want both sources sorted, both names, city changed", f.sources, f.names, f.changed)
	}
	if f.stats[identity.CounterRecords] != 2 || f.stats["rule/same-contact/links"] != 1 {
		t.Errorf("applyFolds() stats = %v; want 2 records, 1 link under same-contact", f.stats)
	}
}

func timeHours(h int) time.Duration { return time.Duration(h) * time.Hour }
