package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/aurum-cdp/aurum/shared/core/identity"
	"github.com/aurum-cdp/aurum/shared/model/events"
	"github.com/aurum-cdp/aurum/shared/model/profile"
	"github.com/aurum-cdp/aurum/shared/port/store"
)

func TestCandidatesAddLinks(t *testing.T) {
	link := func(id, rule string, prio int) identity.Link {
		return identity.Link{Identifier: ident(id), Rule: rule, Priority: prio}
	}
	owners := map[profile.Identifier]store.Owner{
		ident("customer_id:C1"): {Claimant: "p1", ProfileID: "p1"},
		ident("email:a@x.com"):  {Claimant: "p2", ProfileID: "p2"},
		ident("phone:+441"):     {Claimant: "old", ProfileID: "p1"},
	}
	for _, tt := range []struct {
		name       string
		links      []identity.Link
		wantIDs    string
		wantRules  string
		wantPrio   string
		wantShared string
	}{
		{"unclaimed links add nothing", []identity.Link{link("email:new@x.com", "same-contact", 1)}, "[]", "map[]", "map[]", "map[]"},
		{"first link names the rule, best priority kept",
			[]identity.Link{link("phone:+441", "same-contact", 2), link("customer_id:C1", "same-customer", 0), link("email:a@x.com", "same-contact", 1)},
			"[p1 p2]", "map[p1:same-contact p2:same-contact]", "map[p1:0 p2:1]", "map[p1:[phone:+441 customer_id:C1] p2:[email:a@x.com]]"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := newCandidates([]string{"same-customer", "same-contact"})
			c.addLinks(tt.links, owners)
			got := fmt.Sprint(c.ids, c.rules, c.prio, c.shared)
			if want := fmt.Sprint(tt.wantIDs, " ", tt.wantRules, " ", tt.wantPrio, " ", tt.wantShared); got != want {
				t.Errorf("addLinks() = %s; want %s", got, want)
			}
		})
	}
}

func TestCandidatesAddBlock(t *testing.T) {
	order := []string{"a", "b", "c"}
	for _, tt := range []struct {
		name      string
		known     map[string]string // profile → rule before
		id, rule  string
		wantRule  string
		wantPrio  int
		wantCount int
	}{
		{"new profile", nil, "p1", "c", "c", blockPriority, 1},
		{"known by a later rule takes the earlier", map[string]string{"p1": "c"}, "p1", "b", "b", 0, 1},
		{"known by an earlier rule keeps it", map[string]string{"p1": "a"}, "p1", "b", "a", 0, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := newCandidates(order)
			for id, r := range tt.known {
				c.ids, c.rules[id], c.prio[id] = append(c.ids, id), r, 0
			}
			c.addBlock(tt.id, tt.rule)
			if c.rules[tt.id] != tt.wantRule || c.prio[tt.id] != tt.wantPrio || len(c.ids) != tt.wantCount {
				t.Errorf("addBlock(%s, %s) = rule %s, priority %d, %d candidates; want %s, %d, %d", tt.id, tt.rule, c.rules[tt.id], c.prio[tt.id], len(c.ids), tt.wantRule, tt.wantPrio, tt.wantCount)
			}
		})
	}
}

