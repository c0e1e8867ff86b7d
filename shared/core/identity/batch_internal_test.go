package identity

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/model/profile"
)

// The steps of Resolve, one by one; identity_test.go tests their sum.

func stepEngine(t *testing.T, edit func(*config.Identity)) *Engine {
	t.Helper()
	types := []config.IdentifierType{
		{Name: "customer_id", Normalizer: "id", MaxPerProfile: 1},
		{Name: "email", Normalizer: "email"},
		{Name: "phone", Normalizer: "phone"},
	}
	rules := &config.Identity{Rules: []config.MatchRule{
		{Name: "same-email", Kind: config.RuleExact, Identifiers: []string{"email", "customer_id"}},
		{Name: "name-dob", Kind: config.RuleExact, Attributes: []string{"last_name", "birth_date"}},
		{Name: "similar", Kind: config.RuleFuzzy, MaxBlockSize: 3, Blocking: [][]string{{"birth_date"}},
			Compare: []config.Comparison{{Attribute: "first_name", Method: config.CompareName, Threshold: 0.9}}},
	}}
	if edit != nil {
		edit(rules)
	}
	e, err := New(types, rules)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return e
}

// srec builds a record source/id with identifiers (type:value) and
// attributes (name=value).
func srec(key string, fields ...string) profile.Record {
	src, id, _ := strings.Cut(key, "/")
	r := profile.Record{Source: src, ID: id, Attributes: map[string]any{}}
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

// edgeString renders edges by record key and rule.
func edgeString(r *Resolution, edges []edge) string {
	var out []string
	for _, e := range edges {
		out = append(out, fmt.Sprintf("%s-%s:%s", r.keys[e.a], r.keys[e.b], e.rule.name))
	}
	return fmt.Sprint(out)
}

func TestNewDefaultRules(t *testing.T) {
	for _, tt := range []struct {
		name  string
		rules *config.Identity
		want  string
	}{
		{"nil identity section", nil, "[exact_customer_id exact_email]"},
		{"no rules", &config.Identity{}, "[exact_customer_id exact_email]"},
		{"configured rules", &config.Identity{Rules: []config.MatchRule{{Name: "mine", Kind: config.RuleExact, Identifiers: []string{"email"}}}}, "[mine]"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e, err := New([]config.IdentifierType{{Name: "customer_id"}, {Name: "email"}}, tt.rules)
			if err != nil || fmt.Sprint(e.Rules()) != tt.want {
				t.Errorf("New().Rules() = %v, %v; want %s", e.Rules(), err, tt.want)
			}
		})
	}
	if _, err := New(nil, &config.Identity{Rules: []config.MatchRule{{Name: "x", Identifiers: []string{"email"}}}}); err == nil {
		t.Errorf("New(rule on an undeclared type) = nil error; want it refused")
	}
}

func TestIdentifierIndex(t *testing.T) {
	e := stepEngine(t, nil)
	recs := []profile.Record{
		srec("crm/a", "email:x@x.com", "phone:+441"), // no rule links on phone
		srec("crm/b", "email:x@x.com", "customer_id:C1"),
	}
	by, ids := e.identifierIndex(recs)
	if got, want := fmt.Sprint(ids), "[customer_id:C1 email:x@x.com]"; got != want {
		t.Errorf("identifierIndex() ids = %s; want %s (sorted, linking types only)", got, want)
	}
	if got := fmt.Sprint(by[ids[1]]); got != "[0 1]" {
		t.Errorf("records holding email:x@x.com = %s; want [0 1]", got)
	}
}

