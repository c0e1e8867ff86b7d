package pipeline_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/core/identity"
	"github.com/aurum-cdp/aurum/shared/core/pipeline"
	"github.com/aurum-cdp/aurum/shared/model/events"
	"github.com/aurum-cdp/aurum/shared/model/profile"
	"github.com/aurum-cdp/aurum/shared/port/store"
)

// fuzzyConfig links on customer id and email, and on similar names with
// the same birth date.
func fuzzyConfig() *config.Config {
	cfg := *testConfig
	cfg.Identifiers = []config.IdentifierType{
		{Name: "customer_id", Normalizer: "id", MaxPerProfile: 1},
		{Name: "email", Normalizer: "email"},
		{Name: "phone", Normalizer: "phone"},
	}
	cfg.Identity.Rules = []config.MatchRule{
		{Name: "same-customer", Kind: "exact", Identifiers: []string{"customer_id"}},
		{Name: "same-email", Kind: "exact", Identifiers: []string{"email"}},
		{Name: "similar-person", Kind: "weighted", Threshold: 8,
			Blocking: [][]string{{"soundex(last_name)", "year(birth_date)"}, {"birth_date"}},
			Compare: []config.Comparison{
				{Attribute: "first_name", Method: "name", Levels: []config.Level{{Min: 1, M: 0.8, U: 0.05}, {Min: 0.9, M: 0.15, U: 0.05}}},
				{Attribute: "last_name", Method: "jaro_winkler", Levels: []config.Level{{Min: 1, M: 0.8, U: 0.05}, {Min: 0.9, M: 0.15, U: 0.05}}},
				{Attribute: "birth_date", Method: "date", Levels: []config.Level{{Min: 1, M: 0.8, U: 0.01}, {Min: 0.8, M: 0.15, U: 0.02}}},
			}},
	}
	return &cfg
}

// fuzzyPeople generates n people, each seen by a CRM row (customer id and
// email), a shop row (email, typos) and a web row (no identifier in
// common: it joins through the fuzzy rule only).
func fuzzyPeople(n int, seed uint64) []profile.Record {
	r := rand.New(rand.NewPCG(seed, 5))
	firsts := []string{"Robert", "Ann", "William", "Margaret", "Ian", "Priya", "Oluwaseun", "Mei"}
	lasts := []string{"Smith", "Jones", "Allen", "Okafor", "Nguyen", "Brown", "Taylor", "Kaur"}
	var recs []profile.Record
	for i := range n {
		first, last := firsts[i%len(firsts)], lasts[(i/len(firsts))%len(lasts)]
		dob := fmt.Sprintf("19%02d-%02d-%02d", 40+r.IntN(60), 1+r.IntN(12), 1+r.IntN(28))
		email := fmt.Sprintf("email:p%d@example.com", i)
		a := rec("crm", fmt.Sprintf("c%d", i), t0, fmt.Sprintf("customer_id:C%d", i), email)
		b := rec("shop", fmt.Sprintf("s%d", i), t0.Add(time.Hour), email)
		c := rec("web", fmt.Sprintf("w%d", i), t0.Add(2*time.Hour), fmt.Sprintf("phone:+4477009%05d", i))
		for _, x := range []*profile.Record{&a, &b, &c} {
			x.Attributes = map[string]any{"first_name": first, "last_name": last, "birth_date": dob}
		}
		c.Attributes["last_name"] = last + "e" // a typo
		recs = append(recs, a, b, c)
	}
	return recs
}

