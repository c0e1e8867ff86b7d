package local

import (
	"context"

	"github.com/aurum-cdp/aurum/shared/adapter/embedded"
	"github.com/aurum-cdp/aurum/shared/port/store"
)

// signalingStore is the embedded store whose commits that carry outbox
// events wake the outbox relay, so an event reaches the bus right after
// its commit rather than at the relay's next poll. Every other method is
// the embedded store's.
type signalingStore struct {
	*embedded.Store
	wake chan struct{}
}

// newSignalingStore wraps st; the returned channel receives (without
// blocking the committer, coalescing bursts) after each commit with
// outbox events.
func newSignalingStore(st *embedded.Store) (*signalingStore, <-chan struct{}) {
	s := &signalingStore{Store: st, wake: make(chan struct{}, 1)}
	return s, s.wake
}

// Commit implements store.Store: the embedded store's commit, then a
// wake-up for the relay when the commit wrote outbox events.
func (s *signalingStore) Commit(ctx context.Context, changes ...store.Change) error {
	if err := s.Store.Commit(ctx, changes...); err != nil {
		return err
	}
	for i := range changes {
		if len(changes[i].Outbox) > 0 {
			select {
			case s.wake <- struct{}{}:
			default: // a wake-up is already pending: it covers this commit
			}
			break
		}
	}
	return nil
}