func TestPlaceholder(t *testing.T) {
	e := stepEngine(t, func(c *config.Identity) {
		c.Placeholders = &config.Placeholders{Attributes: []string{"first_name", "last_name"}, MaxDistinct: 2}
	})
	people := []profile.Record{
		srec("crm/a", "first_name=Ann", "last_name=Lee"),
		srec("crm/b", "first_name=Bob", "last_name=Marsh"),
		srec("crm/c", "first_name=Cyd", "last_name=Okafor"),
		srec("crm/d", "first_name=Anne", "last_name=Lee"), // agrees with crm/a
		srec("crm/e"), // no fingerprint
	}
	for _, tt := range []struct {
		name     string
		members  []int
		want     bool
		distinct int
	}{
		{"as many people as allowed", []int{0, 1}, false, 0},
		{"one person's variants", []int{0, 3, 4}, false, 1},
		{"three people", []int{0, 1, 2}, true, 3},
		{"three people in another order", []int{2, 4, 1, 0}, true, 3},
	} {
		t.Run(tt.name, func(t *testing.T) {
			distinct, got := e.placeholder(people, tt.members)
			if got != tt.want || (got && distinct != tt.distinct) {
				t.Errorf("placeholder(%v) = %d, %v; want %d, %v", tt.members, distinct, got, tt.distinct, tt.want)
			}
		})
	}
	if _, q := stepEngine(t, nil).placeholder(people, []int{0, 1, 2}); q {
		t.Errorf("placeholder() without detection = true; want false")
	}
}

func TestQuarantine(t *testing.T) {
	e := stepEngine(t, func(c *config.Identity) {
		c.Placeholders = &config.Placeholders{Attributes: []string{"first_name"}, MaxDistinct: 1}
	})
	recs := []profile.Record{
		srec("crm/a", "email:test@x.com", "first_name=Ann"),
		srec("crm/b", "email:test@x.com", "first_name=Bob"),
		srec("crm/c", "email:test@x.com", "first_name=Cyd"),
		srec("crm/d", "email:ok@x.com", "first_name=Dan"),
	}
	r := newResolution(e, recs)
	by, ids := e.identifierIndex(recs)
	r.quarantine(by, ids)
	if !r.Quarantined(profile.Identifier{Type: "email", Value: "test@x.com"}) || r.Quarantined(profile.Identifier{Type: "email", Value: "ok@x.com"}) {
		t.Errorf("quarantined = %v; want test@x.com only", r.quarantined)
	}
	if r.Stats.Blocked[ProtectPlaceholder] != 2 || len(r.Stats.Quarantined) != 1 || r.Stats.Quarantined[0].Records != 3 {
		t.Errorf("stats blocked %v, quarantined %+v; want 2 blocked, one value held by 3 records", r.Stats.Blocked, r.Stats.Quarantined)
	}
	if got := edgeString(r, r.candidates(by, ids)); got != "[]" {
		t.Errorf("candidates() = %s; want no link through the quarantined value", got)
	}
}

func TestCandidates(t *testing.T) {
	e := stepEngine(t, nil)
	recs := []profile.Record{
		srec("shop/z", "email:x@x.com"),
		srec("crm/a", "email:x@x.com", "last_name=Lee", "birth_date=1980-01-02", "first_name=Ann"),
		srec("crm/b", "email:x@x.com", "last_name=Lee", "birth_date=1980-01-02", "first_name=Anne"),
		srec("web/c", "birth_date=1980-01-02", "first_name=Bob"),
		// A block of four is over the fuzzy rule's max_block_size (3).
		srec("web/d", "birth_date=1990-05-05", "first_name=Cyd"),
		srec("web/e", "birth_date=1990-05-05", "first_name=Cyd"),
		srec("web/f", "birth_date=1990-05-05", "first_name=Cyd"),
		srec("web/g", "birth_date=1990-05-05", "first_name=Cyd"),
	}
	r := newResolution(e, recs)
	by, ids := e.identifierIndex(recs)
	got := edgeString(r, r.candidates(by, ids))
	// Stars from the smallest key; fuzzy pairs by position.
	want := "[crm/a-crm/b:same-email crm/a-shop/z:same-email crm/a-crm/b:name-dob crm/a-crm/b:similar]"
	if got != want {
		t.Errorf("candidates() = %s; want %s", got, want)
	}
	rs := r.Stats.rule("similar")
	if rs.Compared != 3 || rs.SkippedBlocks != 1 {
		t.Errorf("similar: compared %d, skipped %d blocks; want 3 pairs compared (a, b, c), 1 block skipped", rs.Compared, rs.SkippedBlocks)
	}
}