func TestStreamingFuzzyMatchesBatchInAnyOrder(t *testing.T) {
	cfg := fuzzyConfig()
	recs := fuzzyPeople(24, 3)
	eng, err := identity.New(cfg.Identifiers, &cfg.Identity)
	if err != nil {
		t.Fatal(err)
	}
	batch := eng.Resolve(recs, identity.BatchOptions{})
	want := map[string]string{}
	{
		by := map[string][]string{}
		for i, r := range recs {
			by[batch.ProfileIDs[i]] = append(by[batch.ProfileIDs[i]], r.Key())
		}
		for i, r := range recs {
			m := slices.Sorted(slices.Values(by[batch.ProfileIDs[i]]))
			want[r.Key()] = fmt.Sprint(m)
		}
	}
	if batch.Stats.Clusters != 24 {
		t.Fatalf("batch found %d clusters; want 24 (one per person)", batch.Stats.Clusters)
	}
	for seed := uint64(1); seed <= 4; seed++ {
		t.Run(fmt.Sprintf("permutation %d", seed), func(t *testing.T) {
			shuffled := slices.Clone(recs)
			r := rand.New(rand.NewPCG(seed, 6))
			r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
			st := openStore(t)
			p := pipeline.New(pipeline.ConfigOf(cfg), st, pipeline.Options{Clock: func() time.Time { return t0 }})
			for len(shuffled) > 0 {
				n := min(len(shuffled), 1+r.IntN(6))
				if _, err := p.Ingest(context.Background(), shuffled[:n]); err != nil {
					t.Fatalf("Ingest: %v", err)
				}
				shuffled = shuffled[n:]
			}
			got := partition(t, st, recs)
			for k, w := range want {
				members := fmt.Sprint(slices.Sorted(slices.Values(splitComma(got[k]))))
				if members != w {
					t.Errorf("streaming cluster of %s = %s; batch has %s", k, members, w)
				}
			}
		})
	}
}

func splitComma(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ',' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return out
}

func TestStreamingMaxPerProfileAndLedger(t *testing.T) {
	ctx := context.Background()
	cfg := fuzzyConfig()
	st := openStore(t)
	p := pipeline.New(pipeline.ConfigOf(cfg), st, pipeline.Options{Clock: func() time.Time { return t0 }})
	res := ingest(t, p,
		rec("crm", "1", t0, "customer_id:C1", "email:a@example.com"),
		rec("crm", "2", t0, "customer_id:C2", "phone:+447700900001"),
	)
	// The third record shares C1's email but holds another customer id:
	// at most one customer id per profile, so it stays apart.
	res2 := ingest(t, p, rec("shop", "3", t0, "email:a@example.com", "customer_id:C2"))
	if res2.Merges != 0 {
		t.Errorf("a record holding C2 merged into C1's profile: %+v; want the cap to refuse", res2)
	}
	pr, err := st.Profile(ctx, res.ProfileIDs[0])
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, id := range pr.Identifiers {
		if id.Type == "customer_id" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("profile holds %d customer ids (%v); want 1", n, pr.Identifiers)
	}

	// A merge is recorded in the ledger with its rule.
	st2 := openStore(t)
	p2 := pipeline.New(pipeline.ConfigOf(cfg), st2, pipeline.Options{Clock: func() time.Time { return t0 }})
	first := ingest(t, p2, rec("crm", "a", t0, "email:x@example.com"), rec("shop", "b", t0, "email:y@example.com"))
	ingest(t, p2, rec("web", "c", t0, "email:x@example.com", "customer_id:C9"))
	// d links a's profile through C9 and b's through y@: they merge.
	ingest(t, p2, rec("web", "d", t0, "customer_id:C9", "email:y@example.com"))
	survivor, err := st2.Profile(ctx, first.ProfileIDs[0])
	if err != nil {
		t.Fatal(err)
	}
	items, _, err := st2.Items(ctx, identity.ItemLedger, survivor.ID, "", "", 10, "")
	if err != nil {
		t.Fatalf("Items(ledger): %v", err)
	}
	var merges []identity.LedgerEntry
	for _, it := range items {
		var e identity.LedgerEntry
		if err := json.Unmarshal(it.Value, &e); err != nil {
			t.Fatal(err)
		}
		merges = append(merges, e)
	}
	if len(merges) != 1 || merges[0].Record != "web/d" || (merges[0].Rule != "same-customer" && merges[0].Rule != "same-email") {
		t.Fatalf("ledger = %+v; want one merge caused by web/d under the rule that linked the merged profile", merges)
	}
	evs, err := st2.Outbox(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		if e.DetailType != events.TypeProfilesMerged {
			continue
		}
		var d events.ProfilesMerged
		if err := json.Unmarshal(e.Detail, &d); err != nil {
			t.Fatal(err)
		}
		if d.Rule != merges[0].Rule {
			t.Errorf("ProfilesMerged.Rule = %q; want the ledger's %q", d.Rule, merges[0].Rule)
		}
	}
	// The merge is counted in the statistics counters.
	var counted int64
	for shard := range identity.StatShards {
		items, _, err := st2.Items(ctx, identity.ItemStats, fmt.Sprintf("shard-%d", shard), "", "", 100, "")
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range items {
			if it.Sort == "rule/"+merges[0].Rule+"/merges" {
				counted += it.N
			}
		}
	}
	if counted != 1 {
		t.Errorf("merges counted = %d; want 1", counted)
	}
}

