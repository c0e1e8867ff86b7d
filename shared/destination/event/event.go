// Package event is the event action kind: it publishes the invoker's own
// event (a trigger's TriggerFired) on Aurum's bus. It is Staged: the event
// goes to the outbox in the same atomic change that claims the firing, so
// it is published exactly once, and nothing is sent afterwards.
package event

import (
	"context"
	"fmt"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/destination"
	"github.com/aurum-cdp/aurum/shared/model/events"
)

// KindName is the action's key in aurum.yaml.
const KindName = "event"

// Kind is the event action kind. It needs no collaborators: the outbox
// relay publishes what the invoker commits.
func Kind() destination.Kind {
	return destination.Kind{Name: KindName, Build: func(config.TriggerAction) (destination.Action, error) {
		return action{}, nil
	}}
}

// action is the event action; event: {} has no settings.
type action struct{}

// Stage returns the invoker's event for the outbox.
func (action) Stage(d destination.Delivery) ([]events.Envelope, error) {
	if d.Event.ID == "" {
		return nil, fmt.Errorf("event action: the invocation has no event")
	}
	return []events.Envelope{d.Event}, nil
}

// Deliver does nothing: Stage did the work in the invoker's commit.
func (action) Deliver(context.Context, destination.Delivery) error { return nil }