func TestPairs(t *testing.T) {
	var got [][2]int
	for p := range pairs([]int{4, 1, 7}) {
		got = append(got, p)
	}
	if want := "[[1 4] [4 7] [1 7]]"; fmt.Sprint(got) != want {
		t.Errorf("pairs([4 1 7]) = %v; want %s", got, want)
	}
	n := 0
	for range pairs([]int{1, 2, 3, 4}) {
		n++
		if n == 2 {
			break
		}
	}
	if n != 2 {
		t.Errorf("pairs kept yielding after break")
	}
}

func TestSortEdges(t *testing.T) {
	e := stepEngine(t, nil)
	r0, r1 := e.rules[0], e.rules[2]
	keys := []string{"b", "a", "c"}
	edges := []edge{
		{a: 2, b: 0, rule: r1, weight: 1},
		{a: 0, b: 1, rule: r0, weight: math.Inf(1)}, // b-a: oriented a-b
		{a: 2, b: 1, rule: r1, weight: 3},
		{a: 2, b: 0, rule: r0, weight: math.Inf(1)},
	}
	sortEdges(edges, keys)
	var got []string
	for _, ed := range edges {
		got = append(got, fmt.Sprintf("%s%s:%d:%v", keys[ed.a], keys[ed.b], ed.rule.index, ed.weight))
	}
	want := []string{"ab:0:+Inf", "bc:0:+Inf", "ac:2:3", "bc:2:1"}
	if !slices.Equal(got, want) {
		t.Errorf("sortEdges() = %v; want %v (rule order, strongest first, then keys)", got, want)
	}
}

func TestKeepApart(t *testing.T) {
	e := stepEngine(t, nil)
	recs := []profile.Record{srec("crm/a"), srec("crm/b"), srec("crm/c")}
	r := newResolution(e, recs)
	u := newUnion(e, recs, r.parent)
	u.keepApart([][2]string{{"crm/a", "crm/c"}, {"crm/a", "crm/zz"}, {"crm/b", "crm/b"}}, r.byKey)
	if got := fmt.Sprint(u.apart); got != "map[0:[2] 2:[0]]" {
		t.Errorf("apart = %s; want a and c only (unknown keys and self pairs ignored)", got)
	}
}

func TestLinkAndCluster(t *testing.T) {
	e := stepEngine(t, nil)
	recs := []profile.Record{
		srec("crm/b", "customer_id:C1", "email:x@x.com"),
		srec("crm/a", "customer_id:C2", "email:x@x.com"),
		srec("crm/c", "email:y@x.com"),
		srec("crm/d", "email:y@x.com"),
		srec("crm/e"),
	}
	r := newResolution(e, recs)
	by, ids := e.identifierIndex(recs)
	edges := r.candidates(by, ids)
	sortEdges(edges, r.keys)
	u := newUnion(e, recs, r.parent)
	r.link(u, edges)
	rs := r.Stats.rule("same-email")
	if rs.Links != 2 || rs.Merges != 1 || rs.Blocked != 1 || rs.Records != 4 || r.Stats.Blocked[ProtectMaxPerProfile] != 1 {
		t.Errorf("same-email stats = %+v, blocked %v; want 2 links, 1 merge, 1 refused (two customer ids), 4 records", *rs, r.Stats.Blocked)
	}
	if len(r.refused) != 1 || r.refused[0].A != "crm/a" || r.refused[0].B != "crm/b" || r.refused[0].Detail != "customer_id" {
		t.Errorf("refused = %+v; want crm/a-crm/b on customer_id", r.refused)
	}
	if len(r.adj[2]) != 1 || r.adj[2][0].to != 3 {
		t.Errorf("adjacency of crm/c = %+v; want its accepted link to crm/d", r.adj[2])
	}
	r.cluster(u)
	want := []string{ClusterID("crm/b"), ClusterID("crm/a"), ClusterID("crm/c"), ClusterID("crm/c"), ClusterID("crm/e")}
	if !slices.Equal(r.ProfileIDs, want) {
		t.Errorf("ProfileIDs = %v; want %v (each cluster named by its smallest key)", r.ProfileIDs, want)
	}
	if r.Stats.Records != 5 || r.Stats.Clusters != 4 || r.Stats.Histogram[1].Clusters != 1 {
		t.Errorf("stats = %d records, %d clusters, histogram %v; want 5, 4, one cluster of 2", r.Stats.Records, r.Stats.Clusters, r.Stats.Histogram)
	}
}

