package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aurum-cdp/aurum/shared/core/identity"
	"github.com/aurum-cdp/aurum/shared/model/fault"
	"github.com/aurum-cdp/aurum/shared/model/profile"
	"github.com/aurum-cdp/aurum/shared/port/store"
)

func TestWithdrawalCheck(t *testing.T) {
	for _, tt := range []struct {
		name string
		w    Withdrawal
		ok   bool
	}{
		{"record", Withdrawal{Record: "crm/1"}, true},
		{"link", Withdrawal{Link: [2]string{"crm/1", "web/2"}}, true},
		{"nothing", Withdrawal{}, false},
		{"record and link", Withdrawal{Record: "crm/1", Link: [2]string{"crm/1", "web/2"}}, false},
		{"half a link", Withdrawal{Link: [2]string{"crm/1", ""}}, false},
		{"link to itself", Withdrawal{Link: [2]string{"crm/1", "crm/1"}}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.w.check()
			if (err == nil) != tt.ok || (err != nil && !fault.Is(err, fault.ErrInvalid)) {
				t.Errorf("check(%+v) = %v; want ok %v (else %v)", tt.w, err, tt.ok, fault.ErrInvalid)
			}
		})
	}
}

// plan builds a split plan of profile p1 over records with the given
// keys; indexed[i] lists the profile ids record i is indexed under (p1
// when nil), observed[i] its observation offset in hours.
func plan(keys []string, indexed [][]string, observed []int) *splitPlan {
	var crs []clusterRecord
	for i, k := range keys {
		src, id, _ := strings.Cut(k, "/")
		c := clusterRecord{rec: profile.Record{Source: src, ID: id, ObservedAt: st0}, indexed: []string{"p1"}, stored: "p1"}
		if i < len(indexed) && indexed[i] != nil {
			c.indexed = indexed[i]
		}
		if i < len(observed) {
			c.rec.ObservedAt = st0.Add(time.Duration(observed[i]) * time.Hour)
		}
		crs = append(crs, c)
	}
	return newSplitPlan(profile.Profile{ID: "p1", Version: 7, MergedFrom: []string{"p2", "p3"}}, crs, st0)
}

func TestSplitPlanWithdrawn(t *testing.T) {
	s := plan([]string{"crm/a", "shop/b", "web/c"}, nil, nil)
	for _, tt := range []struct {
		name    string
		w       Withdrawal
		want    string
		invalid bool
	}{
		{"record against every other", Withdrawal{Record: "shop/b"}, "[[shop/b crm/a] [shop/b web/c]]", false},
		{"link", Withdrawal{Link: [2]string{"web/c", "crm/a"}}, "[[web/c crm/a]]", false},
		{"record outside the profile", Withdrawal{Record: "crm/zz"}, "", true},
		{"link end outside the profile", Withdrawal{Link: [2]string{"crm/a", "crm/zz"}}, "", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.withdrawn(tt.w)
			if tt.invalid {
				if !fault.Is(err, fault.ErrInvalid) {
					t.Errorf("withdrawn(%+v) = %v; want %v", tt.w, err, fault.ErrInvalid)
				}
				return
			}
			if err != nil || fmt.Sprint(got) != tt.want {
				t.Errorf("withdrawn(%+v) = %v, %v; want %s", tt.w, got, err, tt.want)
			}
		})
	}
}

func TestSplitPlanApart(t *testing.T) {
	s := plan([]string{"crm/a", "shop/b"}, nil, nil)
	got := s.apart([][2]string{{"crm/a", "shop/b"}}, [][2]string{{"shop/b", "crm/a"}, {"crm/a", "web/elsewhere"}})
	if want := "[[crm/a shop/b] [shop/b crm/a]]"; fmt.Sprint(got) != want {
		t.Errorf("apart() = %v; want %s (earlier assertions outside the cluster left out)", got, want)
	}
}

func TestClustersOf(t *testing.T) {
	if got, want := fmt.Sprint(clustersOf([]string{"x", "y", "x"})), "map[x:[0 2] y:[1]]"; got != want {
		t.Errorf("clustersOf() = %s; want %s", got, want)
	}
}