func TestCandidatesLive(t *testing.T) {
	f := newFakeStore()
	f.profiles["p1"] = profile.Profile{ID: "p1"}
	f.profiles["p3"] = profile.Profile{ID: "p3"}
	f.redirect["p2"] = "p1" // p2 was merged into p1
	order := []string{"same-customer", "same-contact", "name-dob"}
	for _, tt := range []struct {
		name       string
		ids        []string
		wantLive   string
		wantRule   string // p1's
		wantPrio   int    // p1's
		wantShared string // p1's
	}{
		{"live id first: the merged id adds its priority only", []string{"p1", "p2", "p3"}, "[p1 p3]", "same-contact", 0, "[x]"},
		{"merged id first: p1 inherits its rule and identifiers", []string{"p2", "p1", "p3"}, "[p1 p3]", "same-customer", 0, "[x y]"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := newCandidates(order)
			c.ids = tt.ids
			c.rules = map[string]string{"p1": "same-contact", "p2": "same-customer", "p3": "name-dob"}
			c.prio = map[string]int{"p1": 1, "p2": 0, "p3": blockPriority}
			c.shared = map[string][]string{"p1": {"x"}, "p2": {"y"}}
			got, err := c.live(context.Background(), newView(f, func(identity.Key) int { return 10 }))
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, p := range got {
				ids = append(ids, p.ID)
			}
			if fmt.Sprint(ids) != tt.wantLive || c.rules["p1"] != tt.wantRule || c.prio["p1"] != tt.wantPrio || fmt.Sprint(c.shared["p1"]) != tt.wantShared {
				t.Errorf("live(%v) = %v, p1 rule %s, priority %d, shared %v; want %s, %s, %d, %s", tt.ids, ids, c.rules["p1"], c.prio["p1"], c.shared["p1"], tt.wantLive, tt.wantRule, tt.wantPrio, tt.wantShared)
			}
			stats := map[string]int64{}
			c.countLinks(stats)
			if stats["rule/name-dob/links"] != 1 || stats["rule/same-customer/links"]+stats["rule/same-contact/links"] != 1 {
				t.Errorf("countLinks() = %v; want one link per live profile (p1, p3)", stats)
			}
		})
	}
	t.Run("missing profile", func(t *testing.T) {
		c := newCandidates(order)
		c.ids = []string{"gone"}
		if _, err := c.live(context.Background(), newView(f, nil)); err == nil {
			t.Errorf("live([gone]) = nil error; want the read error")
		}
	})
}

func TestOrder(t *testing.T) {
	p := stepPipeline(t, newFakeStore())
	older, newer := profile.Profile{ID: "b", CreatedAt: st0}, profile.Profile{ID: "a", CreatedAt: st0.Add(time.Hour)}
	tie := profile.Profile{ID: "a0", CreatedAt: st0}
	profiles := []profile.Profile{newer, tie, older}
	// stepConfig has keep_priority: the best priority comes first, ties
	// oldest first.
	p.order(profiles, map[string]int{"a": 0, "b": 1, "a0": 1})
	var got []string
	for _, pr := range profiles {
		got = append(got, pr.ID)
	}
	if want := "[a a0 b]"; fmt.Sprint(got) != want {
		t.Errorf("order() = %v; want %s", got, want)
	}
}

func TestGroupingRefuses(t *testing.T) {
	p := stepPipeline(t, newFakeStore())
	for _, tt := range []struct {
		name    string
		members []profile.Profile
		theirs0 []string // the first member's do-not-merge ids
		pr      profile.Profile
		theirs  []string
		want    string
	}{
		{"first profile always admitted", nil, nil, profile.Profile{ID: "p1", Identifiers: idents("customer_id:C1")}, []string{"p9"}, ""},
		{"compatible", []profile.Profile{{ID: "p1", Identifiers: idents("customer_id:C1")}}, nil, profile.Profile{ID: "p2", Identifiers: idents("email:a@x.com")}, nil, ""},
		{"second customer id over the cap", []profile.Profile{{ID: "p1", Identifiers: idents("customer_id:C1")}}, nil, profile.Profile{ID: "p2", Identifiers: idents("customer_id:C2")}, nil, identity.ProtectMaxPerProfile},
		{"a member keeps it apart", []profile.Profile{{ID: "p1"}}, []string{"p2"}, profile.Profile{ID: "p2"}, nil, identity.ProtectDoNotMerge},
		{"it keeps a member apart", []profile.Profile{{ID: "p1"}}, nil, profile.Profile{ID: "p2"}, []string{"p1"}, identity.ProtectDoNotMerge},
	} {
		t.Run(tt.name, func(t *testing.T) {
			g := newGrouping()
			for i, m := range tt.members {
				var theirs []string
				if i == 0 {
					theirs = tt.theirs0
				}
				g.add(m, theirs)
			}
			if got := g.refuses(p, tt.pr, tt.theirs); got != tt.want {
				t.Errorf("refuses(%s) = %q; want %q", tt.pr.ID, got, tt.want)
			}
		})
	}
}

