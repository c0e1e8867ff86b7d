package identity_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/core/identity"
	"github.com/aurum-cdp/aurum/shared/model/profile"
)

var t0 = time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)

func baseConfig() *config.Config {
	return &config.Config{
		Version: 1,
		Identifiers: []config.IdentifierType{
			{Name: "customer_id", Normalizer: "id", MaxPerProfile: 1},
			{Name: "email", Normalizer: "email"},
			{Name: "phone", Normalizer: "phone"},
		},
		Sources: []config.Source{{Name: "crm", Kind: config.KindFile, Format: "csv"}, {Name: "shop", Kind: config.KindFile, Format: "csv"}},
	}
}

func personRules() []config.MatchRule {
	return []config.MatchRule{
		{Name: "same-customer", Kind: "exact", Identifiers: []string{"customer_id"}},
		{Name: "same-email", Kind: "exact", Identifiers: []string{"email"}},
		{Name: "name-dob-postcode", Kind: "exact", Attributes: []string{"last_name", "birth_date", "postcode"}},
		{Name: "fuzzy-person", Kind: "fuzzy",
			Blocking: [][]string{{"soundex(last_name)", "year(birth_date)"}},
			Compare: []config.Comparison{
				{Attribute: "first_name", Method: "name", Threshold: 0.9},
				{Attribute: "last_name", Method: "jaro_winkler", Threshold: 0.85},
				{Attribute: "birth_date", Method: "date", Threshold: 0.8},
			}},
	}
}

func newEngine(t *testing.T, cfg *config.Config) *identity.Engine {
	t.Helper()
	e, err := identity.New(cfg.Identifiers, &cfg.Identity)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return e
}

// rec builds a record; attrs are name=value pairs, ids type:value.
func rec(source, id string, fields ...string) profile.Record {
	r := profile.Record{Source: source, ID: id, ObservedAt: t0, Attributes: map[string]any{}}
	for _, f := range fields {
		if k, v, ok := strings.Cut(f, "="); ok {
			r.Attributes[k] = v
			continue
		}
		pid, err := profile.ParseIdentifier(f)
		if err != nil {
			panic(err)
		}
		r.Identifiers = append(r.Identifiers, pid)
	}
	return r
}