func TestSplitPlanKeep(t *testing.T) {
	keys := []string{"crm/a", "shop/b", "web/c", "web/d"}
	for _, tt := range []struct {
		name     string
		indexed  [][]string
		observed []int
		ids      []string // cluster per record
		want     string
	}{
		{"the founder's cluster, though smaller", nil, []int{0, 1, 1, 1}, []string{"x", "y", "y", "y"}, "x"},
		{"founder by key when observed together", nil, nil, []string{"y", "x", "x", "y"}, "y"},
		{"no record written under the id: the larger", [][]string{{"p2"}, {"p2"}, {"p2"}, {"p3"}}, nil, []string{"x", "y", "y", "y"}, "y"},
		{"all equal: the smaller cluster id", [][]string{{"p2"}, {"p2"}, {"p3"}, {"p3"}}, nil, []string{"y", "y", "x", "x"}, "x"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := plan(keys, tt.indexed, tt.observed)
			if got := s.keep(clustersOf(tt.ids), tt.ids); got != tt.want {
				t.Errorf("keep(%v) = %s; want %s", tt.ids, got, tt.want)
			}
		})
	}
}

func TestSplitPlanAssign(t *testing.T) {
	s := plan([]string{"web/c", "crm/a", "shop/b", "crm/z"}, nil, nil)
	by := clustersOf([]string{"y", "x", "y", "z"})
	s.assign(by, "y")
	var parts []string
	for _, part := range s.sp.Parts {
		parts = append(parts, fmt.Sprint(part.ProfileID == "p1", part.Created, part.Records))
	}
	if want := "[true false [shop/b web/c] false true [crm/a] false true [crm/z]]"; fmt.Sprint(parts) != want {
		t.Errorf("parts = %v; want the kept cluster first under p1, then by cluster id", parts)
	}
	if got := fmt.Sprint(s.partOf); got != "[0 1 0 2]" {
		t.Errorf("partOf = %s; want [0 1 0 2]", got)
	}
	if s.sp.ProfileID != "p1" || s.sp.ProfileVersion != 8 {
		t.Errorf("split of %s at version %d; want p1 at 8", s.sp.ProfileID, s.sp.ProfileVersion)
	}
	if got, want := s.sp.Parts[1].ProfileID, splitPartID(s.prof, "crm/a"); got != want || !strings.HasPrefix(got, "p_") {
		t.Errorf("new part id = %s; want %s", got, want)
	}
	if splitPartID(s.prof, "crm/a") == splitPartID(profile.Profile{ID: "p1", Version: 8}, "crm/a") {
		t.Errorf("splitPartID ignores the profile version: a later split would reuse the id")
	}
}

func TestArgmax(t *testing.T) {
	for _, tt := range []struct {
		in   []int
		want int
	}{{[]int{0}, 0}, {[]int{1, 3, 2}, 1}, {[]int{2, 2, 1}, 0}, {[]int{0, 0, 5}, 2}} {
		if got := argmax(tt.in); got != tt.want {
			t.Errorf("argmax(%v) = %d; want %d", tt.in, got, tt.want)
		}
	}
}

func TestSplitPlanRedirects(t *testing.T) {
	// p2's records went mostly to part 1, p3 holds none.
	s := plan([]string{"crm/a", "shop/b", "web/c"}, [][]string{{"p1", "p2"}, {"p2"}, {"p2"}}, nil)
	s.assign(clustersOf([]string{"x", "y", "y"}), "x")
	got, err := s.redirects()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Item.Key != "p2" || got[0].Item.Kind != identity.ItemMoved {
		t.Fatalf("redirects() = %+v; want p2's only", got)
	}
	var mv identity.Moved
	if err := json.Unmarshal(got[0].Item.Value, &mv); err != nil {
		t.Fatal(err)
	}
	if mv.To != s.sp.Parts[1].ProfileID {
		t.Errorf("p2 moved to %s; want the new part %s", mv.To, s.sp.Parts[1].ProfileID)
	}
}