func TestOutranked(t *testing.T) {
	p := stepPipeline(t, newFakeStore())
	claimed := map[profile.Identifier]store.Owner{ident("customer_id:C2"): {Claimant: "p2", ProfileID: "p2"}}
	for _, tt := range []struct {
		name     string
		rec      []profile.Identifier
		groupIDs []profile.Identifier
		best     int
		want     bool
	}{
		{"own customer id outranks an email link", idents("customer_id:C3", "email:a@x.com"), idents("customer_id:C1", "email:a@x.com"), 1, true},
		{"the link is as strong", idents("customer_id:C3"), idents("customer_id:C1"), 0, false},
		{"the profile has no customer id", idents("customer_id:C3"), idents("email:a@x.com"), 1, false},
		{"the profile has the same one", idents("customer_id:C1"), idents("customer_id:C1"), 1, false},
		{"claimed identifiers are links, not the record's own", idents("customer_id:C2"), idents("customer_id:C1"), 1, false},
		{"uncapped type", idents("phone:+441"), idents("phone:+442"), 1, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := p.outranked(profile.Record{Identifiers: tt.rec}, tt.groupIDs, claimed, tt.best); got != tt.want {
				t.Errorf("outranked(%v, group %v, best %d) = %v; want %v", tt.rec, tt.groupIDs, tt.best, got, tt.want)
			}
		})
	}
}

func TestDraftStart(t *testing.T) {
	rec := profile.Record{Source: "crm", ID: "1"}
	t.Run("no group creates a profile", func(t *testing.T) {
		d := newDraft(rec, "k1", st0)
		d.start(nil)
		if d.surv.ID != NewProfileID("k1") || !d.out.created || d.before != nil || d.expect != 0 || !d.surv.CreatedAt.Equal(st0) {
			t.Errorf("start(nil) = %s created %v, before %v, expect %d; want a new profile %s", d.surv.ID, d.out.created, d.before, d.expect, NewProfileID("k1"))
		}
	})
	t.Run("group's first profile survives", func(t *testing.T) {
		d := newDraft(rec, "k1", st0)
		group := []profile.Profile{{ID: "p1", Version: 4, RecordCount: 3, Identifiers: idents("email:a@x.com")}, {ID: "p2", Version: 2, RecordCount: 1}}
		d.start(group)
		if d.surv.ID != "p1" || d.out.created || d.before == nil || d.before.ID != "p1" || d.expect != 4 || fmt.Sprint(d.oldSizes) != "map[p1:3 p2:1]" {
			t.Errorf("start() = %s created %v, expect %d, sizes %v; want p1 at version 4, sizes of both", d.surv.ID, d.out.created, d.expect, d.oldSizes)
		}
		d.surv.Identifiers[0] = ident("email:changed@x.com")
		if group[0].Identifiers[0] != ident("email:a@x.com") {
			t.Errorf("the survivor shares its identifiers with the stored profile; want a clone")
		}
	})
}

