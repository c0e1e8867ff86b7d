package bus

import (
	"context"
	"fmt"
	"slices"
	"sync"
)

// Receipt tracks the delivery of the envelopes of one Send. It is done
// once every subscriber they matched has handled each of them: the
// handler succeeded, or the event was dead-lettered after its last
// attempt. An event the bus gave up on because it closed (Close whose
// context ended) is undelivered: it was not handled for good.
type Receipt struct {
	mu          sync.Mutex
	left        int // deliveries not finished, plus Send's hold
	done        chan struct{}
	undelivered []string
}

// newReceipt returns a receipt held by its Send until everything is
// queued, so that deliveries finishing meanwhile cannot complete it.
func newReceipt() *Receipt {
	return &Receipt{left: 1, done: make(chan struct{})}
}

// add counts one more delivery.
func (r *Receipt) add() {
	r.mu.Lock()
	r.left++
	r.mu.Unlock()
}

// finish counts one delivery (or Send's hold) as finished; aborted marks
// the event id undelivered.
func (r *Receipt) finish(id string, aborted bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if aborted && !slices.Contains(r.undelivered, id) {
		r.undelivered = append(r.undelivered, id)
	}
	r.left--
	if r.left == 0 {
		close(r.done)
	}
}

// Done is closed once every delivery of the Send has finished.
func (r *Receipt) Done() <-chan struct{} { return r.done }

// Undelivered returns, once Done is closed, the ids of the events that at
// least one subscriber did not handle because the bus closed first.
func (r *Receipt) Undelivered() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.undelivered)
}

// Wait waits until the receipt is done or ctx ends. It returns nil when
// every event was handled by every subscriber it matched, an error
// wrapping ErrClosed when some were not, or ctx's error.
func (r *Receipt) Wait(ctx context.Context) error {
	select {
	case <-r.done:
	case <-ctx.Done():
		return fmt.Errorf("bus: wait for delivery: %w", ctx.Err())
	}
	if ids := r.Undelivered(); len(ids) > 0 {
		return fmt.Errorf("bus: %d events not delivered (first %s): %w", len(ids), ids[0], ErrClosed)
	}
	return nil
}