func TestCompareRuleKinds(t *testing.T) {
	cfg := baseConfig()
	cfg.Identity.Rules = append(personRules(), config.MatchRule{
		Name: "weighted-person", Kind: "weighted", Threshold: 9,
		Blocking: [][]string{{"birth_date"}},
		Compare: []config.Comparison{
			{Attribute: "first_name", Method: "name", Levels: []config.Level{{Min: 0.9, M: 0.9, U: 0.01}}},
			{Attribute: "last_name", Method: "jaro_winkler", Levels: []config.Level{{Min: 0.9, M: 0.9, U: 0.01}}},
			{Attribute: "city", Method: "exact", Levels: []config.Level{{Min: 1, M: 0.8, U: 0.1}}},
		},
	})
	e := newEngine(t, cfg)
	tests := []struct {
		name     string
		a, b     profile.Record
		wantRule string
	}{
		{"shared customer id", rec("crm", "1", "customer_id:C1"), rec("shop", "2", "customer_id:C1", "email:x@example.com"), "same-customer"},
		{"shared email", rec("crm", "1", "email:ann@example.com"), rec("shop", "2", "email:ann@example.com"), "same-email"},
		{"different emails", rec("crm", "1", "email:ann@example.com"), rec("shop", "2", "email:bob@example.com"), ""},
		{"composite key", rec("crm", "1", "last_name=Smith", "birth_date=1980-01-02", "postcode=LS1"),
			rec("shop", "2", "last_name=smith ", "birth_date=1980-01-02", "postcode=ls1"), "name-dob-postcode"},
		{"composite key with a missing part", rec("crm", "1", "last_name=Smith", "birth_date=1980-01-02"),
			rec("shop", "2", "last_name=Smith", "birth_date=1980-01-02"), ""},
		{"fuzzy typos and nickname", rec("crm", "1", "first_name=Robert", "last_name=Smith", "birth_date=1980-01-02"),
			rec("shop", "2", "first_name=Bob", "last_name=Smyth", "birth_date=1980-02-01"), "fuzzy-person"},
		{"fuzzy other first name", rec("crm", "1", "first_name=Robert", "last_name=Smith", "birth_date=1980-01-02"),
			rec("shop", "2", "first_name=Alice", "last_name=Smith", "birth_date=1980-01-02"), ""},
		{"fuzzy not in one block", rec("crm", "1", "first_name=Robert", "last_name=Smith", "birth_date=1980-01-02"),
			rec("shop", "2", "first_name=Robert", "last_name=Smith", "birth_date=1990-01-02"), ""},
		// The fuzzy rule needs both last names; the weighted one weighs a
		// missing value 0: log2(0.9/0.01) + log2(0.8/0.1) = 9.49.
		{"weighted agreement", rec("crm", "1", "first_name=Ann", "last_name=Jones", "birth_date=1970-03-03", "city=Leeds"),
			rec("shop", "2", "first_name=Anne", "birth_date=1970-03-03", "city=Leeds"), "weighted-person"},
		// log2(0.9/0.01) + log2(0.2/0.9) = 4.32.
		{"weighted too weak", rec("crm", "1", "first_name=Ann", "birth_date=1970-03-03", "city=Leeds"),
			rec("shop", "2", "first_name=Anne", "birth_date=1970-03-03", "city=York"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := e.Compare(tt.a, tt.b, nil)
			if d.Rule != tt.wantRule || d.Match != (tt.wantRule != "") {
				t.Errorf("Compare = match %v rule %q; want rule %q\n%+v", d.Match, d.Rule, tt.wantRule, d.Results)
			}
			if r := e.Compare(tt.b, tt.a, nil); r.Rule != d.Rule {
				t.Errorf("Compare is not symmetric: %q one way, %q the other", d.Rule, r.Rule)
			}
		})
	}
}

func TestWeightedScoresExplain(t *testing.T) {
	cfg := baseConfig()
	cfg.Identity.Rules = []config.MatchRule{{
		Name: "w", Kind: "weighted", Threshold: 5, Blocking: [][]string{{"city"}},
		Compare: []config.Comparison{{Attribute: "first_name", Method: "jaro_winkler",
			Levels: []config.Level{{Min: 1, M: 0.5, U: 0.0625}, {Min: 0.8, M: 0.25, U: 0.125}}}},
	}}
	e := newEngine(t, cfg)
	tests := []struct {
		name string
		a, b string
		want float64
	}{
		{"exact level", "ann", "ann", 3},   // log2(0.5/0.0625)
		{"close level", "anna", "anne", 1}, // log2(0.25/0.125)
		{"else level", "ann", "zoe", math.Log2(0.25 / 0.8125)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := e.Explain(rec("crm", "1", "city=x", "first_name="+tt.a), rec("crm", "2", "city=x", "first_name="+tt.b), nil)
			got := d.Results[0].Weight
			if got < tt.want-1e-9 || got > tt.want+1e-9 {
				t.Errorf("weight(%s, %s) = %g; want %g", tt.a, tt.b, got, tt.want)
			}
			if d.Match {
				t.Errorf("weight %g matched under threshold 5", got)
			}
		})
	}
}

// clusters returns a canonical form of a resolution: the sorted member
// keys of each record's cluster.
func clusters(recs []profile.Record, ids []string) map[string]string {
	by := map[string][]string{}
	for i, r := range recs {
		by[ids[i]] = append(by[ids[i]], r.Key())
	}
	out := map[string]string{}
	for i, r := range recs {
		m := by[ids[i]]
		sort.Strings(m)
		out[r.Key()] = strings.Join(m, ",")
	}
	return out
}

