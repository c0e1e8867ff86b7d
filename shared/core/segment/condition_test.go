package segment

import (
	"errors"
	"strings"
	"testing"
	"time"

	"cel.dev/cel-go/cel"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/model/profile"
)

var eventVar = Var{Name: "event", Type: cel.MapType(cel.StringType, cel.DynType)}

// conditionProfile is a profile from the UK with orders 10 and 40 days
// before now0, in the segment vip since 2 hours before now0, scored
// champions.
func conditionProfile() *profile.Profile {
	return &profile.Profile{
		ID: "p1", Version: 3, CreatedAt: now0.Add(-day(100)), UpdatedAt: now0.Add(-day(10)),
		Attributes: map[string]profile.Attribute{
			"country":   {Value: "GB"},
			"signup_at": {Value: now0.Add(-day(100)).Format(time.RFC3339)},
		},
		Aggregates:  map[string]any{"orders_count": int64(2)},
		Identifiers: []profile.Identifier{{Type: "email", Value: "ada@example.com"}},
		Segments:    map[string]time.Time{"vip": now0.Add(-2 * time.Hour)},
		RFM:         &profile.RFM{R: 5, F: 4, M: 3, Label: "champions"},
		RecentEvents: []profile.Event{
			{ID: "o2", Name: "Order Completed", Timestamp: now0.Add(-day(10)), Properties: map[string]any{"total": 80.0}},
			{ID: "o1", Name: "Order Completed", Timestamp: now0.Add(-day(40)), Properties: map[string]any{"total": 50.0}},
		},
	}
}

func TestConditionEval(t *testing.T) {
	event := map[string]any{"segment_id": "vip", "event_names": []any{"Checkout Started"}}
	tests := []struct {
		name, expr string
		want       bool
		wantErr    bool
	}{
		{"attribute", `profile.attributes.country == "GB"`, true, false},
		{"events.count in window", `events.count("Order Completed", days(30)) == 1`, true, false},
		{"events.count lifetime", `events.count("Order Completed") == 2`, true, false},
		{"no order in 5 days", `profile.attributes.country == "GB" && events.count("Order Completed", days(5)) == 0`, true, false},
		{"events.last", `now - events.last("Order Completed") > days(9)`, true, false},
		{"events.sum", `events.sum("Order Completed", "total", days(30)) == 80.0`, true, false},
		{"segment membership", `"vip" in profile.segments && now - profile.segments["vip"] < hours(3)`, true, false},
		{"not in segment", `"lapsed" in profile.segments`, false, false},
		{"stored rfm", `profile.rfm.label == "champions" && profile.rfm.r == 5`, true, false},
		{"timestamp attribute", `now - profile.attributes.signup_at > days(99)`, true, false},
		{"identifiers", `"email" in profile.identifiers && size(profile.identifiers.email) == 1`, true, false},
		{"aggregates", `profile.aggregates.orders_count >= 2`, true, false},
		{"extra variable", `event.segment_id == "vip" && "Checkout Started" in event.event_names`, true, false},
		{"missing attribute fails", `profile.attributes.city == "London"`, false, true},
		{"has guards", `!has(profile.attributes.city)`, true, false},
		{"missing event key fails", `event.nope == 1`, false, true},
	}
	p := conditionProfile()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := CompileCondition(tt.expr, eventVar)
			if err != nil {
				t.Fatalf("CompileCondition(%s): %v", tt.expr, err)
			}
			got, err := c.Eval(p, now0, map[string]any{"event": event})
			if got != tt.want || (err != nil) != tt.wantErr {
				t.Errorf("Eval(%s) = %v, %v; want %v, error %v", tt.expr, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestConditionCompileErrors(t *testing.T) {
	tests := []struct {
		name, expr string
		vars       []Var
		want       string
	}{
		{"typo", `profile.atributes.x == 1`, nil, `expression: 1:8: undefined field 'atributes'`},
		{"undeclared", "true &&\n  event.x == 1", nil, `2:3: undeclared reference to 'event'`},
		{"not bool", `events.count("x")`, nil, `yields int; want bool`},
		{"syntax", `profile.id ==`, []Var{eventVar}, `1:14: Syntax error`},
		{"too long", strings.Repeat("true && ", 600) + "true", nil, "bytes; at most 4096"},
		{"too costly", `event.items.all(x, event.items.all(y, event.items.all(z, x == y && y == z)))`, []Var{eventVar}, "too costly"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := CompileCondition(tt.expr, tt.vars...)
			var ce *CompileError
			if !errors.As(err, &ce) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("CompileCondition(%q) = %v; want a *CompileError containing %q", tt.expr, err, tt.want)
			}
		})
	}
}

func TestConditionReservedVars(t *testing.T) {
	for _, name := range []string{"profile", "events", "now", ""} {
		t.Run(name, func(t *testing.T) {
			if _, err := CompileCondition("true", Var{Name: name, Type: cel.IntType}); err == nil {
				t.Errorf("CompileCondition with variable %q = nil error; want an error", name)
			}
		})
	}
}

// TestConditionMatchesSegments checks that a condition and a configured
// segment with the same expression agree, at several instants.
func TestConditionMatchesSegments(t *testing.T) {
	exprs := []string{
		`events.count("Order Completed", days(30)) >= 1`,
		`now - events.last("Order Completed") > days(20)`,
		`profile.attributes.country == "GB" && events.sum("Order Completed", "total") > 100.0`,
		`has(profile.aggregates.orders_count) && profile.aggregates.orders_count > 1`,
		`now - profile.created_at > days(120)`,
	}
	cfg := &config.Config{}
	for i, x := range exprs {
		cfg.Segments = append(cfg.Segments, config.Segment{ID: string(rune('a' + i)), Expr: x})
	}
	ev, err := New(cfg.Segments, cfg.RFM, Options{})
	if err != nil {
		t.Fatal(err)
	}
	p := conditionProfile()
	for i, x := range exprs {
		c, err := CompileCondition(x)
		if err != nil {
			t.Fatalf("CompileCondition(%s): %v", x, err)
		}
		for _, at := range []time.Time{now0, now0.Add(day(15)), now0.Add(day(25)), now0.Add(day(40))} {
			m, _ := ev.Evaluate(p, at)
			_, want := m.Segments[cfg.Segments[i].ID]
			got, err := c.Eval(p, at, nil)
			if err != nil || got != want {
				t.Errorf("Eval(%s) at %v = %v, %v; want %v as the segment", x, at, got, err, want)
			}
		}
	}
}

func BenchmarkCondition(b *testing.B) {
	c, err := CompileCondition(`profile.attributes.country == "GB" && events.count("Order Completed", days(30)) == 0`, eventVar)
	if err != nil {
		b.Fatal(err)
	}
	p := conditionProfile()
	vars := map[string]any{"event": map[string]any{"segment_id": "vip"}}
	for b.Loop() {
		if _, err := c.Eval(p, now0, vars); err != nil {
			b.Fatal(err)
		}
	}
}
