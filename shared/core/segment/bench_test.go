package segment

import (
	"fmt"
	"testing"
	"time"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/model/profile"
)

// benchSegments returns n segments of the shapes real configurations use.
func benchSegments(n int) []config.Segment {
	shapes := []string{
		`profile.attributes.country == "GB"`,
		`has(profile.aggregates.orders_count) && profile.aggregates.orders_count >= %d`,
		`events.count("Order Completed", days(%d)) >= 1`,
		`has(profile.aggregates.last_order_at) && now - profile.aggregates.last_order_at > days(%d)`,
		`"email" in profile.identifiers && profile.attributes.plan in ["pro", "team"]`,
		`events.sum("Order Completed", "total", days(%d)) > 100.0`,
		`profile.rfm.r >= 4 && profile.rfm.f >= %d`,
		`profile.event_count > %d && profile.sources.size() >= 1`,
	}
	var segs []config.Segment
	for i := range n {
		s := shapes[i%len(shapes)]
		expr := s
		if containsVerb(s) {
			expr = fmt.Sprintf(s, 1+i%90)
		}
		segs = append(segs, config.Segment{ID: fmt.Sprintf("s%03d", i), Expr: expr})
	}
	return segs
}

func containsVerb(s string) bool {
	for i := 0; i+1 < len(s); i++ {
		if s[i] == '%' && s[i+1] == 'd' {
			return true
		}
	}
	return false
}

// benchProfile is a profile with a realistic amount of data.
func benchProfile(now time.Time) *profile.Profile {
	p := &profile.Profile{
		ID: "p_bench",
		Identifiers: []profile.Identifier{
			{Type: "email", Value: "ann@example.com"}, {Type: "customer_id", Value: "C-1"},
		},
		Attributes: map[string]profile.Attribute{},
		Aggregates: map[string]any{
			"orders_count":  12.0,
			"total_spent":   1234.5,
			"last_order_at": now.Add(-40 * 24 * time.Hour).Format(time.RFC3339Nano),
		},
		Sources:     map[string]int{"crm": 3, "web": 20},
		EventCount:  60,
		RecordCount: 23,
		CreatedAt:   now.Add(-400 * 24 * time.Hour),
		UpdatedAt:   now.Add(-time.Hour),
	}
	for i, k := range []string{"first_name", "last_name", "country", "plan", "city", "signup_at", "birthday", "lang"} {
		p.Attributes[k] = profile.Attribute{Value: fmt.Sprint("v", i)}
	}
	p.Attributes["country"] = profile.Attribute{Value: "GB"}
	p.Attributes["signup_at"] = profile.Attribute{Value: now.Add(-300 * 24 * time.Hour).Format(time.RFC3339)}
	for i := range profile.MaxRecentEvents {
		name := "Page Viewed"
		if i%5 == 0 {
			name = "Order Completed"
		}
		p.RecentEvents = append(p.RecentEvents, profile.Event{
			ID: fmt.Sprint("e", i), Name: name, Type: "track",
			Timestamp:  now.Add(-time.Duration(i) * 37 * time.Hour),
			Properties: map[string]any{"total": float64(10 + i)},
		})
	}
	return p
}

// BenchmarkEvaluate100 evaluates 100 segments against one profile,
// including the next-change analysis.
func BenchmarkEvaluate100(b *testing.B) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	e, err := New(benchSegments(100), &config.RFM{Recency: "last_order_at", Frequency: "orders_count", Monetary: "total_spent"}, Options{})
	if err != nil {
		b.Fatal(err)
	}
	e.SetThresholds(Thresholds{
		RecencyAge: []time.Duration{10 * 24 * time.Hour, 30 * 24 * time.Hour, 90 * 24 * time.Hour, 180 * 24 * time.Hour},
		Frequency:  []float64{1, 2, 4, 8}, Monetary: []float64{50, 100, 300, 1000},
	})
	p := benchProfile(now)
	// Steady state: the profile holds its memberships, as a profile
	// being re-evaluated does.
	m, _ := e.Evaluate(p, now.Add(-time.Hour))
	p.Segments = m.Segments
	b.Logf("%d segments, %d timed, profile in %d", len(e.Segments()), len(e.timed), len(p.Segments))
	b.Run("memberships", func(b *testing.B) {
		b.ReportAllocs()
		cpu := cpuTime()
		for b.Loop() {
			e.memberships(p, now)
		}
		reportCPU(b, cpu)
	})
	b.Run("memberships+next", func(b *testing.B) {
		b.ReportAllocs()
		cpu := cpuTime()
		for b.Loop() {
			e.Evaluate(p, now)
		}
		reportCPU(b, cpu)
	})
}

// reportCPU reports the process CPU time per operation since start
// (cpu-ns/op): on a machine shared with other work, wall time per
// operation includes time spent waiting for a core.
func reportCPU(b *testing.B, start time.Duration) {
	if start == 0 || b.N == 0 {
		return
	}
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
}
