package segment

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/model/profile"
)

// roundTrip writes e's precompiled segments to a file and reads them back,
// as `aurum compile` and a cold start do.
func roundTrip(t *testing.T, e *Evaluator) *Precompiled {
	t.Helper()
	pc, err := e.Precompile()
	if err != nil {
		t.Fatalf("Precompile: %v", err)
	}
	b, err := json.Marshal(pc)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "segments.json")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := ReadPrecompiled(path)
	if err != nil {
		t.Fatalf("ReadPrecompiled: %v", err)
	}
	return got
}

func TestPrecompiledEvaluatesLikeSource(t *testing.T) {
	segs := []config.Segment{
		{ID: "static", Expr: `profile.attributes.country == "GB"`},
		{ID: "window", Expr: `events.count("Order Completed", days(30)) >= 2`},
		{ID: "lapsed", Expr: `now - profile.aggregates.last_order_at > days(90)`},
		{ID: "last", Expr: `now - events.last("Order Completed") > days(5)`},
		{ID: "sum", Expr: `events.sum("Order Completed", "total", days(30)) > 100.0`},
		{ID: "literal", Expr: `now >= timestamp("2025-04-01T00:00:00Z")`},
		{ID: "calendar", Expr: `now.getDayOfWeek() == 1`},
		{ID: "folded", Expr: `1 + 1 == 2 && profile.attributes.country.startsWith("G")`},
	}
	src, err := New(segs, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	pre, err := New(segs, nil, Options{Precompiled: roundTrip(t, src)})
	if err != nil {
		t.Fatalf("New(precompiled): %v", err)
	}
	p := &profile.Profile{
		ID:         "p1",
		Attributes: map[string]profile.Attribute{"country": {Value: "GB"}},
		Aggregates: map[string]any{"last_order_at": now0.Add(-day(40)).Format(time.RFC3339Nano)},
		RecentEvents: []profile.Event{
			{Name: "Order Completed", Timestamp: now0.Add(-day(2)), Properties: map[string]any{"total": 30.0}},
			{Name: "Order Completed", Timestamp: now0.Add(-day(20)), Properties: map[string]any{"total": 80.0}},
		},
	}
	for _, at := range []time.Time{now0, now0.Add(day(3)), now0.Add(day(11)), now0.Add(day(60)), now0.Add(day(400))} {
		ms, ns := src.Evaluate(p, at)
		mp, np := pre.Evaluate(p, at)
		for _, s := range segs {
			_, a := ms.Segments[s.ID]
			_, b := mp.Segments[s.ID]
			if a != b {
				t.Errorf("at %v segment %s: precompiled member = %v; want %v (from source)", at, s.ID, b, a)
			}
		}
		if !ns.Equal(np) {
			t.Errorf("at %v: precompiled next = %v; want %v (from source)", at, np, ns)
		}
	}
	for _, s := range pre.Segments() {
		want, _ := src.Segment(s.ID)
		if s.Timed() != want.Timed() {
			t.Errorf("segment %s: precompiled Timed = %v; want %v", s.ID, s.Timed(), want.Timed())
		}
	}
}

func TestPrecompiledEntries(t *testing.T) {
	falseExpr, err := New([]config.Segment{{ID: "s", Expr: `profile.id == "nobody"`}}, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	poisoned := roundTrip(t, falseExpr) // the AST of an expression false for p
	p := &profile.Profile{ID: "p1"}
	tests := []struct {
		name   string
		pc     *Precompiled
		member bool
	}{
		// The text matches, so the AST is used: it says false although
		// the text says true. This shows the load path is taken.
		{"loaded when the text matches", &Precompiled{Version: PrecompiledVersion, Segments: map[string]PrecompiledExpr{
			"s": {Expr: `profile.id == "p1"`, AST: poisoned.Segments["s"].AST}}}, false},
		{"compiled when the text differs", &Precompiled{Version: PrecompiledVersion, Segments: map[string]PrecompiledExpr{
			"s": {Expr: `profile.id == "old"`, AST: poisoned.Segments["s"].AST}}}, true},
		{"compiled when the AST is corrupt", &Precompiled{Version: PrecompiledVersion, Segments: map[string]PrecompiledExpr{
			"s": {Expr: `profile.id == "p1"`, AST: []byte("not a protobuf")}}}, true},
		{"compiled when absent", &Precompiled{Version: PrecompiledVersion}, true},
		{"compiled without a file", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := New([]config.Segment{{ID: "s", Expr: `profile.id == "p1"`}}, nil, Options{Precompiled: tt.pc})
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			m, _ := e.Evaluate(p, now0)
			if _, got := m.Segments["s"]; got != tt.member {
				t.Errorf("member = %v; want %v", got, tt.member)
			}
		})
	}
}

func TestReadPrecompiled(t *testing.T) {
	dir := t.TempDir()
	if pc, err := ReadPrecompiled(filepath.Join(dir, "missing.json")); pc != nil || err != nil {
		t.Errorf("ReadPrecompiled(missing) = %v, %v; want nil, nil", pc, err)
	}
	old := filepath.Join(dir, "old.json")
	os.WriteFile(old, []byte(`{"version":0,"segments":{}}`), 0o644)
	if _, err := ReadPrecompiled(old); err == nil {
		t.Error("ReadPrecompiled(version 0) = nil error; want a version error")
	}
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{`), 0o644)
	if _, err := ReadPrecompiled(bad); err == nil {
		t.Error("ReadPrecompiled(bad JSON) = nil error; want an error")
	}
}
