package app_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/aurum-cdp/aurum/shared/adapter/embedded"
	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/core/segment"
	"github.com/aurum-cdp/aurum/shared/model/profile"
	"github.com/aurum-cdp/aurum/shared/wire/app"
)

// TestSchedulerTickExitsSegment feeds events/scheduled-tick.json (the
// EventBridge schedule of functions/scheduler) through the Lambda decode
// path: a customer whose only order is older than 30 days at the tick's
// time leaves recent-buyers without any new event.
func TestSchedulerTickExitsSegment(t *testing.T) {
	ctx := context.Background()
	cfg, err := config.Load("../../../aurum.yaml")
	if err != nil {
		t.Fatal(err)
	}
	st, err := embedded.Open(filepath.Join(t.TempDir(), "aurum.db"), embedded.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	clock := time.Date(2024, 5, 10, 9, 0, 0, 0, time.UTC)
	p, err := app.New(app.Parts{Config: cfg, Store: st, Clock: func() time.Time { return clock }})
	if err != nil {
		t.Fatal(err)
	}
	order := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC) // the window closes on 31 May, 12:00
	res, err := p.Pipeline.Ingest(ctx, []profile.Record{{
		Source: "web-api", ID: "m-1", ObservedAt: order,
		Identifiers: []profile.Identifier{{Type: "customer_id", Value: "C1"}},
		Events:      []profile.Event{{ID: "m-1", Source: "web-api", Type: "track", Name: "Order Completed", Timestamp: order}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	id := res.ProfileIDs[0]
	before, _ := st.Profile(ctx, id)
	if _, in := before.Segments["recent-buyers"]; !in {
		t.Fatalf("after the order, segments = %v; want recent-buyers", before.Segments)
	}

	tick, err := os.ReadFile("../../../events/scheduled-tick.json") // time 2024-06-01T06:01:00Z
	if err != nil {
		t.Fatal(err)
	}
	out, err := lambda.NewHandler(p.Sweep).Invoke(ctx, tick)
	if err != nil {
		t.Fatalf("Invoke(scheduled-tick.json): %v", err)
	}
	var got segment.SweepResult
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("response %s: %v", out, err)
	}
	if got.Exited != 1 {
		t.Errorf("sweep result = %+v; want one exit", got)
	}
	after, _ := st.Profile(ctx, id)
	if _, in := after.Segments["recent-buyers"]; in {
		t.Errorf("after the tick, segments = %v; want recent-buyers gone", after.Segments)
	}
}