func TestResolveProtections(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(*config.Config)
		recs    []profile.Record
		opts    identity.BatchOptions
		want    [][]string // clusters (record ids)
		blocked string
	}{
		{
			name: "chain through email merges",
			recs: []profile.Record{rec("crm", "a", "customer_id:C1", "email:e1@x.com"), rec("shop", "b", "email:e1@x.com", "phone:+441"), rec("shop", "c", "phone:+441")},
			edit: func(c *config.Config) {
				c.Identity.Rules = []config.MatchRule{{Name: "id", Kind: "exact", Identifiers: []string{"customer_id", "email", "phone"}}}
			},
			want: [][]string{{"a", "b", "c"}},
		},
		{
			name: "max one customer id refuses the merge",
			recs: []profile.Record{rec("crm", "a", "customer_id:C1", "email:shared@x.com"), rec("crm", "b", "customer_id:C2", "email:shared@x.com")},
			want: [][]string{{"a"}, {"b"}}, blocked: identity.ProtectMaxPerProfile,
		},
		{
			name: "keep_priority merges without adding the identifier",
			edit: func(c *config.Config) { c.Identifiers[0].OnConflict = config.ConflictKeepPriority },
			recs: []profile.Record{rec("crm", "a", "customer_id:C1", "email:shared@x.com"), rec("crm", "b", "customer_id:C2", "email:shared@x.com")},
			want: [][]string{{"a", "b"}},
		},
		{
			name: "do-not-merge assertion",
			recs: []profile.Record{rec("crm", "a", "email:e@x.com"), rec("shop", "b", "email:e@x.com"), rec("shop", "c", "email:e@x.com")},
			opts: identity.BatchOptions{Apart: [][2]string{{"crm/a", "shop/c"}}},
			want: [][]string{{"a", "b"}, {"c"}}, blocked: identity.ProtectDoNotMerge,
		},
		{
			name: "placeholder phone is quarantined",
			edit: func(c *config.Config) {
				c.Identity.Placeholders = &config.Placeholders{Attributes: []string{"first_name", "last_name"}, MaxDistinct: 2}
			},
			recs: []profile.Record{
				rec("crm", "a", "phone:+440000", "first_name=Ann", "last_name=Lee"),
				rec("crm", "b", "phone:+440000", "first_name=Bob", "last_name=Marsh"),
				rec("crm", "c", "phone:+440000", "first_name=Cyd", "last_name=Okafor"),
				rec("crm", "d", "phone:+440000", "email:d@x.com", "first_name=Dan", "last_name=Zhu"),
				rec("shop", "e", "email:d@x.com"),
			},
			want: [][]string{{"a"}, {"b"}, {"c"}, {"d", "e"}}, blocked: identity.ProtectPlaceholder,
		},
		{
			name: "one person's typos are not a placeholder",
			edit: func(c *config.Config) {
				c.Identity.Placeholders = &config.Placeholders{Attributes: []string{"first_name", "last_name"}, MaxDistinct: 2}
			},
			recs: []profile.Record{
				rec("crm", "a", "phone:+441", "first_name=Robert", "last_name=Allen"),
				rec("crm", "b", "phone:+441", "first_name=Rob", "last_name=Alen"),
				rec("crm", "c", "phone:+441", "first_name=Robert", "last_name=Allan"),
				rec("crm", "d", "phone:+441", "last_name=Allen"),
			},
			want: [][]string{{"a", "b", "c", "d"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := baseConfig()
			if tt.edit != nil {
				tt.edit(cfg)
			}
			res := newEngine(t, cfg).Resolve(tt.recs, tt.opts)
			got := clusters(tt.recs, res.ProfileIDs)
			for _, c := range tt.want {
				var keys []string
				for _, id := range c {
					for _, r := range tt.recs {
						if r.ID == id {
							keys = append(keys, r.Key())
						}
					}
				}
				sort.Strings(keys)
				want := strings.Join(keys, ",")
				if got[keys[0]] != want {
					t.Errorf("cluster of %s = %s; want %s", keys[0], got[keys[0]], want)
				}
			}
			if tt.blocked != "" && res.Stats.Blocked[tt.blocked] == 0 {
				t.Errorf("Stats.Blocked[%s] = 0; want > 0 (%v)", tt.blocked, res.Stats.Blocked)
			}
			if tt.blocked == identity.ProtectPlaceholder && len(res.Stats.Quarantined) != 1 {
				t.Errorf("Stats.Quarantined = %v; want one value", res.Stats.Quarantined)
			}
		})
	}
}

