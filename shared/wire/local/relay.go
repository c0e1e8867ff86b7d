package local

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/aurum-cdp/aurum/shared/adapter/bus"
	aevents "github.com/aurum-cdp/aurum/shared/model/events"
)

// Outbox is the store's transactional outbox.
type Outbox interface {
	Outbox(ctx context.Context, limit int) ([]aevents.Envelope, error)
	Ack(ctx context.Context, ids []string) error
}

// Publisher queues events for the local subscribers, as *bus.Bus does: the
// receipt is done once every subscriber the events matched has handled
// them.
type Publisher interface {
	Send(ctx context.Context, envs ...aevents.Envelope) (*bus.Receipt, error)
}

// Defaults of Relay.
const (
	DefaultRelayInterval = 100 * time.Millisecond
	DefaultRelayBatch    = 100
	DefaultRelayInFlight = 1000
)

// Relay drains the outbox to the local bus: the local-mode counterpart of
// the DynamoDB stream that carries outbox items to EventBridge in AWS. An
// event is acknowledged only once every subscriber it matched has handled
// it (or dead-lettered it after its retries), so a crash before that
// publishes it again on restart: at least once, and subscribers
// de-duplicate on the event id. Up to InFlight events await delivery at
// once, so a slow subscriber holds up the others only when that many wait
// for it.
type Relay struct {
	Outbox    Outbox
	Publisher Publisher
	Interval  time.Duration
	// Wake, if set, triggers a drain before the next interval (local
	// mode signals it after each commit with outbox events).
	Wake  <-chan struct{}
	Batch int
	// InFlight is how many published events may await delivery at once.
	InFlight int
	Log      *slog.Logger

	mu sync.Mutex // one Drain or Run at a time
	// inflight are the published batches not yet acknowledged, oldest
	// first. A Drain that ends early (ctx) leaves them to the next one.
	inflight []flight
}

// flight is a published batch awaiting delivery.
type flight struct {
	ids     []string
	receipt *bus.Receipt
}

// Drain publishes everything pending, waits until it is delivered and
// acknowledges it; it returns how many events it acknowledged. If ctx ends
// first, what is published stays unacknowledged: the next Drain or Run
// acknowledges it once delivered; after a crash, it is published again.
func (r *Relay) Drain(ctx context.Context) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.drain(ctx, nil, nil)
}

// Run drains the outbox every interval, and whenever Wake signals, until
// ctx is done.
func (r *Relay) Run(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	interval := r.Interval
	if interval <= 0 {
		interval = DefaultRelayInterval
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := r.drain(ctx, r.Wake, t.C); err != nil && ctx.Err() == nil {
			r.logger().Warn("outbox relay", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-r.Wake:
		}
	}
}

// drain acknowledges delivered batches and publishes new ones until the
// outbox is empty and nothing is in flight. While batches await delivery,
// wake and tick make it look for new events.
func (r *Relay) drain(ctx context.Context, wake <-chan struct{}, tick <-chan time.Time) (int, error) {
	total := 0
	for {
		n, err := r.ackDelivered(ctx)
		total += n
		if err != nil {
			return total, err
		}
		published, err := r.publishNext(ctx)
		if err != nil {
			return total, err
		}
		if published {
			continue
		}
		if len(r.inflight) == 0 {
			return total, nil
		}
		select {
		case <-r.inflight[0].receipt.Done():
		case <-wake:
		case <-tick:
		case <-ctx.Done():
			return total, fmt.Errorf("local: wait for delivery of %d batches: %w", len(r.inflight), ctx.Err())
		}
	}
}

// ackDelivered acknowledges the events of the batches whose delivery is
// done and forgets those batches. Events the bus gave up on (it closed)
// stay in the outbox, to be published after a restart.
func (r *Relay) ackDelivered(ctx context.Context) (int, error) {
	var ids, lost []string
	var keep []flight
	for _, f := range r.inflight {
		select {
		case <-f.receipt.Done():
			undelivered := f.receipt.Undelivered()
			for _, id := range f.ids {
				if !slices.Contains(undelivered, id) {
					ids = append(ids, id)
				}
			}
			lost = append(lost, undelivered...)
		default:
			keep = append(keep, f)
		}
	}
	if len(ids) > 0 {
		if err := r.Outbox.Ack(ctx, ids); err != nil {
			return 0, fmt.Errorf("local: ack %d events: %w", len(ids), err)
		}
	}
	r.inflight = keep
	if len(lost) > 0 {
		return len(ids), fmt.Errorf("local: %d events not delivered; they stay in the outbox: %w", len(lost), bus.ErrClosed)
	}
	return len(ids), nil
}

// publishNext publishes the next batch of the outbox, skipping the events
// in flight, if there is room for more in flight; it reports whether it
// did.
func (r *Relay) publishNext(ctx context.Context) (bool, error) {
	batch, limit := r.sizes()
	busy := map[string]bool{}
	for _, f := range r.inflight {
		for _, id := range f.ids {
			busy[id] = true
		}
	}
	batch = min(batch, limit-len(busy))
	if batch <= 0 {
		return false, nil
	}
	envs, err := r.Outbox.Outbox(ctx, len(busy)+batch)
	if err != nil {
		return false, fmt.Errorf("local: read outbox: %w", err)
	}
	var fresh []aevents.Envelope
	var ids []string
	for _, e := range envs {
		if !busy[e.ID] && len(fresh) < batch {
			fresh = append(fresh, e)
			ids = append(ids, e.ID)
		}
	}
	if len(fresh) == 0 {
		return false, nil
	}
	receipt, err := r.Publisher.Send(ctx, fresh...)
	if receipt == nil {
		return false, fmt.Errorf("local: publish %d events: %w", len(fresh), err)
	}
	if err != nil {
		// A pattern that cannot match is no transient failure: the other
		// subscribers receive the events, which are acknowledged.
		r.logger().Warn("outbox relay: events not matched for some subscribers", "err", err)
	}
	r.inflight = append(r.inflight, flight{ids: ids, receipt: receipt})
	return true, nil
}

func (r *Relay) sizes() (batch, inFlight int) {
	batch, inFlight = r.Batch, r.InFlight
	if batch <= 0 {
		batch = DefaultRelayBatch
	}
	if inFlight <= 0 {
		inFlight = DefaultRelayInFlight
	}
	return batch, inFlight
}

func (r *Relay) logger() *slog.Logger {
	if r.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return r.Log
}
