package local_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aurum-cdp/aurum/shared/adapter/bus"
	"github.com/aurum-cdp/aurum/shared/adapter/embedded"
	aevents "github.com/aurum-cdp/aurum/shared/model/events"
	"github.com/aurum-cdp/aurum/shared/port/store"
	"github.com/aurum-cdp/aurum/shared/wire/local"
)

// relayTimeout bounds every wait of the relay tests; nothing is timed.
const relayTimeout = 30 * time.Second

// relaySub is a test subscriber: it records the events it handled, in
// order, and, for the ids in hold, signals held and waits until release
// is closed (or its context ends); for the ids in fail it fails.
type relaySub struct {
	hold    map[string]bool
	fail    map[string]bool
	held    chan string
	release chan struct{}

	mu   sync.Mutex
	got  []string
	envs []aevents.Envelope
}

func newRelaySub() *relaySub {
	return &relaySub{hold: map[string]bool{}, fail: map[string]bool{}, held: make(chan string, 64), release: make(chan struct{})}
}

func (s *relaySub) handle(ctx context.Context, env aevents.Envelope) error {
	if s.fail[env.ID] {
		s.held <- env.ID
		return fmt.Errorf("relay test: injected failure for %s", env.ID)
	}
	if s.hold[env.ID] {
		s.held <- env.ID
		select {
		case <-s.release:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.got = append(s.got, env.ID)
	s.envs = append(s.envs, env)
	return nil
}

func (s *relaySub) handled() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.got)
}

func (s *relaySub) handledEnvelopes() []aevents.Envelope {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.envs)
}

// waitHeld waits until the subscriber holds (or fails) id.
func (s *relaySub) waitHeld(t *testing.T, id string) {
	t.Helper()
	deadline := time.After(relayTimeout)
	for {
		select {
		case got := <-s.held:
			if got == id {
				return
			}
		case <-deadline:
			t.Fatalf("subscriber never received %s", id)
		}
	}
}

func openRelayStore(t *testing.T, path string) *embedded.Store {
	t.Helper()
	st, err := embedded.Open(path, embedded.Options{NoSync: true, Timeout: relayTimeout})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// relayEvents commits n ProfileUpdated events to the outbox of st and
// returns their ids in outbox order.
func relayEvents(t *testing.T, st *embedded.Store, n int) []string {
	t.Helper()
	var envs []aevents.Envelope
	var ids []string
	for i := range n {
		env, err := aevents.New(aevents.TypeProfileUpdated, time.Date(2026, 3, 1, 10, 0, i, 0, time.UTC),
			aevents.ProfileUpdated{Version: aevents.SchemaVersion, ProfileID: fmt.Sprint("p", i), ProfileVersion: 1}, "relay-test", fmt.Sprint(i))
		if err != nil {
			t.Fatal(err)
		}
		envs = append(envs, env)
		ids = append(ids, env.ID)
	}
	if err := st.Commit(context.Background(), store.Change{Outbox: envs}); err != nil {
		t.Fatal(err)
	}
	return ids
}

// relayOutboxIDs returns the ids left in the outbox.
func relayOutboxIDs(t *testing.T, st local.Outbox) []string {
	t.Helper()
	envs, err := st.Outbox(context.Background(), 10000)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, e := range envs {
		ids = append(ids, e.ID)
	}
	return ids
}

func newRelayBus(t *testing.T, opts ...bus.Option) *bus.Bus {
	t.Helper()
	b := bus.New(nil, append([]bus.Option{bus.WithRetry(2, time.Millisecond, time.Millisecond)}, opts...)...)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), relayTimeout)
		defer cancel()
		b.Close(ctx)
	})
	return b
}

func relaySubscribe(t *testing.T, b *bus.Bus, name string, h bus.Handler) {
	t.Helper()
	if err := b.Subscribe(name, nil, h); err != nil {
		t.Fatal(err)
	}
}

// relayDrainAsync runs r.Drain(ctx) and returns its outcome on the channel.
type relayDrained struct {
	n   int
	err error
}

func relayDrainAsync(ctx context.Context, r *local.Relay) <-chan relayDrained {
	c := make(chan relayDrained, 1)
	go func() {
		n, err := r.Drain(ctx)
		c <- relayDrained{n, err}
	}()
	return c
}

func relayWaitDrained(t *testing.T, c <-chan relayDrained) relayDrained {
	t.Helper()
	select {
	case d := <-c:
		return d
	case <-time.After(relayTimeout):
		t.Fatal("Drain did not return")
		return relayDrained{}
	}
}

