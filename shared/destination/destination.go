// Package destination holds the destination model's contracts: an Action
// is what a trigger (and later a journey) invokes when it fires, the
// Delivery value it receives, and the Registry that maps each action kind
// (the key in aurum.yaml: webhook, event, sqs, …) to how its Actions are
// built from their configuration.
//
// The kinds live in subpackages, each exporting a Kind: webhook (signed
// HTTP requests), sqs (SQS messages) and event (the TriggerFired event,
// committed with the firing). shared/wire/app fills the registry; the
// trigger engine knows no kind by name. docs/triggers.md, "Adding an
// action kind", walks through a new one.
package destination

import (
	"context"

	"github.com/aurum-cdp/aurum/shared/model/events"
)

// Action carries out one configured action.
type Action interface {
	// Deliver performs d. It may run more than once for one d.ID (a
	// re-delivery after a crash); receivers de-duplicate on it. Retries
	// belong inside; an error means the delivery failed for good and the
	// invoker dead-letters it.
	Deliver(ctx context.Context, d Delivery) error
}

// Delivery is one invocation of an action.
type Delivery struct {
	// ID is the idempotency id, the same for every attempt of one
	// invocation: a trigger's firing id (X-Aurum-Delivery, the SQS
	// deduplication id).
	ID string
	// ProfileID is the profile's current id.
	ProfileID string
	// Body is the JSON body: the action's BodyTemplate (see Templated)
	// rendered over Data, else the invoker's default (a trigger's: the
	// TriggerFired detail).
	Body []byte
	// Data is what body templates see; a trigger's holds profile, event,
	// trigger and firing.
	Data map[string]any
	// Event is the invoker's own event for this invocation (a trigger's
	// TriggerFired, whose id is ID); Staged actions commit it.
	Event events.Envelope
}

// Templated is an Action whose body is a template of its configuration.
// The invoker parses BodyTemplate once, when it builds the action
// (ParseTemplate), and renders it over Delivery.Data into Delivery.Body;
// "" keeps the default body.
type Templated interface {
	Action
	BodyTemplate() string
}

// Staged is an Action carried out inside the invoker's own commit rather
// than after it: the events Stage returns are written to the outbox in
// the same atomic change that claims the firing, so they are published
// exactly once. The invoker does not call Deliver on a Staged action.
type Staged interface {
	Action
	Stage(d Delivery) ([]events.Envelope, error)
}