// TestNonRuleIdentifiersIndexedForLookup: an identifier type no rule links
// on is claimed (so GET /v1/profiles?identifier= finds it) but links
// nobody: a second profile holding the same value stays apart.
func TestNonRuleIdentifiersIndexedForLookup(t *testing.T) {
	cfg := *testConfig
	cfg.Identifiers = append(slices.Clone(testConfig.Identifiers), config.IdentifierType{Name: "stripe_customer_id", Normalizer: "id"})
	cfg.Identity.Rules = []config.MatchRule{
		{Name: "same-customer", Kind: "exact", Identifiers: []string{"customer_id"}},
		{Name: "same-email", Kind: "exact", Identifiers: []string{"email"}},
	}
	st := openStore(t)
	p := pipeline.New(pipeline.ConfigOf(&cfg), st, pipeline.Options{Clock: func() time.Time { return t0 }})
	ctx := context.Background()
	ingest(t, p, rec("crm", "1", t0, "customer_id:C1", "stripe_customer_id:cus_123"))
	ingest(t, p, rec("crm", "2", t0.Add(time.Hour), "customer_id:C2", "stripe_customer_id:cus_123"))
	ingest(t, p, rec("crm", "3", t0.Add(2*time.Hour), "stripe_customer_id:cus_456"))

	stripe := func(v string) profile.Identifier { return profile.Identifier{Type: "stripe_customer_id", Value: v} }
	ids := []profile.Identifier{
		{Type: "customer_id", Value: "C1"}, {Type: "customer_id", Value: "C2"}, stripe("cus_123"), stripe("cus_456"),
	}
	owners, err := st.Owners(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	c1, c2 := owners[ids[0]].ProfileID, owners[ids[1]].ProfileID
	if c1 == "" || c2 == "" || c1 == c2 {
		t.Fatalf("customers C1, C2 in profiles %q, %q; want two profiles (no rule links on stripe_customer_id)", c1, c2)
	}
	if got := owners[stripe("cus_123")].ProfileID; got != c1 {
		t.Errorf("owner of stripe_customer_id:cus_123 = %q; want the first holder %q", got, c1)
	}
	if got := owners[stripe("cus_456")].ProfileID; got == "" || got == c1 || got == c2 {
		t.Errorf("owner of stripe_customer_id:cus_456 = %q; want its own profile", got)
	}
	pr, err := st.Profile(ctx, c2)
	if err != nil {
		t.Fatal(err)
	}
	if !pr.HasIdentifier(stripe("cus_123")) {
		t.Errorf("profile C2 identifiers = %v; want it to hold stripe_customer_id:cus_123 too", pr.Identifiers)
	}
}

// ownerReads counts a store's Owners calls.
type ownerReads struct {
	store.Store
	calls int
}

func (o *ownerReads) Owners(ctx context.Context, ids []profile.Identifier) (map[profile.Identifier]store.Owner, error) {
	o.calls++
	return o.Store.Owners(ctx, ids)
}

// TestLookupClaimsShareTheOwnersRead: a record carrying an identifier no
// rule links on reads the owners of all its identifiers at once; the
// lookup claim of the non-rule one costs no second read.
func TestLookupClaimsShareTheOwnersRead(t *testing.T) {
	cfg := *testConfig
	cfg.Identifiers = append(slices.Clone(testConfig.Identifiers), config.IdentifierType{Name: "stripe_customer_id", Normalizer: "id"})
	cfg.Identity.Rules = []config.MatchRule{{Name: "same-customer", Kind: "exact", Identifiers: []string{"customer_id"}}}
	st := &ownerReads{Store: openStore(t)}
	p := pipeline.New(pipeline.ConfigOf(&cfg), st, pipeline.Options{Clock: func() time.Time { return t0 }})
	ingest(t, p, rec("crm", "1", t0, "customer_id:C1", "stripe_customer_id:cus_123"))
	if st.calls != 1 {
		t.Errorf("Owners calls for one record with a rule and a non-rule identifier = %d; want 1", st.calls)
	}
}
