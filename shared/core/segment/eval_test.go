package segment

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/model/profile"
)

var now0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func day(n int) time.Duration { return time.Duration(n) * 24 * time.Hour }

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		name, expr string
		want       string
	}{
		{"typo", `profile.atributes.x == 1`, `segment "s": expr: 1:8: undefined field 'atributes'`},
		{"undeclared", "true &&\n  nope", `2:3: undeclared reference to 'nope'`},
		{"not bool", `profile.event_count + 1`, `yields int; want bool`},
		{"bad helper", `events.count(1) > 0`, `found no matching overload for 'count'`},
		{"syntax", `profile.id ==`, `1:14: Syntax error`},
		{"too long", strings.Repeat("true && ", 600) + "true", "at most 4096 allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New([]config.Segment{{ID: "s", Expr: tt.expr}}, nil, Options{})
			var ce *CompileError
			if !errors.As(err, &ce) || ce.Segment != "s" {
				t.Fatalf("New(%q) = %v; want a *CompileError for segment s", tt.expr, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New(%q) = %v; want it to contain %q", tt.expr, err, tt.want)
			}
		})
	}
}

func TestEvaluateAndNext(t *testing.T) {
	lastOrder := now0.Add(-day(40))
	base := func() *profile.Profile {
		return &profile.Profile{
			ID: "p1",
			Attributes: map[string]profile.Attribute{
				"country":   {Value: "GB"},
				"trial_end": {Value: now0.Add(day(3)).Format(time.RFC3339)},
			},
			Aggregates: map[string]any{"orders_count": 4.0, "last_order_at": lastOrder.Format(time.RFC3339Nano)},
			RecentEvents: []profile.Event{
				{Name: "Order Completed", Timestamp: now0.Add(-day(2)), Properties: map[string]any{"total": 30.0}},
				{Name: "Page Viewed", Timestamp: now0.Add(-day(1))},
				{Name: "Order Completed", Timestamp: now0.Add(-day(20)), Properties: map[string]any{"total": 80.0}},
			},
		}
	}
	tests := []struct {
		name   string
		expr   string
		member bool
		next   time.Time // zero: never
	}{
		{"static", `profile.attributes.country == "GB"`, true, time.Time{}},
		{"missing key is not a member", `profile.attributes.plan == "pro"`, false, time.Time{}},
		{"has guard", `has(profile.aggregates.ltv) && profile.aggregates.ltv > 10.0`, false, time.Time{}},
		{"window count drops", `events.count("Order Completed", days(30)) >= 2`, true, now0.Add(-day(20)).Add(day(30))},
		{"window count newest", `events.count("Order Completed", days(7)) >= 1`, true, now0.Add(-day(2)).Add(day(7))},
		{"no order in 90 days enters", `now - profile.aggregates.last_order_at > days(90)`, false, lastOrder.Add(day(90)).Add(time.Nanosecond)},
		{"inclusive comparison", `now - profile.aggregates.last_order_at >= days(90)`, false, lastOrder.Add(day(90))},
		{"last helper", `now - events.last("Order Completed") > days(5)`, false, now0.Add(-day(2)).Add(day(5)).Add(time.Nanosecond)},
		{"never had the event", `now - events.last("Signed Up") > days(5)`, true, time.Time{}},
		{"sum in window", `events.sum("Order Completed", "total", days(30)) > 100.0`, true, now0.Add(-day(20)).Add(day(30))},
		{"attribute instant", `now < profile.attributes.trial_end`, true, now0.Add(day(3))},
		{"literal instant", `now >= timestamp("2025-04-01T00:00:00Z")`, false, time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC)},
		{"calendar is periodic", `now.getDayOfWeek() == 1`, false, now0.Add(DefaultRecheck)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := New([]config.Segment{{ID: "s", Expr: tt.expr}}, nil, Options{})
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			m, next := e.Evaluate(base(), now0)
			if _, got := m.Segments["s"]; got != tt.member {
				t.Errorf("Evaluate(%s) member = %v; want %v (errors %v)", tt.expr, got, tt.member, m.Errors)
			}
			if !next.Equal(tt.next) {
				t.Errorf("Evaluate(%s) next = %v; want %v", tt.expr, next, tt.next)
			}
			if !next.IsZero() {
				// Soundness: the result is the same just before next
				// and differs at next (except for periodic rechecks).
				m1, _ := e.Evaluate(base(), next.Add(-time.Nanosecond))
				if _, got := m1.Segments["s"]; got != tt.member {
					t.Errorf("member just before next = %v; want %v", got, tt.member)
				}
				if tt.name != "calendar is periodic" {
					m2, _ := e.Evaluate(base(), next)
					if _, got := m2.Segments["s"]; got == tt.member {
						t.Errorf("member at next = %v; want it to have changed", got)
					}
				}
			}
		})
	}
}

