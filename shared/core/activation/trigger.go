package activation

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/destination"
	"github.com/aurum-cdp/aurum/shared/model/profile"
)

// ActionKindName is the trigger action naming a destination
// (destination: NAME).
const ActionKindName = "destination"

// ActionKind is the trigger action kind that delivers a firing to a
// named destination: an action kind used as a destination (webhook, sqs,
// event) receives the firing as that action would; a preset receives it
// as an event named after the trigger, with the TriggerFired detail as
// properties. Either way the destination's purposes are checked first: a
// firing for a profile without consent is skipped and counted.
func (r *Runner) ActionKind() destination.Kind {
	return destination.Kind{Name: ActionKindName, Build: func(a config.TriggerAction) (destination.Action, error) {
		d, ok := r.named[a.Destination]
		if !ok {
			return nil, fmt.Errorf("%q is not a configured destination", a.Destination)
		}
		if st, ok := d.sink.Action.(destination.Staged); ok {
			if len(d.cfg.Purposes) > 0 {
				return nil, fmt.Errorf("destination %s publishes on Aurum's bus, where consent is not checked; remove its purposes", d.cfg.Name)
			}
			return st, nil
		}
		if d.sink.Action == nil && d.sink.Events == nil {
			return nil, fmt.Errorf("destination %s (kind %s) does not receive events, which a trigger sends", d.cfg.Name, d.cfg.Kind)
		}
		return &triggerAction{r: r, d: d}, nil
	}}
}

// triggerAction is a destination as a trigger's action.
type triggerAction struct {
	r *Runner
	d *dest
}

// BodyTemplate passes the action kind's template on to the trigger, which
// renders it (webhook and sqs destinations).
func (t *triggerAction) BodyTemplate() string {
	if tp, ok := t.d.sink.Action.(destination.Templated); ok {
		return tp.BodyTemplate()
	}
	return ""
}

// Deliver checks consent, then delivers the firing.
func (t *triggerAction) Deliver(ctx context.Context, del destination.Delivery) error {
	w := &work{r: t.r, profiles: map[string]profileResult{}, plans: map[*dest]*plan{}}
	p, ok, err := w.consented(ctx, t.d, del.ProfileID, 1)
	if err != nil || !ok {
		return err
	}
	if t.d.sink.Action != nil {
		if err := t.r.deps.Deliverer.Deliver(ctx, t.d.cfg.Name, t.d.sink.Action, del); err != nil {
			t.r.count(t.d, func(s *Stats) { s.Failed++ })
			return err
		}
		t.r.count(t.d, func(s *Stats) { s.Delivered++; s.Batches++ })
		return nil
	}
	var props map[string]any
	_ = json.Unmarshal(del.Event.Detail, &props)
	name := del.Event.DetailType
	if tr, ok := del.Data["trigger"].(map[string]any); ok {
		if id, ok := tr["id"].(string); ok && id != "" {
			name = id
		}
	}
	ev := t.d.event(p, profile.Event{ID: del.ID, Name: name, Timestamp: del.Event.Time, Properties: props})
	return t.r.send(ctx, t.d, destination.Batch{Op: destination.OpEvents, Events: &destination.EventBatch{ID: del.ID, Events: []destination.Event{ev}}})
}
