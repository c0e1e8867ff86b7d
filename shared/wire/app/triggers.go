package app

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/aurum-cdp/aurum/shared/core/activation"
	"github.com/aurum-cdp/aurum/shared/core/trigger"
	"github.com/aurum-cdp/aurum/shared/destination"
	"github.com/aurum-cdp/aurum/shared/destination/event"
	sqsaction "github.com/aurum-cdp/aurum/shared/destination/sqs"
	"github.com/aurum-cdp/aurum/shared/destination/webhook"
	"github.com/aurum-cdp/aurum/shared/source/busevent"
)

// TriggerParts are the adapters the trigger engine needs besides the
// platform's store and secrets: AWS ones in functions/triggers, local ones
// (trigger.StoreScheduler, trigger.MemoryDeadLetters) in local mode.
type TriggerParts struct {
	Scheduler   trigger.Scheduler
	Queues      sqsaction.Sender
	DeadLetters trigger.DeadLetterSink
	// HTTPClient sends webhooks; nil means a client with a 30s timeout.
	HTTPClient *http.Client
	// Exclusive: the engine is the only one on the store (local mode,
	// which holds its file lock); see trigger.Options.Exclusive.
	Exclusive bool
	// Destinations is the runner whose destinations triggers name
	// (destination: NAME); nil builds one (Platform.Destinations).
	Destinations *activation.Runner
	// Deliverer carries destination batches; nil: activation.PassThrough.
	Deliverer activation.Deliverer
}

// TriggerEngine builds the trigger engine over the platform's store, from
// the configuration's triggers, with the action kinds of ActionKinds.
func (p *Platform) TriggerEngine(tp TriggerParts) (*trigger.Engine, error) {
	kinds, err := p.ActionKinds(tp)
	if err != nil {
		return nil, err
	}
	e, err := trigger.New(p.Config.Triggers, trigger.Deps{
		Profiles: p.Store, State: p.Store, Scheduler: tp.Scheduler, Actions: kinds, DeadLetters: tp.DeadLetters,
	}, trigger.Options{Clock: p.Clock, Logger: p.Logger, Exclusive: tp.Exclusive})
	if err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	return e, nil
}

// ActionKinds is the registry of action kinds, the one place they are
// listed: signed webhooks (secrets resolved by the platform), SQS messages
// over tp.Queues, the TriggerFired event, and destination (a named
// destination of tp.Destinations). A new kind is one more entry.
func (p *Platform) ActionKinds(tp TriggerParts) (*destination.Registry, error) {
	kinds, err := p.actionKinds(tp)
	if err != nil {
		return nil, err
	}
	runner := tp.Destinations
	if runner == nil {
		if runner, err = p.Destinations(tp); err != nil {
			return nil, err
		}
	}
	reg, err := destination.NewRegistry(append(kinds, runner.ActionKind())...)
	if err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	return reg, nil
}

// baseKinds is the registry of the action kinds that are also
// destination kinds (all but destination itself).
func (p *Platform) baseKinds(tp TriggerParts) (*destination.Registry, error) {
	kinds, err := p.actionKinds(tp)
	if err != nil {
		return nil, err
	}
	reg, err := destination.NewRegistry(kinds...)
	if err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	return reg, nil
}

func (p *Platform) actionKinds(tp TriggerParts) ([]destination.Kind, error) {
	client := tp.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	hooks, err := webhook.NewSender(client, webhook.WithClock(p.Clock))
	if err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	return []destination.Kind{
		webhook.Kind(hooks, p.Secrets),
		sqsaction.Kind(tp.Queues),
		event.Kind(),
	}, nil
}

// BusHandler is the handler of functions/ingest-bus.
func (p *Platform) BusHandler() (*busevent.Handler, error) {
	h, err := busevent.New(p.Config.Sources, p.Config.Identifiers, p.Console.Ingester(p.Ingester), p.Logger, p.Clock)
	if err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	return h, nil
}

// LocalTriggers builds local mode's trigger engine with a store-backed
// scheduler (run it with Scheduler.Run(ctx, interval, engine.Fire)) and an
// in-memory dead-letter list. SQS actions fail (and are dead-lettered)
// unless queues is given.
func (p *Platform) LocalTriggers(queues sqsaction.Sender) (*trigger.Engine, *trigger.StoreScheduler, *trigger.MemoryDeadLetters, error) {
	e, sched, dead, _, err := p.LocalActivation(queues)
	return e, sched, dead, err
}

// LocalActivation is LocalTriggers plus the destinations runner the
// triggers deliver to, which local mode also subscribes to the bus.
func (p *Platform) LocalActivation(queues sqsaction.Sender) (*trigger.Engine, *trigger.StoreScheduler, *trigger.MemoryDeadLetters, *activation.Runner, error) {
	sched := trigger.NewStoreScheduler(p.Store, p.Clock, p.Logger)
	dead := trigger.NewMemoryDeadLetters(p.Logger)
	if queues == nil {
		queues = noQueues{}
	}
	tp := TriggerParts{Scheduler: sched, Queues: queues, DeadLetters: dead, Exclusive: true}
	runner, err := p.Destinations(tp)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	tp.Destinations = runner
	// Local mode holds the store's file lock: a firing claimed before this
	// start was cut short by a crash and runs again at once.
	e, err := p.TriggerEngine(tp)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	return e, sched, dead, runner, nil
}

// noQueues refuses SQS messages in local mode.
type noQueues struct{}

func (noQueues) SendMessage(context.Context, sqsaction.Message) error {
	return fmt.Errorf("local mode has no SQS; the message is dead-lettered")
}
