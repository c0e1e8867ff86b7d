package trigger_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/core/trigger"
	"github.com/aurum-cdp/aurum/shared/model/events"
	"github.com/aurum-cdp/aurum/shared/model/fault"
)

// handleUntilDone calls Handle as the bus does: again while it fails with
// a retryable error (another delivery owns the firing), a bounded number
// of times.
func handleUntilDone(ctx context.Context, eng *trigger.Engine, env events.Envelope) error {
	var err error
	for range 10000 {
		if err = eng.Handle(ctx, env); !errors.Is(err, fault.ErrRetryable) {
			return err
		}
		runtime.Gosched()
	}
	return fmt.Errorf("still retryable after 10000 calls: %w", err)
}

// deliver hands env to the engine n times, all at once.
func deliver(t *testing.T, f *fixture, env events.Envelope, n int) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	start := make(chan struct{})
	for range n {
		wg.Go(func() {
			<-start
			errs <- handleUntilDone(context.Background(), f.eng, env)
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("Handle(%s) = %v; want nil", env.ID, err)
		}
	}
}

// firedEvents counts the TriggerFired events in the outbox by firing id.
func firedEvents(t *testing.T, f *fixture) map[string]int {
	t.Helper()
	out, err := f.st.Outbox(context.Background(), 1000)
	if err != nil {
		t.Fatal(err)
	}
	n := map[string]int{}
	for _, e := range out {
		if e.DetailType == events.TypeTriggerFired {
			n[e.ID]++
		}
	}
	return n
}

// The firing id is derived from the trigger, the profile and the cause's
// event id, so however often and however concurrently one envelope is
// delivered, each trigger fires once: one webhook, one TriggerFired, one
// slot of the cap.
func TestRedeliveryFiresOnce(t *testing.T) {
	actions := []config.TriggerAction{webhookAction("https://hooks.example.com/vip"), {Event: &config.EventAction{}}}
	tests := []struct {
		name    string
		trigger config.Trigger
		// deliveries is how many deliveries of the same envelope run at once.
		deliveries int
		// settle runs what a delay defers.
		settle bool
	}{
		{"twice", config.Trigger{ID: "vip", When: config.TriggerWhen{SegmentEntered: "vip"}, Actions: actions}, 2, false},
		{"eight at once", config.Trigger{ID: "vip", When: config.TriggerWhen{SegmentEntered: "vip"}, Actions: actions}, 8, false},
		{"eight at once, event action only", config.Trigger{ID: "vip", When: config.TriggerWhen{SegmentEntered: "vip"},
			Actions: []config.TriggerAction{{Event: &config.EventAction{}}}}, 8, false},
		{"eight at once, capped trigger", config.Trigger{ID: "vip", When: config.TriggerWhen{SegmentEntered: "vip"},
			Cap: &config.FrequencyCap{Max: 2, Per: "24h"}, Actions: actions}, 8, false},
		{"eight at once, delayed trigger", config.Trigger{ID: "vip", When: config.TriggerWhen{SegmentEntered: "vip"},
			Delay: "1h", Actions: actions}, 8, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			f := newFixture(t, tt.trigger)
			f.profile(t, "p1", nil)
			first := segmentEntered(t, "p1", "vip", t0)
			deliver(t, f, first, tt.deliveries)
			if tt.settle {
				f.clk.Advance(2 * time.Hour)
				if _, err := f.sched.FireDue(ctx, f.eng.Fire); err != nil {
					t.Fatal(err)
				}
			}
			// A re-delivery after the firing (a restart replaying the outbox).
			deliver(t, f, first, 1)
			webhooks := 0
			if tt.trigger.Actions[0].Webhook != nil {
				webhooks = 1
			}
			if got := len(f.hooks.sent()); got != webhooks {
				t.Errorf("%d deliveries of one envelope sent %d webhooks; want %d", tt.deliveries+1, got, webhooks)
			}
			firing := trigger.Pending{TriggerID: "vip", ProfileID: "p1", Cause: events.Cause{EventID: first.ID}}.FiringID()
			if got := firedEvents(t, f); len(got) != 1 || got[firing] != 1 {
				t.Errorf("TriggerFired events by firing id = %v; want one, %s", got, firing)
			}
			if tt.trigger.Cap == nil {
				return
			}
			// The duplicates took no slot of the cap: a second cause fires.
			second := segmentEntered(t, "p1", "vip", t0.Add(time.Minute))
			deliver(t, f, second, tt.deliveries)
			if got := firedEvents(t, f); len(got) != 2 {
				t.Errorf("after a second cause, TriggerFired events = %v; want 2 firings (cap 2)", got)
			}
		})
	}
}