// An event is acknowledged only after every subscriber handled it: while
// a subscriber holds it, it stays in the outbox; one dead-lettered after
// its retries is acknowledged.
func TestRelayAcksAfterDelivery(t *testing.T) {
	tests := []struct {
		name string
		// setup marks the second event held or failing.
		setup func(s *relaySub, id string)
		hold  bool
		dead  int
	}{
		{"slow subscriber", func(s *relaySub, id string) { s.hold[id] = true }, true, 0},
		{"failing subscriber", func(s *relaySub, id string) { s.fail[id] = true }, false, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := openRelayStore(t, filepath.Join(t.TempDir(), "aurum.db"))
			defer st.Close()
			ids := relayEvents(t, st, 5)
			b := newRelayBus(t)
			sub, other := newRelaySub(), newRelaySub()
			tt.setup(sub, ids[1])
			relaySubscribe(t, b, "sub", sub.handle)
			relaySubscribe(t, b, "other", other.handle)
			r := &local.Relay{Outbox: st, Publisher: b, Batch: 2}
			done := relayDrainAsync(context.Background(), r)
			sub.waitHeld(t, ids[1])
			if tt.hold {
				if left := relayOutboxIDs(t, st); !slices.Contains(left, ids[1]) {
					t.Errorf("while a subscriber holds %s, the outbox holds %v; want it there", ids[1], left)
				}
				close(sub.release)
			}
			d := relayWaitDrained(t, done)
			if d.err != nil || d.n != len(ids) {
				t.Fatalf("Drain = %d, %v; want %d, nil", d.n, d.err, len(ids))
			}
			if left := relayOutboxIDs(t, st); len(left) != 0 {
				t.Errorf("after Drain the outbox holds %v; want nothing", left)
			}
			if got := other.handled(); !slices.Equal(got, ids) {
				t.Errorf("the other subscriber handled %v; want %v", got, ids)
			}
			if got := len(b.DeadLetters()); got != tt.dead {
				t.Errorf("dead letters = %d; want %d", got, tt.dead)
			}
		})
	}
}

// Up to InFlight events await delivery at once: a subscriber holding the
// first event does not hold up the others within that limit; it still
// sees every event in order.
func TestRelayInFlight(t *testing.T) {
	st := openRelayStore(t, filepath.Join(t.TempDir(), "aurum.db"))
	defer st.Close()
	ids := relayEvents(t, st, 5)
	b := newRelayBus(t)
	slow, fast := newRelaySub(), newRelaySub()
	slow.hold[ids[0]] = true
	relaySubscribe(t, b, "slow", slow.handle)
	relaySubscribe(t, b, "fast", fast.handle)
	r := &local.Relay{Outbox: st, Publisher: b, Batch: 2, InFlight: 3}
	done := relayDrainAsync(context.Background(), r)
	slow.waitHeld(t, ids[0])
	deadline := time.Now().Add(relayTimeout)
	for len(fast.handled()) < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("while slow holds %s, fast handled %v; want the 3 events in flight", ids[0], fast.handled())
		}
		time.Sleep(time.Millisecond)
	}
	if left := relayOutboxIDs(t, st); !slices.Equal(left, ids) {
		t.Errorf("while slow holds the first event, the outbox holds %v; want all of %v", left, ids)
	}
	close(slow.release)
	if d := relayWaitDrained(t, done); d.err != nil || d.n != len(ids) {
		t.Fatalf("Drain = %d, %v; want %d, nil", d.n, d.err, len(ids))
	}
	if got := slow.handled(); !slices.Equal(got, ids) {
		t.Errorf("slow handled %v; want %v (in order)", got, ids)
	}
}

// A Drain cut short leaves its batches in flight: the next Drain of the
// same relay acknowledges them once delivered instead of publishing them
// again.
func TestRelayDrainResumesInFlight(t *testing.T) {
	st := openRelayStore(t, filepath.Join(t.TempDir(), "aurum.db"))
	defer st.Close()
	ids := relayEvents(t, st, 4)
	b := newRelayBus(t)
	sub := newRelaySub()
	sub.hold[ids[0]] = true
	relaySubscribe(t, b, "sub", sub.handle)
	r := &local.Relay{Outbox: st, Publisher: b, Batch: 2}
	ctx, cancel := context.WithCancel(context.Background())
	done := relayDrainAsync(ctx, r)
	sub.waitHeld(t, ids[0])
	cancel()
	if d := relayWaitDrained(t, done); !errors.Is(d.err, context.Canceled) || d.n != 0 {
		t.Fatalf("cancelled Drain = %d, %v; want 0, context.Canceled", d.n, d.err)
	}
	if left := relayOutboxIDs(t, st); !slices.Equal(left, ids) {
		t.Errorf("after a cancelled Drain the outbox holds %v; want all of %v", left, ids)
	}
	close(sub.release)
	if d := relayWaitDrained(t, relayDrainAsync(context.Background(), r)); d.err != nil || d.n != len(ids) {
		t.Fatalf("second Drain = %d, %v; want %d, nil", d.n, d.err, len(ids))
	}
	if got := sub.handled(); !slices.Equal(got, ids) {
		t.Errorf("subscriber handled %v; want each of %v once", got, ids)
	}
}

// Events the bus gives up on when it closes stay in the outbox.
func TestRelayKeepsUndelivered(t *testing.T) {
	st := openRelayStore(t, filepath.Join(t.TempDir(), "aurum.db"))
	defer st.Close()
	ids := relayEvents(t, st, 3)
	b := bus.New(nil)
	sub := newRelaySub()
	sub.hold[ids[1]] = true
	relaySubscribe(t, b, "sub", sub.handle)
	r := &local.Relay{Outbox: st, Publisher: b}
	done := relayDrainAsync(context.Background(), r)
	sub.waitHeld(t, ids[1])
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := b.Close(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Close(cancelled) = %v", err)
	}
	d := relayWaitDrained(t, done)
	if !errors.Is(d.err, bus.ErrClosed) {
		t.Errorf("Drain = %d, %v; want ErrClosed", d.n, d.err)
	}
	if left := relayOutboxIDs(t, st); !slices.Equal(left, ids[1:]) {
		t.Errorf("after the bus gave up, the outbox holds %v; want %v (the delivered %s acknowledged)", left, ids[1:], ids[0])
	}
}
