package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/core/segment"
	"github.com/aurum-cdp/aurum/shared/wire/app"
)

// coldConfig writes the sample configuration with n more segments of the
// usual kinds (windows, aggregates, attributes) into dir, and the segments
// compiled ahead of time beside it, as make build does.
func coldConfig(tb testing.TB, dir string, n int) app.Settings {
	tb.Helper()
	b, err := os.ReadFile("../../../aurum.yaml")
	if err != nil {
		tb.Fatal(err)
	}
	var extra strings.Builder
	for i := range n {
		fmt.Fprintf(&extra, "  - id: generated-%d\n    expr: events.count(\"Order Completed\", days(%d)) >= 1 && has(profile.aggregates.orders_count) && profile.aggregates.orders_count >= %d && profile.attributes.country != \"C%d\"\n", i, i+1, i%5, i)
	}
	yaml := strings.Replace(string(b), "\nsegments:\n", "\nsegments:\n"+extra.String(), 1)
	s := app.Settings{ConfigPath: filepath.Join(dir, "aurum.yaml"), SegmentsPath: filepath.Join(dir, "aurum.segments.json"), Table: "aurum", Bucket: "drops"}
	if err := os.WriteFile(s.ConfigPath, []byte(yaml), 0o644); err != nil {
		tb.Fatal(err)
	}
	cfg, err := config.Load(s.ConfigPath)
	if err != nil {
		tb.Fatal(err)
	}
	ev, err := segment.New(cfg.Segments, cfg.RFM, segment.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	pc, err := ev.Precompile()
	if err != nil {
		tb.Fatal(err)
	}
	js, _ := json.Marshal(pc)
	if err := os.WriteFile(s.SegmentsPath, js, 0o644); err != nil {
		tb.Fatal(err)
	}
	return s
}

// BenchmarkColdInit measures what a Lambda cold start does before its
// first event: load aurum.yaml, compile 100 segments (plus the sample's),
// construct the SDK clients and wire the platform (app.AWS). "source"
// compiles the segments from their text, "precompiled" loads them as make
// build ships them (aurum compile); the ratio of the two is the saving.
// The target of issue 14 is < 25 ms per cold init with precompiled
// segments. AWS_CA_BUNDLE is cleared: this workplace sets one, Lambda does
// not, and reading it costs milliseconds per client.
func BenchmarkColdInit(b *testing.B) {
	b.Setenv("AWS_CA_BUNDLE", "")
	b.Setenv("AWS_REGION", "eu-west-1")
	b.Setenv("AWS_ACCESS_KEY_ID", "bench")
	b.Setenv("AWS_SECRET_ACCESS_KEY", "bench")
	s := coldConfig(b, b.TempDir(), 100)
	for _, tc := range []struct {
		name     string
		segments string
	}{{"source", filepath.Join(filepath.Dir(s.SegmentsPath), "none.json")}, {"precompiled", s.SegmentsPath}} {
		b.Run(tc.name, func(b *testing.B) {
			s := s
			s.SegmentsPath = tc.segments
			for b.Loop() {
				if _, _, err := app.AWS(context.Background(), s); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestColdInitPrecompiledFile checks that app.AWS reads the precompiled
// segments beside the configuration: with a file whose entries differ
// from the configuration nothing breaks, and with the right file the
// platform evaluates the same segments.
func TestColdInitPrecompiledFile(t *testing.T) {
	t.Setenv("AWS_REGION", "eu-west-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	s := coldConfig(t, t.TempDir(), 3)
	p, _, err := app.AWS(context.Background(), s)
	if err != nil {
		t.Fatalf("AWS: %v", err)
	}
	if got, want := len(p.Segments.Eval.Segments()), len(p.Config.Segments); got != want {
		t.Errorf("segments = %d; want %d", got, want)
	}
	if err := os.WriteFile(s.SegmentsPath, []byte(`{"version":99}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := app.AWS(context.Background(), s); err != nil {
		t.Errorf("AWS with a precompiled file of another version = %v; want the segments compiled from source", err)
	}
}
