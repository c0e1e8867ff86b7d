package golden_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/core/golden"
	"github.com/aurum-cdp/aurum/shared/model/profile"
)

func TestMoneySumsExact(t *testing.T) {
	r := golden.Rules{Aggregates: []config.Aggregate{
		{Name: "revenue_total", Event: "Order Completed", Function: config.AggSum, Property: "total"},
	}}
	order := func(i int, total any) profile.Record {
		ev := profile.Event{ID: fmt.Sprint("o", i), Source: "shop", Name: "Order Completed", Timestamp: day(i), Properties: map[string]any{"total": total}}
		return rec("shop", fmt.Sprint(i), day(i), nil, ev)
	}
	cases := []struct {
		name    string
		amounts []any
		want    string
	}{
		{"tenths", []any{0.1, 0.2, 0.3}, "0.6"},
		{"cents", []any{19.99, 0.01, 100.1, 827.8}, "947.9"},
		{"strings and numbers", []any{"12.345", 0.005, json.Number("0.1"), 7.0}, "19.45"},
		{"refunds", []any{59.99, -59.99, 0.07, 0.7}, "0.77"},
		{"large", []any{1234567890.12, 0.01, 0.03, 987654321.99}, "2222222212.15"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var recs []profile.Record
			for i, a := range c.amounts {
				recs = append(recs, order(i, a))
			}
			forward := apply(r, recs)
			backward := apply(r, reversed(recs))
			merged := apply(r, recs[:1])
			r.Merge(&merged, apply(r, recs[1:]))
			for name, p := range map[string]profile.Profile{"forward": forward, "backward": backward, "merged": merged} {
				got, err := json.Marshal(p.Aggregates["revenue_total"])
				if err != nil {
					t.Fatal(err)
				}
				if string(got) != c.want {
					t.Errorf("sum of %v (%s) = %s; want %s", c.amounts, name, got, c.want)
				}
			}
		})
	}
}

func apply(r golden.Rules, recs []profile.Record) profile.Profile {
	var p profile.Profile
	for _, rc := range recs {
		r.Apply(&p, rc)
	}
	return p
}

func reversed(recs []profile.Record) []profile.Record {
	out := slices.Clone(recs)
	slices.Reverse(out)
	return out
}