// TestNextIsFirstChange checks Next against brute force on random profiles:
// stepping an hour at a time, the first change is never before Next.
func TestNextIsFirstChange(t *testing.T) {
	e, err := New([]config.Segment{
		{ID: "a", Expr: `events.count("Order Completed", days(14)) >= 2`},
		{ID: "b", Expr: `now - events.last("Order Completed") > days(10)`},
		{ID: "c", Expr: `"a" in profile.segments || events.sum("Order Completed", "total", days(7)) > 50.0`},
		// An event name from data: every event is a candidate.
		{ID: "d", Expr: `"ev" in profile.attributes && events.count(profile.attributes.ev, days(3)) >= 1`},
		{ID: "e", Expr: `"c" in profile.segments && now - profile.segments.c > days(2)`},
		// Chained shifts, and an instant in Unix seconds.
		{ID: "f", Expr: `now - days(3) - days(4) > events.last("Order Completed") + hours(5)`},
		{ID: "g", Expr: `now < timestamp(profile.attributes.signup) + days(1) + hours(5)`},
	}, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 30 {
		p := &profile.Profile{ID: fmt.Sprint("p", i), Attributes: map[string]profile.Attribute{
			"ev":     {Value: "Order Completed"},
			"signup": {Value: now0.Add(-time.Duration(rng.IntN(3*24)) * time.Hour).Unix()},
		}}
		for j := range rng.IntN(6) {
			p.RecentEvents = append(p.RecentEvents, profile.Event{ID: fmt.Sprint(j), Name: "Order Completed",
				Timestamp: now0.Add(-time.Duration(rng.IntN(20*24)) * time.Hour), Properties: map[string]any{"total": float64(rng.IntN(60))}})
		}
		m, next := e.Evaluate(p, now0)
		p.Segments = m.Segments
		first := time.Time{}
		for h := 1; h <= 30*24; h++ {
			at := now0.Add(time.Duration(h) * time.Hour)
			mh, _ := e.Evaluate(p, at)
			if !sameKeys(mh.Segments, m.Segments) {
				first = at
				break
			}
		}
		if !first.IsZero() && (next.IsZero() || next.After(first)) {
			t.Errorf("profile %d: Next = %v; but memberships change by %v", i, next, first)
		}
	}
}

func sameKeys(a, b map[string]time.Time) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if _, ok := b[k]; !ok {
			return false
		}
	}
	return true
}