func TestSplitPlanEntries(t *testing.T) {
	s := plan([]string{"crm/a", "shop/b"}, nil, nil)
	s.assign(clustersOf([]string{"x", "y"}), "x")
	items, err := s.entries([][2]string{{"crm/a", "shop/b"}}, Withdrawal{Record: "crm/a", Reason: "test"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, w := range items {
		got = append(got, w.Item.Kind+" "+w.Item.Key)
	}
	newID := s.sp.Parts[1].ProfileID
	want := []string{identity.ItemApart + " p1", identity.ItemApart + " " + newID, identity.ItemAssertions + " " + identity.AssertionsKey, identity.ItemLedger + " p1"}
	if !slices.Equal(got, want) {
		t.Errorf("entries() = %v; want %v", got, want)
	}
	var e identity.LedgerEntry
	if err := json.Unmarshal(items[len(items)-1].Item.Value, &e); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(e.Split) != fmt.Sprint([]string{newID}) || e.Withdrawn != "crm/a" || e.Rule != "unmerge" {
		t.Errorf("ledger entry = %+v; want the split of %s withdrawing crm/a", e, newID)
	}
}

func TestChangedBySplit(t *testing.T) {
	prof := profile.Profile{Attributes: map[string]profile.Attribute{
		"name": {RecordID: "1", Source: "crm"}, "city": {RecordID: "2", Source: "crm"},
	}}
	part := profile.Profile{Attributes: map[string]profile.Attribute{
		"name": {RecordID: "1", Source: "crm"}, "city": {RecordID: "3", Source: "crm"}, "tier": {RecordID: "1", Source: "crm"},
	}}
	for _, tt := range []struct {
		name    string
		created bool
		want    string
	}{
		{"kept part: attributes with another winner", false, "[city tier]"},
		{"created part: all", true, "[city name tier]"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := fmt.Sprint(changedBySplit(prof, part, tt.created)); got != tt.want {
				t.Errorf("changedBySplit() = %s; want %s", got, tt.want)
			}
		})
	}
}

func TestPacker(t *testing.T) {
	items := func(n int) []store.ItemWrite { return make([]store.ItemWrite, n) }
	for _, tt := range []struct {
		name  string
		first int   // writes of the first change set (its Keys)
		moves []int // items per move
		want  string
	}{
		{"all in the first", 10, []int{3, 3}, "[18]"},
		{"a move that would exceed starts a change set", MaxSplitWrites - 3, []int{2, 2, 2}, "[90 6]"},
		{"the record write counts too", MaxSplitWrites - 2, []int{2}, fmt.Sprint([]int{MaxSplitWrites - 2, 3})},
		{"an empty change set takes any move", 0, []int{MaxSplitWrites + 5}, fmt.Sprint([]int{MaxSplitWrites + 6})},
		{"a large move gets its own", 1, []int{MaxSplitWrites, 1}, fmt.Sprint([]int{1, MaxSplitWrites + 1, 2})},
	} {
		t.Run(tt.name, func(t *testing.T) {
			pk := newPacker(store.Change{Keys: make([]string, tt.first)})
			for _, n := range tt.moves {
				pk.add(store.RecordWrite{}, items(n))
			}
			var sizes []int
			for _, c := range pk.changes {
				sizes = append(sizes, writes(c))
			}
			if fmt.Sprint(sizes) != tt.want {
				t.Errorf("change set sizes = %v; want %s", sizes, tt.want)
			}
		})
	}
}

func TestMoveItems(t *testing.T) {
	p := stepPipeline(t, newFakeStore())
	for _, tt := range []struct {
		name      string
		c         clusterRecord
		want      []string
		wantIndex string
	}{
		{"indexed record", clusterRecord{rec: profile.Record{Source: "crm", ID: "1"}, indexed: []string{"p1", "p2"}, index: []byte(`{"keys":["k"]}`)},
			[]string{"delete " + identity.ItemRecords + " p1", "delete " + identity.ItemRecords + " p2", "put " + identity.ItemRecords + " p9"}, `{"keys":["k"]}`},
		{"appended record gets an empty index entry", clusterRecord{rec: profile.Record{Source: "web", ID: "m"}, appended: true},
			[]string{"put " + identity.ItemRecords + " p9"}, `{}`},
		{"record with a composite key moves its block entry", clusterRecord{rec: profile.Record{Source: "crm", ID: "1", Attributes: map[string]any{"last_name": "Lee", "birth_date": "1980-01-02"}}, indexed: []string{"p1"}, index: []byte(`{}`)},
			[]string{"delete " + identity.ItemRecords + " p1", "put " + identity.ItemRecords + " p9", "put " + identity.ItemBlock + " " + identity.BlockKey(identity.Key{Rule: "name-dob", Value: "lee\x1f1980-01-02"})}, `{}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			items, err := p.moveItems(tt.c, "p9")
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, w := range items {
				got = append(got, map[store.ItemOp]string{store.ItemDelete: "delete", store.ItemPut: "put"}[w.Op]+" "+w.Item.Kind+" "+w.Item.Key)
				if w.Item.Kind == identity.ItemRecords && w.Op == store.ItemPut && string(w.Item.Value) != tt.wantIndex {
					t.Errorf("record index value = %s; want %s", w.Item.Value, tt.wantIndex)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("moveItems() = %v; want %v", got, tt.want)
			}
		})
	}
}

func TestMoveRecordsNotesMovedEvents(t *testing.T) {
	p := stepPipeline(t, newFakeStore())
	s := plan([]string{"crm/a", "web/b", "web/c"}, nil, nil)
	s.crs[1].stored = "p2" // its events are stored under p2
	s.assign(clustersOf([]string{"x", "y", "y"}), "x")
	changes, err := p.moveRecords(s, store.Change{Keys: []string{"split"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 1 || len(changes[0].Records) != 2 {
		t.Fatalf("moveRecords() = %d change sets, %d records; want the two records of the new part in the first", len(changes), len(changes[0].Records))
	}
	var moved []string
	for _, a := range s.sp.moved {
		moved = append(moved, a.ProfileID+":"+a.Record.Key())
	}
	if want := "[p2:web/b p1:web/c]"; fmt.Sprint(moved) != want {
		t.Errorf("moved = %v; want %s", moved, want)
	}
}

func TestCommitSplit(t *testing.T) {
	moved := []store.Appended{{ProfileID: "p1", Record: profile.Record{Source: "web", ID: "m"}}}
	for _, tt := range []struct {
		name        string
		err         error
		wantDiscard int
	}{
		{"committed: moved events discarded", nil, 1},
		{"failed: nothing discarded", fault.ErrConflict, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := &appendingStore{fakeStore: newFakeStore()}
			f.err = tt.err
			p := stepPipeline(t, f)
			sp := Split{moved: slices.Clone(moved)}
			err := p.commitSplit(context.Background(), &sp, []store.Change{{Keys: []string{"k"}}})
			if !errors.Is(err, tt.err) || (err == nil) != (tt.err == nil) {
				t.Errorf("commitSplit() = %v; want %v", err, tt.err)
			}
			if len(f.discarded) != tt.wantDiscard {
				t.Errorf("Discard called %d times; want %d", len(f.discarded), tt.wantDiscard)
			}
			if tt.err == nil && sp.moved != nil {
				t.Errorf("moved = %v after the commit; want it cleared", sp.moved)
			}
		})
	}
}

func TestSplitLanded(t *testing.T) {
	conflict := fmt.Errorf("commit: %w", fault.ErrConflict)
	for _, tt := range []struct {
		name    string
		changes int
		landed  bool
		wantErr bool
	}{
		{"one change set: retry", 1, true, false},
		{"first did not land: retry", 2, false, false},
		{"first landed: give up", 2, true, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeStore()
			f.seen["split/p1/1"] = tt.landed
			p := stepPipeline(t, f)
			changes := make([]store.Change, tt.changes)
			changes[0].Keys = []string{"split/p1/1"}
			err := p.splitLanded(context.Background(), changes, conflict)
			if (err != nil) != tt.wantErr || (err != nil && !errors.Is(err, fault.ErrConflict)) {
				t.Errorf("splitLanded() = %v; want error %v (wrapping the conflict)", err, tt.wantErr)
			}
		})
	}
}

func TestGatherReadsIndexAndAppends(t *testing.T) {
	f := newFakeStore()
	f.page = 1 // follow the record index's cursors
	f.profiles["p1"] = profile.Profile{ID: "p1", MergedFrom: []string{"p2"}}
	f.redirect["p2"] = "p1"
	f.profiles["p9"] = profile.Profile{ID: "p9"}
	for _, it := range []struct{ key, sort string }{{"p1", "crm/a"}, {"p1", "crm/gone"}, {"p2", "crm/a"}, {"p2", "shop/b"}, {"p2", "shop/moved"}} {
		f.items = append(f.items, store.Item{Kind: identity.ItemRecords, Key: it.key, Sort: it.sort, Value: []byte(`{"keys":["` + it.key + `"]}`)})
	}
	f.records["crm/a"] = fakeRecord{rec: profile.Record{Source: "crm", ID: "a"}, stored: "p1"}
	f.records["shop/b"] = fakeRecord{rec: profile.Record{Source: "shop", ID: "b"}, stored: "p2"}
	f.records["shop/moved"] = fakeRecord{rec: profile.Record{Source: "shop", ID: "moved"}, stored: "p9"}
	a := &appendingStore{fakeStore: f, appended: map[string][]profile.Record{
		"p2": {{Source: "shop", ID: "b"}, {Source: "web", ID: "m"}}, // shop/b is indexed: not twice
	}}
	p := stepPipeline(t, a)
	got, err := p.gather(context.Background(), a, f.profiles["p1"])
	if err != nil {
		t.Fatal(err)
	}
	var desc []string
	for _, c := range got {
		desc = append(desc, fmt.Sprintf("%s@%s%v%s appended=%v", c.rec.Key(), c.stored, c.indexed, c.index, c.appended))
	}
	want := []string{
		`crm/a@p1[p1 p2]{"keys":["p1"]} appended=false`,
		`shop/b@p2[p2]{"keys":["p2"]} appended=false`,
		`web/m@p2[] appended=true`,
	}
	if !slices.Equal(desc, want) {
		t.Errorf("gather() =\n%s\nwant\n%s", strings.Join(desc, "\n"), strings.Join(want, "\n"))
	}
}