func TestMergeOne(t *testing.T) {
	f := newFakeStore()
	f.profiles["p3"] = profile.Profile{ID: "p3"}
	f.profiles["p4"] = profile.Profile{ID: "p4"}
	f.items = append(f.items,
		store.Item{Kind: identity.ItemApart, Key: "p2", Sort: "p1"}, // kept apart from the survivor: not copied
		store.Item{Kind: identity.ItemApart, Key: "p2", Sort: "p3"},
		store.Item{Kind: identity.ItemApart, Key: "p2", Sort: "p4"},
	)
	p := stepPipeline(t, f)
	v := newView(f, p.resolver.BlockLimit)
	d := newDraft(profile.Record{Source: "crm", ID: "r"}, "k", st0)
	d.start([]profile.Profile{{ID: "p1", Version: 1}, {ID: "p2", Version: 3}})
	c := newCandidates(p.resolver.Rules())
	c.rules["p2"] = "same-contact"
	c.shared = map[string][]string{"p1": {"phone:+441"}, "p2": {"email:a@x.com", "phone:+441"}}
	copied := map[string]bool{"p4": true} // inherited from an earlier merge of the same change
	if err := p.mergeOne(context.Background(), v, d, profile.Profile{ID: "p2", Version: 3}, c, copied); err != nil {
		t.Fatal(err)
	}
	if len(d.ch.Redirects) != 1 || d.ch.Redirects[0] != (store.Redirect{From: "p2", To: "p1", ExpectVersion: 3, At: st0}) {
		t.Errorf("redirects = %+v; want p2 → p1 expecting version 3", d.ch.Redirects)
	}
	if d.out.merged != 1 || d.stats["rule/same-contact/merges"] != 1 || len(d.merged) != 1 {
		t.Errorf("merged %d, stats %v; want one merge counted under same-contact", d.out.merged, d.stats)
	}
	var kinds []string
	for _, w := range d.ch.Items {
		kinds = append(kinds, w.Item.Kind+":"+w.Item.Key+"/"+w.Item.Sort)
	}
	if want := fmt.Sprint([]string{identity.ItemLedger + ":p1/" + d.stamp() + "/p2", identity.ItemApart + ":p1/p3"}); fmt.Sprint(kinds) != want {
		t.Errorf("items = %v; want %s", kinds, want)
	}
	if len(d.mergeEvents) != 1 {
		t.Fatalf("merge events = %d; want 1", len(d.mergeEvents))
	}
	var ev events.ProfilesMerged
	if err := json.Unmarshal(d.mergeEvents[0].Detail, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.ProfileID != "p1" || fmt.Sprint(ev.Merged) != "[p2]" || ev.Rule != "same-contact" || fmt.Sprint(ev.Identifiers) != "[email:a@x.com phone:+441]" || ev.RecordKey != "crm/r" {
		t.Errorf("ProfilesMerged = %+v; want p2 into p1 under same-contact, shared identifiers sorted once", ev)
	}
}

func TestApplyRecord(t *testing.T) {
	p := stepPipeline(t, newFakeStore())
	for _, tt := range []struct {
		name        string
		has         []profile.Identifier
		rec         []profile.Identifier
		wantIDs     string
		wantNew     string
		wantDropped string
	}{
		{"new identifiers attached", idents("customer_id:C1"), idents("customer_id:C1", "email:a@x.com"), "[customer_id:C1 email:a@x.com]", "[email:a@x.com]", "map[]"},
		{"second customer id over the cap", idents("customer_id:C1"), idents("customer_id:C2", "email:a@x.com"), "[customer_id:C1 email:a@x.com]", "[email:a@x.com]", "map[customer_id:C2:true]"},
		{"two new customer ids: the first fits", nil, idents("customer_id:C1", "customer_id:C2"), "[customer_id:C1]", "[customer_id:C1]", "map[customer_id:C2:true]"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := newDraft(profile.Record{Source: "crm", ID: "1", ObservedAt: st0, Identifiers: tt.rec}, "k", st0)
			d.start([]profile.Profile{{ID: "p1", Identifiers: tt.has}})
			dropped := p.applyRecord(d)
			var ids []string
			for _, id := range d.surv.Identifiers {
				ids = append(ids, id.String())
			}
			gotDropped := map[string]bool{}
			for id := range dropped {
				gotDropped[id.String()] = true
			}
			if fmt.Sprint(ids) != tt.wantIDs || fmt.Sprint(d.newIDs) != tt.wantNew || fmt.Sprint(gotDropped) != tt.wantDropped {
				t.Errorf("applyRecord() = identifiers %v, new %v, dropped %v; want %s, %s, %s", ids, d.newIDs, gotDropped, tt.wantIDs, tt.wantNew, tt.wantDropped)
			}
			if n := d.stats["blocked/"+identity.ProtectMaxPerProfile]; int(n) != len(dropped) {
				t.Errorf("blocked max_per_profile = %d; want %d (one per dropped identifier)", n, len(dropped))
			}
		})
	}
}

func TestClaims(t *testing.T) {
	links := []identity.Link{{Identifier: ident("email:new@x.com")}, {Identifier: ident("email:old@x.com")}, {Identifier: ident("phone:+441")}, {Identifier: ident("customer_id:C2")}}
	owners := map[profile.Identifier]store.Owner{
		ident("email:old@x.com"): {Claimant: "gone", ProfileID: "p2"}, // claimant merged into p2
		ident("phone:+441"):      {Claimant: "p1", ProfileID: "p1"},
	}
	for _, tt := range []struct {
		name    string
		dropped map[profile.Identifier]bool
		group   []profile.Profile
		want    string
	}{
		{"unclaimed claimed, merged-away claimant in the group re-claimed", nil, []profile.Profile{{ID: "p1"}, {ID: "p2"}},
			"[{email:new@x.com p1 } {email:old@x.com p1 gone} {customer_id:C2 p1 }]"},
		{"claimant's profile outside the group left alone", nil, []profile.Profile{{ID: "p1"}},
			"[{email:new@x.com p1 } {customer_id:C2 p1 }]"},
		{"dropped identifier not claimed", map[profile.Identifier]bool{ident("customer_id:C2"): true}, []profile.Profile{{ID: "p1"}},
			"[{email:new@x.com p1 }]"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := fmt.Sprint(claims(links, owners, tt.dropped, tt.group, "p1")); got != tt.want {
				t.Errorf("claims() = %s; want %s", got, tt.want)
			}
		})
	}
}