func TestRFMOnGeneratedData(t *testing.T) {
	cfg := config.RFM{Recency: "last_order_at", Frequency: "orders_count", Monetary: "total_spent"}
	rng := rand.New(rand.NewPCG(3, 4))
	var ps []*profile.Profile
	for i := range 1000 {
		ps = append(ps, &profile.Profile{ID: fmt.Sprint("p", i), Aggregates: map[string]any{
			"last_order_at": now0.Add(-time.Duration(rng.IntN(365*24)) * time.Hour).Format(time.RFC3339Nano),
			"orders_count":  float64(1 + rng.IntN(40)),
			"total_spent":   rng.Float64() * 2000,
		}})
	}
	ps = append(ps, &profile.Profile{ID: "no-orders"})
	seq := func(yield func(*profile.Profile, error) bool) {
		for _, p := range ps {
			if !yield(p, nil) {
				return
			}
		}
	}
	th, err := ComputeThresholds(context.Background(), cfg, iter.Seq2[*profile.Profile, error](seq), 500, now0, rand.New(rand.NewPCG(5, 6)))
	if err != nil {
		t.Fatalf("ComputeThresholds: %v", err)
	}
	if th.Profiles != 500 || len(th.RecencyAge) != 4 {
		t.Fatalf("thresholds = %+v; want 500 sampled profiles, 4 boundaries", th)
	}
	e, err := New([]config.Segment{{ID: "champions", Expr: `profile.rfm.label == "champions"`}}, &cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	e.SetThresholds(th)
	hist := map[string][5]int{}
	for _, p := range ps[:1000] {
		m, _ := e.Evaluate(p, now0)
		if m.RFM == nil {
			t.Fatalf("profile %s has no score", p.ID)
		}
		for d, s := range map[string]int{"r": m.RFM.R, "f": m.RFM.F, "m": m.RFM.M} {
			if s < 1 || s > 5 {
				t.Fatalf("score %s = %d; want 1..5", d, s)
			}
			h := hist[d]
			h[s-1]++
			hist[d] = h
		}
		if _, in := m.Segments["champions"]; in != (m.RFM.Label == "champions") {
			t.Errorf("profile %s: champions membership %v with label %s", p.ID, in, m.RFM.Label)
		}
	}
	// Quintiles of a uniform sample: each score holds about a fifth.
	for d, h := range hist {
		for s, n := range h {
			if n < 120 || n > 280 {
				t.Errorf("score %s=%d holds %d of 1000 profiles; want about 200", d, s+1, n)
			}
		}
	}
	if m, _ := e.Evaluate(ps[1000], now0); m.RFM != nil {
		t.Errorf("profile without orders scored %+v; want nil", m.RFM)
	}
	// Recency decays with time: a recent buyer's R drops when the
	// boundaries pass, and Next says when.
	recent := &profile.Profile{ID: "r", Aggregates: map[string]any{"last_order_at": now0.Format(time.RFC3339Nano), "orders_count": 40.0, "total_spent": 5000.0}}
	m, next := e.Evaluate(recent, now0)
	if m.RFM.Label != "champions" {
		t.Fatalf("recent big buyer label = %s; want champions", m.RFM.Label)
	}
	if want := now0.Add(th.RecencyAge[1]).Add(time.Nanosecond); !next.Equal(want) {
		t.Errorf("next = %v; want %v (when R drops to 3)", next, want)
	}
}

func TestLabel(t *testing.T) {
	tests := []struct {
		r, f int
		want string
	}{
		{5, 5, "champions"}, {4, 1, "new_customers"}, {3, 3, "loyal"}, {3, 1, "promising"},
		{1, 5, "cant_lose"}, {2, 4, "at_risk"}, {2, 1, "hibernating"}, {1, 1, "lost"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := Label(tt.r, tt.f); got != tt.want {
				t.Errorf("Label(%d, %d) = %s; want %s", tt.r, tt.f, got, tt.want)
			}
		})
	}
}

func TestNextHorizon(t *testing.T) {
	tests := []struct {
		name    string
		expr    string
		horizon time.Duration
		want    time.Time
	}{
		{"change within the horizon", `now >= timestamp("2025-04-01T00:00:00Z")`, day(400), time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC)},
		{"change beyond the horizon", `now >= timestamp("2030-01-01T00:00:00Z")`, day(400), now0.Add(day(400))},
		{"short horizon", `now >= timestamp("2025-04-01T00:00:00Z")`, day(10), now0.Add(day(10))},
		{"nothing ahead", `now >= timestamp("2020-01-01T00:00:00Z")`, day(10), time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := New([]config.Segment{{ID: "s", Expr: tt.expr}}, nil, Options{Horizon: tt.horizon})
			if err != nil {
				t.Fatal(err)
			}
			if _, next := e.Evaluate(&profile.Profile{ID: "p"}, now0); !next.Equal(tt.want) {
				t.Errorf("Evaluate(%s) next = %v; want %v", tt.expr, next, tt.want)
			}
		})
	}
}

// TestEventsSumReadsNumbers checks which property values events.sum adds:
// numbers (profile.Number), not numeric strings.
func TestEventsSumReadsNumbers(t *testing.T) {
	tests := []struct {
		name string
		v    any
		want bool // counted: the sum exceeds 1
	}{
		{"float64", 2.5, true},
		{"int", 2, true},
		{"int64", int64(2), true},
		{"json.Number", json.Number("2"), true},
		{"numeric string", "2", false},
		{"missing", nil, false},
	}
	e, err := New([]config.Segment{{ID: "s", Expr: `events.sum("Order Completed", "total") > 1.0`}}, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &profile.Profile{ID: "p", RecentEvents: []profile.Event{
				{ID: "o", Name: "Order Completed", Timestamp: now0.Add(-day(1)), Properties: map[string]any{"total": tt.v}}}}
			m, _ := e.Evaluate(p, now0)
			if _, got := m.Segments["s"]; got != tt.want {
				t.Errorf("events.sum over a total of %#v > 1: member = %v; want %v", tt.v, got, tt.want)
			}
		})
	}
}