// people generates n people seen by several records with typos, shared
// identifiers and chains, for order-independence tests.
func people(n int, seed uint64) []profile.Record {
	r := rand.New(rand.NewPCG(seed, 9))
	firsts := []string{"Robert", "Ann", "William", "Margaret", "John", "Zoe", "Ian", "Priya"}
	lasts := []string{"Smith", "Jones", "Allen", "Okafor", "Nguyen", "Brown", "Taylor", "Kaur"}
	typo := func(s string) string {
		if len(s) < 4 || r.IntN(3) > 0 {
			return s
		}
		i := 1 + r.IntN(len(s)-2)
		return s[:i] + s[i+1:i+2] + s[i:i+1] + s[i+2:]
	}
	var recs []profile.Record
	for i := range n {
		first, last := firsts[r.IntN(len(firsts))], lasts[r.IntN(len(lasts))]
		dob := fmt.Sprintf("19%02d-%02d-%02d", 40+r.IntN(60), 1+r.IntN(12), 1+r.IntN(28))
		email := fmt.Sprintf("email:p%d@x.com", i)
		recs = append(recs,
			rec("crm", fmt.Sprintf("c%d", i), fmt.Sprintf("customer_id:C%d", i), email, "first_name="+first, "last_name="+last, "birth_date="+dob),
			rec("shop", fmt.Sprintf("s%d", i), email, "first_name="+typo(first), "last_name="+typo(last), "birth_date="+dob),
			rec("shop", fmt.Sprintf("t%d", i), "first_name="+first, "last_name="+typo(last), "birth_date="+dob, "postcode=P1"),
		)
	}
	return recs
}

func TestResolveOrderIndependent(t *testing.T) {
	cfg := baseConfig()
	cfg.Identity.Rules = personRules()
	e := newEngine(t, cfg)
	recs := people(60, 1)
	base := e.Resolve(recs, identity.BatchOptions{})
	want := clusters(recs, base.ProfileIDs)
	if base.Stats.Clusters >= len(recs) {
		t.Fatalf("%d clusters of %d records: nothing linked", base.Stats.Clusters, len(recs))
	}
	for seed := uint64(1); seed <= 8; seed++ {
		t.Run(fmt.Sprintf("permutation %d", seed), func(t *testing.T) {
			shuffled := slices.Clone(recs)
			r := rand.New(rand.NewPCG(seed, 4))
			r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
			res := e.Resolve(shuffled, identity.BatchOptions{})
			got := clusters(shuffled, res.ProfileIDs)
			for k, w := range want {
				if got[k] != w {
					t.Fatalf("cluster of %s = %s; want %s", k, got[k], w)
				}
			}
			// Cluster ids too do not depend on the order.
			for i, rr := range shuffled {
				if j := base.Index(rr.Key()); base.ProfileIDs[j] != res.ProfileIDs[i] {
					t.Fatalf("profile id of %s = %s; want %s", rr.Key(), res.ProfileIDs[i], base.ProfileIDs[j])
				}
			}
		})
	}
}

