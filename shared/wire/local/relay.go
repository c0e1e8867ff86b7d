package local

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	aevents "github.com/aurum-cdp/aurum/shared/model/events"
)

// Outbox is the store's transactional outbox.
type Outbox interface {
	Outbox(ctx context.Context, limit int) ([]aevents.Envelope, error)
	Ack(ctx context.Context, ids []string) error
}

// Publisher delivers events to the bus.
type Publisher interface {
	Publish(ctx context.Context, envs ...aevents.Envelope) error
}

// Relay drains the outbox to a publisher: the local-mode counterpart of the
// DynamoDB stream that carries outbox items to EventBridge in AWS. An event
// is acknowledged only after it was published, so a crash in between
// publishes it again (at least once; consumers de-duplicate on the id).
type Relay struct {
	Outbox    Outbox
	Publisher Publisher
	Interval  time.Duration
	// Wake, if set, triggers a drain before the next interval (local
	// mode signals it after each commit with outbox events).
	Wake  <-chan struct{}
	Batch int
	Log   *slog.Logger
}

// Drain publishes everything pending and returns how many events went out.
func (r *Relay) Drain(ctx context.Context) (int, error) {
	batch := r.Batch
	if batch <= 0 {
		batch = 100
	}
	total := 0
	for {
		envs, err := r.Outbox.Outbox(ctx, batch)
		if err != nil {
			return total, fmt.Errorf("local: read outbox: %w", err)
		}
		if len(envs) == 0 {
			return total, nil
		}
		if err := r.Publisher.Publish(ctx, envs...); err != nil {
			return total, fmt.Errorf("local: publish %d events: %w", len(envs), err)
		}
		ids := make([]string, len(envs))
		for i, e := range envs {
			ids[i] = e.ID
		}
		if err := r.Outbox.Ack(ctx, ids); err != nil {
			return total, fmt.Errorf("local: ack %d events: %w", len(ids), err)
		}
		total += len(envs)
	}
}

// Run drains the outbox every interval until ctx is done.
func (r *Relay) Run(ctx context.Context) error {
	interval := r.Interval
	if interval <= 0 {
		interval = 100 * time.Millisecond
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := r.Drain(ctx); err != nil && ctx.Err() == nil {
			r.Log.Warn("outbox relay", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-r.Wake:
		}
	}
}
