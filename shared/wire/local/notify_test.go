package local

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/aurum-cdp/aurum/shared/adapter/bus"
	"github.com/aurum-cdp/aurum/shared/adapter/embedded"
	aevents "github.com/aurum-cdp/aurum/shared/model/events"
	"github.com/aurum-cdp/aurum/shared/port/store"
)

func TestSignalingStoreWakesOnOutbox(t *testing.T) {
	st, err := embedded.Open(filepath.Join(t.TempDir(), "aurum.db"), embedded.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	env, err := aevents.New("ProfileUpdated", time.Now(), map[string]string{"profile_id": "p1"}, "p1", "1")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		changes []store.Change
		wake    bool
	}{
		{"no outbox", []store.Change{{}}, false},
		{"outbox", []store.Change{{Outbox: []aevents.Envelope{env}}}, true},
		{"outbox in a later change", []store.Change{{}, {Outbox: []aevents.Envelope{env}}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, wake := newSignalingStore(st)
			if err := s.Commit(context.Background(), tt.changes...); err != nil {
				t.Fatalf("Commit = %v; want nil", err)
			}
			got := false
			select {
			case <-wake:
				got = true
			default:
			}
			if got != tt.wake {
				t.Errorf("Commit(%s) woke the relay = %v; want %v", tt.name, got, tt.wake)
			}
		})
	}
}

type fakeOutbox struct {
	mu      sync.Mutex
	pending []aevents.Envelope
	reads   chan struct{} // receives after each read, if there is room
}

func (f *fakeOutbox) Outbox(ctx context.Context, limit int) ([]aevents.Envelope, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	defer func() {
		select {
		case f.reads <- struct{}{}:
		default:
		}
	}()
	return append([]aevents.Envelope(nil), f.pending[:min(limit, len(f.pending))]...), nil
}

func (f *fakeOutbox) Ack(ctx context.Context, ids []string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pending = f.pending[len(ids):]
	return nil
}

// chanBus is a bus whose one subscriber sends every event to the channel.
func chanBus(t *testing.T, c chan aevents.Envelope) *bus.Bus {
	t.Helper()
	b := bus.New(nil)
	t.Cleanup(func() { b.Close(context.Background()) })
	if err := b.Subscribe("chan", nil, func(_ context.Context, e aevents.Envelope) error {
		c <- e
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return b
}

// TestRelayWake checks that a wake-up drains the outbox long before the
// relay's interval.
func TestRelayWake(t *testing.T) {
	ob := &fakeOutbox{reads: make(chan struct{}, 1)}
	pub := make(chan aevents.Envelope, 4)
	wake := make(chan struct{}, 1)
	r := &Relay{Outbox: ob, Publisher: chanBus(t, pub), Interval: time.Hour, Wake: wake}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	defer func() {
		cancel()
		<-done
	}()
	env, err := aevents.New("ProfileUpdated", time.Now(), map[string]string{"profile_id": "p1"}, "p1", "2")
	if err != nil {
		t.Fatal(err)
	}
	// The relay drains once when it starts; add the event after that.
	select {
	case <-ob.reads:
	case <-time.After(30 * time.Second):
		t.Fatal("relay did not read the outbox when it started")
	}
	ob.mu.Lock()
	ob.pending = append(ob.pending, env)
	ob.mu.Unlock()
	wake <- struct{}{}
	select {
	case got := <-pub:
		if got.ID != env.ID {
			t.Errorf("published %s; want %s", got.ID, env.ID)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("relay with a one-hour interval did not publish after a wake-up")
	}
}