func TestResolveExplain(t *testing.T) {
	cfg := baseConfig()
	cfg.Identity.Rules = personRules()
	e := newEngine(t, cfg)
	recs := []profile.Record{
		rec("crm", "a", "customer_id:C1", "email:a@x.com"),
		rec("shop", "b", "email:a@x.com", "first_name=Ann", "last_name=Lee", "birth_date=1980-01-01"),
		rec("shop", "c", "first_name=Anne", "last_name=Lee", "birth_date=1980-01-01"),
		rec("crm", "d", "customer_id:C2", "email:a@x.com"),
	}
	res := e.Resolve(recs, identity.BatchOptions{})
	x := res.Explain(0, 2)
	if !x.Together {
		t.Fatalf("crm/a and shop/c are apart; want together through shop/b")
	}
	var rules []string
	for _, s := range x.Path {
		rules = append(rules, s.Rule)
	}
	if !slices.Equal(rules, []string{"same-email", "fuzzy-person"}) {
		t.Errorf("path rules = %v; want [same-email fuzzy-person]", rules)
	}
	if x.Direct.Match {
		t.Errorf("direct comparison of crm/a and shop/c matched %s; want no direct match", x.Direct.Rule)
	}
	y := res.Explain(0, 3)
	if y.Together || len(y.Refused) == 0 || y.Refused[0].Protection != identity.ProtectMaxPerProfile {
		t.Errorf("Explain(crm/a, crm/d) = together %v refused %+v; want apart, refused by max_per_profile", y.Together, y.Refused)
	}
}

func TestDiff(t *testing.T) {
	prev := map[string]string{"a": "1", "b": "1", "c": "2", "d": "3", "gone": "4"}
	cur := map[string]string{"a": "x", "b": "x", "c": "y", "d": "y", "new": "z"}
	d := identity.Diff(prev, cur)
	if d.MergesGained != 1 || d.MergesLost != 0 || d.Added != 1 || d.Removed != 1 {
		t.Errorf("Diff = %+v; want 1 merge gained, 0 lost, 1 added, 1 removed", d)
	}
	var moved []string
	for _, m := range d.Moved {
		moved = append(moved, m.Record)
	}
	if !slices.Equal(moved, []string{"c", "d"}) {
		t.Errorf("moved = %v; want [c d]", moved)
	}
	split := identity.Diff(cur, prev)
	if split.MergesLost != 1 || split.MergesGained != 0 {
		t.Errorf("reverse Diff = %+v; want 1 merge lost", split)
	}
}

func TestScorePairs(t *testing.T) {
	// truth: {0,1,2} {3}; predicted: {0,1} {2,3}
	s := identity.ScorePairs([]string{"p", "p", "q", "q"}, []string{"t", "t", "t", "u"})
	if s.TruePositives != 1 || s.FalsePositives != 1 || s.FalseNegatives != 2 {
		t.Fatalf("ScorePairs = %+v; want tp 1 fp 1 fn 2", s)
	}
	if !(s.Precision == 0.5 && s.Recall == 1.0/3) {
		t.Errorf("precision %g recall %g; want 0.5 and 1/3", s.Precision, s.Recall)
	}
	// A rejected record (empty label) is a singleton.
	if r := identity.ScorePairs([]string{"", ""}, []string{"t", "t"}); r.FalseNegatives != 1 || r.TruePositives != 0 {
		t.Errorf("ScorePairs with rejected records = %+v; want 1 false negative", r)
	}
}

func TestKeys(t *testing.T) {
	cfg := baseConfig()
	cfg.Identity.Rules = []config.MatchRule{
		{Name: "comp", Kind: "exact", Attributes: []string{"last_name", "postcode"}},
		{Name: "fz", Kind: "fuzzy", Blocking: [][]string{{"soundex(last_name)", "prefix(postcode, 2)"}, {"year(birth_date)"}, {"missing"}},
			Compare: []config.Comparison{{Attribute: "last_name", Method: "exact", Threshold: 1}}},
	}
	e := newEngine(t, cfg)
	got := e.Keys(rec("crm", "1", "last_name=Smith", "postcode=LS1 4AB", "birth_date=1980-02-03"))
	want := []identity.Key{
		{Rule: "comp", Value: "smith\x1fls1 4ab"},
		{Rule: "fz", Value: "0:S530\x1fls"},
		{Rule: "fz", Value: "1:1980"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("Keys = %q; want %q", got, want)
	}
}
