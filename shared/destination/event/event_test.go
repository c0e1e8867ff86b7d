package event_test

import (
	"context"
	"testing"
	"time"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/destination"
	"github.com/aurum-cdp/aurum/shared/destination/event"
	"github.com/aurum-cdp/aurum/shared/model/events"
)

func TestStage(t *testing.T) {
	env, err := events.New(events.TypeTriggerFired, time.Unix(0, 0), map[string]string{"trigger_id": "t"}, "t", "p1", "e1")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		d       destination.Delivery
		want    int
		wantErr bool
	}{
		{"stages the invoker's event", destination.Delivery{ID: env.ID, Event: env}, 1, false},
		{"no event", destination.Delivery{ID: "f1"}, 0, true},
	}
	act, err := event.Kind().Build(config.TriggerAction{Event: &config.EventAction{}})
	if err != nil {
		t.Fatal(err)
	}
	staged, ok := act.(destination.Staged)
	if !ok {
		t.Fatalf("event action %T is not destination.Staged", act)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := staged.Stage(tt.d)
			if len(got) != tt.want || (err != nil) != tt.wantErr || (tt.want == 1 && got[0].ID != env.ID) {
				t.Errorf("Stage(%+v) = %+v, %v; want %d events (error %v)", tt.d, got, err, tt.want, tt.wantErr)
			}
		})
	}
	if err := act.Deliver(context.Background(), destination.Delivery{}); err != nil {
		t.Errorf("Deliver = %v; want nil (the event is staged)", err)
	}
}
