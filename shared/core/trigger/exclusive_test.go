package trigger_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aurum-cdp/aurum/shared/adapter/secrets"
	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/core/trigger"
	"github.com/aurum-cdp/aurum/shared/model/events"
	"github.com/aurum-cdp/aurum/shared/model/fault"
	"github.com/aurum-cdp/aurum/shared/port/store"
)

// A firing claimed by a process that died while running its actions stays
// pending in the store. An exclusive engine (local mode, the only one on
// its store) runs it again as soon as the cause is re-delivered; a shared
// one (AWS) leaves it to the lease, since another instance may still be
// running it.
func TestExclusiveTakesOverOrphanedFiring(t *testing.T) {
	tr := config.Trigger{ID: "vip", When: config.TriggerWhen{SegmentEntered: "vip"},
		Actions: []config.TriggerAction{webhookAction("https://hooks.example.com/vip")}}
	tests := []struct {
		name      string
		exclusive bool
		webhooks  int
	}{
		{"exclusive engine takes over", true, 1},
		{"shared engine waits for the lease", false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			f := newFixture(t, tr)
			f.profile(t, "p1", nil)
			env := segmentEntered(t, "p1", "vip", t0)
			id := trigger.Pending{TriggerID: "vip", ProfileID: "p1", Cause: events.Cause{EventID: env.ID}}.FiringID()
			// The dead process claimed the firing a minute before this start.
			val := []byte(`{"state":"pending","at":"` + t0.Add(-time.Minute).Format(time.RFC3339Nano) + `"}`)
			if err := f.st.Commit(ctx, store.Change{Items: []store.ItemWrite{{Op: store.ItemPut,
				Item: store.Item{Kind: trigger.KindFired, Key: id, Sort: "F", Value: val, Expires: t0.Add(24 * time.Hour)}}}}); err != nil {
				t.Fatal(err)
			}
			kinds := actionKinds(t, f.hooks, secrets.New(nil, nil, func(string) string { return "whsec_test" }), f.queues)
			eng, err := trigger.New([]config.Trigger{tr}, trigger.Deps{
				Profiles: f.st, State: f.st, Scheduler: f.sched, Actions: kinds, DeadLetters: f.dead,
			}, trigger.Options{Clock: f.clk.Now, Exclusive: tt.exclusive})
			if err != nil {
				t.Fatal(err)
			}
			err = eng.Handle(ctx, env)
			if tt.exclusive && err != nil {
				t.Fatalf("Handle(re-delivery) = %v; want the orphaned firing run", err)
			}
			if !tt.exclusive && !errors.Is(err, fault.ErrRetryable) {
				t.Fatalf("Handle(re-delivery) = %v; want a retryable error (in progress elsewhere)", err)
			}
			if got := len(f.hooks.sent()); got != tt.webhooks {
				t.Errorf("webhooks sent = %d; want %d", got, tt.webhooks)
			}
			// Once done, a further delivery fires nothing, exclusive or not.
			if tt.exclusive {
				if err := eng.Handle(ctx, env); err != nil {
					t.Fatal(err)
				}
				if got := len(f.hooks.sent()); got != 1 {
					t.Errorf("after a second re-delivery, webhooks sent = %d; want 1", got)
				}
			}
		})
	}
}
