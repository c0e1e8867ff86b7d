package identity_test

import (
	"context"
	"testing"

	"github.com/aurum-cdp/aurum/shared/core/identity"
	"github.com/aurum-cdp/aurum/shared/port/store"
)

// fakeItems serves counters from a map of shard → items.
type fakeItems map[string][]store.Item

func (f fakeItems) Items(_ context.Context, kind, key, _, _ string, _ int, _ string) ([]store.Item, string, error) {
	if kind != identity.ItemStats {
		return nil, "", nil
	}
	return f[key], "", nil
}

func TestStreamStats(t *testing.T) {
	cfg := baseConfig()
	cfg.Identity.Rules = personRules()
	e := newEngine(t, cfg)
	st := fakeItems{
		"shard-0": {{Sort: "rule/same-email/links", N: 3}, {Sort: "rule/same-email/merges", N: 2}, {Sort: "blocked/max_per_profile", N: 1}},
		"shard-5": {{Sort: "rule/same-email/merges", N: 4}, {Sort: "rule/fuzzy-person/blocked", N: 1}},
	}
	s, err := e.StreamStats(context.Background(), st)
	if err != nil {
		t.Fatal(err)
	}
	var email, fuzzy identity.RuleStats
	for _, r := range s.Rules {
		switch r.Rule {
		case "same-email":
			email = r
		case "fuzzy-person":
			fuzzy = r
		}
	}
	if email.Links != 3 || email.Merges != 6 || fuzzy.Blocked != 1 || s.Blocked[identity.ProtectMaxPerProfile] != 1 {
		t.Errorf("StreamStats = %+v; want same-email 3 links 6 merges, fuzzy-person 1 blocked, max_per_profile 1", s)
	}
}
