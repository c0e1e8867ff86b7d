package segment_test

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/core/segment"
	"github.com/aurum-cdp/aurum/shared/model/profile"
)

// FuzzCompile: compiling any segment expression never panics; an
// expression that does not compile is a *segment.CompileError, and one
// that compiles evaluates against a profile without panicking (CEL's cost
// limit bounds what it may do).
func FuzzCompile(f *testing.F) {
	cfg, err := config.Load(filepath.Join("..", "..", "..", "aurum.yaml"))
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range cfg.Segments {
		f.Add(s.Expr)
	}
	for _, s := range []string{
		`profile.aggregates.revenue_total > 100.0`,
		`profile.rfm.score >= 4`,
		`"vip" in profile.segments && now - profile.segments["vip"] > duration("24h")`,
		`profile.events.exists(e, e.name == "Order Completed" && e.at > now - duration("720h"))`,
		`size(profile.identifiers.email) > 1 || timestamp(profile.attributes.signup) < now`,
		`profile.attributes.name.matches("^(a|b)+$")`,
		`[1, 2, 3].map(x, x * 1e308).all(y, y > 0)`,
		`)(`, `"\xff"`, ``,
	} {
		f.Add(s)
	}
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	p := profile.Profile{
		ID:          "p1",
		Identifiers: []profile.Identifier{{Type: "email", Value: "ann@example.com"}},
		Attributes:  map[string]profile.Attribute{"name": {Value: "Ann"}, "signup": {Value: "2024-01-02T03:04:05Z"}},
		Aggregates:  map[string]any{"revenue_total": 947.9, "orders_count": 3.0, "last_order_at": "2026-02-01T00:00:00Z"},
		Segments:    map[string]time.Time{"vip": now.Add(-48 * time.Hour)},
		CreatedAt:   now.Add(-100 * time.Hour), UpdatedAt: now,
	}
	f.Fuzz(func(t *testing.T, expr string) {
		ev, err := segment.New([]config.Segment{{ID: "fuzz", Expr: expr}}, cfg.RFM, segment.Options{})
		if err != nil {
			var ce *segment.CompileError
			if !errors.As(err, &ce) {
				t.Fatalf("New(%q) error = %v (%T); want a *segment.CompileError", expr, err, err)
			}
			return
		}
		ev.Evaluate(&p, now)
		// Trigger conditions compile in their own environment (no RFM):
		// they may refuse what a segment accepts, but never panic.
		_, _ = segment.CompileCondition(expr)
	})
}
