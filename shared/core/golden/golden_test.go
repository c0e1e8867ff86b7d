package golden_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/core/golden"
	"github.com/aurum-cdp/aurum/shared/model/profile"
)

var t0 = time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)

func rec(source, id string, at time.Time, attrs map[string]any, evs ...profile.Event) profile.Record {
	return profile.Record{Source: source, ID: id, ObservedAt: at, Attributes: attrs, Events: evs}
}

func day(n int) time.Time { return t0.Add(time.Duration(n) * 24 * time.Hour) }

func TestSurvivorshipStrategies(t *testing.T) {
	// Records in observation order; each test applies them in several
	// arrival orders and expects the same survivor.
	recs := []profile.Record{
		rec("crm", "1", day(0), map[string]any{"v": "Alexandra", "n": 5.0, "tags": []any{"a"}}),
		rec("shop", "2", day(1), map[string]any{"v": "Alex", "n": 9.0, "tags": []any{"b", "a"}}),
		rec("web", "3", day(2), map[string]any{"v": "Alex", "n": 7.0, "tags": "c"}),
		rec("shop", "4", day(3), map[string]any{"v": "Sandy", "n": 1.0}),
	}
	prio := map[string]int{"crm": 100, "shop": 50, "web": 10}
	tests := []struct {
		strategy   string
		wantV      any
		wantN      any
		wantSource string
	}{
		{config.SurviveMostRecent, "Sandy", 1.0, "shop"},
		{config.SurviveSourcePriority, "Alexandra", 5.0, "crm"},
		{config.SurviveFirstSeen, "Alexandra", 5.0, "crm"},
		{config.SurviveMostFrequent, "Alex", 1.0, "web"}, // n: all once, most recent wins
		{config.SurviveLongest, "Alexandra", 1.0, "crm"},
		{config.SurviveMax, "Sandy", 9.0, "shop"},
		{config.SurviveMin, "Alex", 1.0, "web"},
	}
	orders := [][]int{{0, 1, 2, 3}, {3, 2, 1, 0}, {2, 0, 3, 1}, {1, 3, 0, 2}}
	for _, tt := range tests {
		for _, order := range orders {
			t.Run(fmt.Sprintf("%s %v", tt.strategy, order), func(t *testing.T) {
				r := golden.Rules{SourcePriority: prio, Default: tt.strategy}
				var p profile.Profile
				for _, i := range order {
					r.Apply(&p, recs[i])
				}
				v, n := p.Attributes["v"], p.Attributes["n"]
				if v.Value != tt.wantV || n.Value != tt.wantN {
					t.Errorf("v, n = %v, %v; want %v, %v", v.Value, n.Value, tt.wantV, tt.wantN)
				}
				if tt.strategy != config.SurviveMostFrequent && tt.strategy != config.SurviveMin && v.Source != tt.wantSource {
					t.Errorf("v provenance = %s/%s; want source %s", v.Source, v.RecordID, tt.wantSource)
				}
			})
		}
	}
}

func TestUnion(t *testing.T) {
	r := golden.Rules{Attributes: map[string]string{"tags": config.SurviveUnion}}
	var p profile.Profile
	r.Apply(&p, rec("crm", "1", day(1), map[string]any{"tags": []any{"vip", "b2b"}}))
	r.Apply(&p, rec("shop", "2", day(0), map[string]any{"tags": "vip"}))
	r.Apply(&p, rec("web", "3", day(2), map[string]any{"tags": []any{"newsletter"}}))
	got := p.Attributes["tags"]
	want := []any{"b2b", "newsletter", "vip"}
	if !slices.Equal(got.Value.([]any), want) {
		t.Errorf("tags = %v; want %v", got.Value, want)
	}
	if got.RecordID != "3" {
		t.Errorf("tags provenance = %s; want the most recent contributor 3", got.RecordID)
	}
}

func TestSurvivorshipPerTypeAndAttribute(t *testing.T) {
	cfg := &config.Config{
		Sources: []config.Source{{Name: "crm", Priority: 5, Mapping: config.Mapping{Attributes: map[string]config.Field{
			"first_name": {Field: "f", Type: config.TypeName},
			"score":      {Field: "s", Type: config.TypeNumber},
			"city":       {Field: "c"},
		}}}},
		Golden: config.Golden{Survivorship: config.Survivorship{
			Default:    config.SurviveMostRecent,
			Types:      map[string]string{config.TypeName: config.SurviveSourcePriority, config.TypeNumber: config.SurviveMax},
			Attributes: map[string]string{"score": config.SurviveMin},
		}},
	}
	r := golden.NewRules(cfg.Golden, cfg.Sources)
	tests := map[string]string{
		"first_name":     config.SurviveSourcePriority,
		"first_name_key": config.SurviveSourcePriority,
		"score":          config.SurviveMin,
		"city":           config.SurviveMostRecent,
		"other":          config.SurviveMostRecent,
	}
	for attr, want := range tests {
		if got := r.Strategy(attr); got != want {
			t.Errorf("Strategy(%s) = %s; want %s", attr, got, want)
		}
	}
}