func TestIndexRecord(t *testing.T) {
	p := stepPipeline(t, newFakeStore())
	for _, tt := range []struct {
		name  string
		attrs map[string]any
		want  []string // item kinds
	}{
		{"no composite key: record index only", map[string]any{"last_name": "Lee"}, []string{identity.ItemRecords, identity.ItemTop}},
		{"composite key: block index too", map[string]any{"last_name": "Lee", "birth_date": "1980-01-02"}, []string{identity.ItemBlock, identity.ItemRecords, identity.ItemTop}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec := profile.Record{Source: "crm", ID: "1", Attributes: tt.attrs}
			d := newDraft(rec, "k", st0)
			d.start([]profile.Profile{{ID: "p1", RecordCount: identity.MinRanked - 1}})
			d.surv.RecordCount = identity.MinRanked // the record makes it ranked
			if err := p.indexRecord(d, p.resolver.Keys(rec)); err != nil {
				t.Fatal(err)
			}
			var kinds []string
			for _, w := range d.ch.Items {
				kinds = append(kinds, w.Item.Kind)
				if w.Item.Kind == identity.ItemRecords && (w.Item.Key != "p1" || w.Item.Sort != "crm/1") {
					t.Errorf("record index entry %s/%s; want p1/crm/1", w.Item.Key, w.Item.Sort)
				}
			}
			if !slices.Equal(kinds, tt.want) {
				t.Errorf("indexRecord() items = %v; want %v", kinds, tt.want)
			}
		})
	}
}

// recordingExt records the updates it sees, adds an item and, when fail
// is set, fails.
type recordingExt struct {
	seen []Update
	fail error
}

func (x *recordingExt) Extend(_ context.Context, u *Update, ch *store.Change) error {
	x.seen = append(x.seen, *u)
	u.After.Segments = map[string]time.Time{"vip": u.Now}
	ch.Items = append(ch.Items, store.ItemWrite{Op: store.ItemPut, Item: store.Item{Kind: "ext", Key: u.After.ID}})
	return x.fail
}

func TestFinish(t *testing.T) {
	rec := profile.Record{Source: "web", ID: "m1", Events: []profile.Event{{ID: "e1", Name: "page"}}}
	t.Run("survivor written once extended", func(t *testing.T) {
		ext := &recordingExt{}
		p := stepPipeline(t, newFakeStore(), ext)
		d := newDraft(rec, "k", st0)
		d.start([]profile.Profile{{ID: "p1", Version: 6}})
		d.mergeEvents = []events.Envelope{{ID: "merged"}}
		if err := p.finish(context.Background(), d); err != nil {
			t.Fatal(err)
		}
		w := d.ch.Profiles[0]
		if w.ExpectVersion != 6 || w.Profile.Version != 7 || w.Profile.Segments["vip"].IsZero() || !w.Profile.UpdatedAt.Equal(st0) {
			t.Errorf("profile write = version %d expecting %d, segments %v; want 7 expecting 6, with the extension's segment", w.Profile.Version, w.ExpectVersion, w.Profile.Segments)
		}
		if len(d.ch.Outbox) != 2 || d.ch.Outbox[0].ID != "merged" || d.ch.Outbox[1].DetailType != events.TypeProfileUpdated {
			t.Errorf("outbox = %+v; want the merge event, then ProfileUpdated", d.ch.Outbox)
		}
		if len(ext.seen) != 1 || ext.seen[0].Before == nil || ext.seen[0].Record.Key() != "web/m1" {
			t.Errorf("extension saw %+v; want one update with the stored profile and the record", ext.seen)
		}
		if d.out.profileID != "p1" || d.ch.Records[0].ProfileID != "p1" {
			t.Errorf("outcome profile %s, record written under %s; want p1", d.out.profileID, d.ch.Records[0].ProfileID)
		}
	})
	t.Run("extension failure", func(t *testing.T) {
		boom := errors.New("boom")
		p := stepPipeline(t, newFakeStore(), &recordingExt{fail: boom})
		d := newDraft(rec, "k", st0)
		d.start(nil)
		if err := p.finish(context.Background(), d); !errors.Is(err, boom) {
			t.Errorf("finish() = %v; want the extension's error", err)
		}
	})
}