func TestCompileRuleErrors(t *testing.T) {
	cmp := []config.Comparison{{Attribute: "first_name", Method: config.CompareName, Threshold: 0.9}}
	weighted := func(levels ...config.Level) config.MatchRule {
		return config.MatchRule{Name: "w", Kind: config.RuleWeighted, Blocking: [][]string{{"birth_date"}},
			Compare: []config.Comparison{{Attribute: "first_name", Method: config.CompareName, Levels: levels}}}
	}
	for _, tt := range []struct {
		name string
		mr   config.MatchRule
		want string // "" compiles
	}{
		{"exact on identifiers", config.MatchRule{Name: "x", Identifiers: []string{"email"}}, ""},
		{"exact on nothing", config.MatchRule{Name: "x", Kind: config.RuleExact}, "without identifiers or attributes"},
		{"unknown kind", config.MatchRule{Name: "x", Kind: "psychic"}, "unknown kind"},
		{"fuzzy without blocking", config.MatchRule{Name: "x", Kind: config.RuleFuzzy, Compare: cmp}, "needs blocking keys"},
		{"bad blocking key", config.MatchRule{Name: "x", Kind: config.RuleFuzzy, Blocking: [][]string{{"nope(last_name)"}}, Compare: cmp}, "blocking key"},
		{"weighted", weighted(config.Level{Min: 1, M: 0.8, U: 0.1}), ""},
		{"weighted level without u", weighted(config.Level{Min: 1, M: 0.8}), "must be positive"},
		{"weighted levels summing to 1", weighted(config.Level{Min: 1, M: 0.6, U: 0.1}, config.Level{Min: 0.5, M: 0.4, U: 0.1}), "sum below 1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r, err := compileRule(0, tt.mr)
			switch {
			case tt.want == "" && (err != nil || r == nil):
				t.Errorf("compileRule() = %v, %v; want a rule", r, err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want) || r != nil):
				t.Errorf("compileRule() = %v, %v; want no rule and an error with %q", r, err, tt.want)
			}
		})
	}
	r, err := compileRule(0, config.MatchRule{Name: "f", Kind: config.RuleFuzzy, MinAgree: 9, Blocking: [][]string{{"birth_date"}}, Compare: cmp})
	if err != nil || r.minAgree != 1 {
		t.Errorf("compileRule(min_agree over the comparisons) = %+v, %v; want min_agree 1", r, err)
	}
}

func TestUnionProtections(t *testing.T) {
	e := stepEngine(t, nil)
	recs := []profile.Record{
		srec("crm/a", "customer_id:C1"),
		srec("crm/b", "customer_id:C2"),
		srec("crm/c", "customer_id:C1"),
		srec("crm/d"),
	}
	r := newResolution(e, recs)
	u := newUnion(e, recs, r.parent)
	u.keepApart([][2]string{{"crm/c", "crm/d"}}, r.byKey)
	for _, tt := range []struct {
		a, b   int
		merged bool
		prot   string
	}{
		{0, 2, true, ""},                    // the same customer id
		{0, 1, false, ProtectMaxPerProfile}, // a second one
		{3, 0, false, ProtectDoNotMerge},    // d must not join c's cluster
		{0, 2, false, ""},                   // already together
		{1, 3, true, ""},                    // free
		{2, 1, false, ProtectDoNotMerge},    // b is with d now: do-not-merge is checked before caps
	} {
		merged, prot, _ := u.union(tt.a, tt.b)
		if merged != tt.merged || prot != tt.prot {
			t.Errorf("union(%s, %s) = %v, %q; want %v, %q", r.keys[tt.a], r.keys[tt.b], merged, prot, tt.merged, tt.prot)
		}
	}
}