func TestMostFrequentBoundedAndMergeable(t *testing.T) {
	r := golden.Rules{Default: config.SurviveMostFrequent, MaxTally: 3}
	var a, b profile.Profile
	// a sees "x" three times, b sees "y" twice and "x" twice, plus noise.
	for i, v := range []string{"x", "x", "x", "n1", "n2", "n3", "n4"} {
		r.Apply(&a, rec("crm", fmt.Sprint("a", i), day(i), map[string]any{"city": v}))
	}
	for i, v := range []string{"y", "y", "x", "x"} {
		r.Apply(&b, rec("crm", fmt.Sprint("b", i), day(10+i), map[string]any{"city": v}))
	}
	if n := len(a.Tallies["city"]); n > 3 {
		t.Errorf("tally holds %d values; want at most 3", n)
	}
	if got := a.Attributes["city"].Value; got != "x" {
		t.Errorf("city of a = %v; want x", got)
	}
	r.Merge(&a, b)
	if got := a.Attributes["city"].Value; got != "x" {
		t.Errorf("city after merge = %v; want x (5 observations)", got)
	}
	if n := len(a.Tallies["city"]); n > 3 {
		t.Errorf("tally after merge holds %d values; want at most 3", n)
	}
}

func TestLateDataDoesNotOverwrite(t *testing.T) {
	r := golden.Rules{SourcePriority: map[string]int{}}
	var p profile.Profile
	r.Apply(&p, rec("shop", "new", day(5), map[string]any{"city": "York"}))
	changed := r.Apply(&p, rec("crm", "old", day(1), map[string]any{"city": "Leeds"}))
	if got := p.Attributes["city"]; got.Value != "York" || got.RecordID != "new" {
		t.Errorf("city = %+v; want York from new", got)
	}
	if len(changed) != 0 {
		t.Errorf("late record changed %v; want nothing", changed)
	}
}

func TestAggregates(t *testing.T) {
	aggs := []config.Aggregate{
		{Name: "orders_count", Event: "Order Completed", Function: config.AggCount},
		{Name: "revenue_total", Event: "Order Completed", Function: config.AggSum, Property: "total"},
		{Name: "max_order", Event: "Order Completed", Function: config.AggMax, Property: "total"},
		{Name: "min_order", Event: "Order Completed", Function: config.AggMin, Property: "total"},
		{Name: "first_order_at", Event: "Order Completed", Function: config.AggFirst},
		{Name: "last_order_at", Event: "Order Completed", Function: config.AggLast},
		{Name: "events", Function: config.AggCount},
	}
	r := golden.Rules{Aggregates: aggs}
	ev := func(id string, d int, name string, total any) profile.Event {
		return profile.Event{ID: id, Source: "shop", Name: name, Timestamp: day(d), Properties: map[string]any{"total": total}}
	}
	recs := []profile.Record{
		rec("shop", "1", day(3), nil, ev("o1", 3, "Order Completed", 30.0)),
		rec("shop", "2", day(1), nil, ev("o2", 1, "Order Completed", "12.5")),
		rec("shop", "3", day(2), nil, ev("v1", 2, "Page Viewed", nil)),
		rec("shop", "4", day(7), nil, ev("o3", 7, "Order Completed", 7.5)),
	}
	want := map[string]any{
		"orders_count": 3.0, "revenue_total": 50.0, "max_order": 30.0, "min_order": 7.5,
		"first_order_at": day(1).Format(time.RFC3339Nano), "last_order_at": day(7).Format(time.RFC3339Nano), "events": 4.0,
	}
	check := func(t *testing.T, p profile.Profile) {
		t.Helper()
		for k, w := range want {
			if got := p.Aggregates[k]; got != w {
				t.Errorf("%s = %v; want %v", k, got, w)
			}
		}
	}
	t.Run("one profile, any order", func(t *testing.T) {
		for seed := uint64(0); seed < 4; seed++ {
			order := slices.Clone(recs)
			rand.New(rand.NewPCG(seed, 1)).Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
			var p profile.Profile
			for _, rc := range order {
				r.Apply(&p, rc)
			}
			check(t, p)
		}
	})
	t.Run("merged profiles", func(t *testing.T) {
		var a, b profile.Profile
		r.Apply(&a, recs[0])
		r.Apply(&a, recs[2])
		r.Apply(&b, recs[1])
		r.Apply(&b, recs[3])
		changed := r.Merge(&a, b)
		check(t, a)
		if !slices.Contains(changed, "aggregates.orders_count") {
			t.Errorf("Merge changed %v; want aggregates.orders_count among them", changed)
		}
	})
}

func TestClientClockCannotOutrankServer(t *testing.T) {
	received := day(1)
	tests := []struct {
		name     string
		observed time.Time
		wantWin  bool // the later record (observed at received) wins
	}{
		{name: "observed in 2099", observed: time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC), wantWin: true},
		{name: "observed just past the tolerance", observed: received.Add(golden.MaxFutureSkew + time.Second), wantWin: true},
		{name: "observed within the tolerance", observed: received.Add(golden.MaxFutureSkew), wantWin: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := golden.Rules{}
			var p profile.Profile
			forged := rec("web", "forged", tt.observed, map[string]any{"plan": "free"})
			forged.ReceivedAt = received
			honest := rec("crm", "honest", day(1).Add(time.Minute), map[string]any{"plan": "pro"})
			honest.ReceivedAt = day(1).Add(time.Minute)
			r.Apply(&p, forged)
			r.Apply(&p, honest)
			got := p.Attributes["plan"]
			if won := got.Value == "pro"; won != tt.wantWin {
				t.Errorf("plan = %v (observed_at %v); want the honest record to win: %v", got.Value, got.ObservedAt, tt.wantWin)
			}
			if got.ObservedAt.After(day(1).Add(golden.MaxFutureSkew + time.Minute)) {
				t.Errorf("plan observed_at = %v; want at most received + %v", got.ObservedAt, golden.MaxFutureSkew)
			}
		})
	}
}
