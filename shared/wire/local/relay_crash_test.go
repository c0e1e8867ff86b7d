package local_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aurum-cdp/aurum/shared/adapter/bus"
	"github.com/aurum-cdp/aurum/shared/adapter/embedded"
	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/core/trigger"
	"github.com/aurum-cdp/aurum/shared/destination"
	"github.com/aurum-cdp/aurum/shared/destination/event"
	"github.com/aurum-cdp/aurum/shared/http/dashboard"
	aevents "github.com/aurum-cdp/aurum/shared/model/events"
	"github.com/aurum-cdp/aurum/shared/model/profile"
	"github.com/aurum-cdp/aurum/shared/port/store"
	"github.com/aurum-cdp/aurum/shared/wire/local"
)

// relayActions is the receiver of the crash tests' trigger: it counts the
// deliveries of each firing id, across restarts.
type relayActions struct {
	mu sync.Mutex
	n  map[string]int
}

func (a *relayActions) Deliver(_ context.Context, d destination.Delivery) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.n[d.ID]++
	return nil
}

func (a *relayActions) counts() map[string]int {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := map[string]int{}
	for k, v := range a.n {
		out[k] = v
	}
	return out
}

func (a *relayActions) total() int {
	n := 0
	for _, v := range a.counts() {
		n += v
	}
	return n
}

// relayProcess is one run of local mode's delivery path over a store: the
// relay, the bus, the trigger engine (a webhook-like action counted by
// relayActions, and the TriggerFired event), the dashboard's recorder and
// a test subscriber.
type relayProcess struct {
	st       *embedded.Store
	bus      *bus.Bus
	relay    *local.Relay
	sub      *relaySub
	mu       sync.Mutex
	triggers int // events the trigger engine handled
}

const relayTrigger = "relay-vip"

func startRelayProcess(t *testing.T, path string, actions *relayActions, sub *relaySub, opts ...bus.Option) *relayProcess {
	t.Helper()
	p := &relayProcess{st: openRelayStore(t, path), sub: sub}
	kinds, err := destination.NewRegistry(destination.Kind{Name: "webhook", Build: func(config.TriggerAction) (destination.Action, error) {
		return actions, nil
	}}, event.Kind())
	if err != nil {
		t.Fatal(err)
	}
	eng, err := trigger.New([]config.Trigger{{
		ID: relayTrigger, When: config.TriggerWhen{SegmentEntered: "vip"},
		Actions: []config.TriggerAction{
			{Webhook: &config.WebhookAction{URL: "https://hooks.example.com/vip", Secret: &config.SecretRef{Env: "S"}}},
			{Event: &config.EventAction{}},
		},
	}}, trigger.Deps{Profiles: p.st, State: p.st, Actions: kinds, DeadLetters: trigger.NewMemoryDeadLetters(nil)}, trigger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p.bus = bus.New(nil, append([]bus.Option{bus.WithRetry(3, time.Millisecond, time.Millisecond)}, opts...)...)
	relaySubscribe(t, p.bus, "triggers", func(ctx context.Context, env aevents.Envelope) error {
		err := eng.Handle(ctx, env)
		p.mu.Lock()
		p.triggers++
		p.mu.Unlock()
		return err
	})
	relaySubscribe(t, p.bus, "dashboard", dashboard.NewRecorder(p.st, nil).Handle)
	relaySubscribe(t, p.bus, "test", sub.handle)
	p.relay = &local.Relay{Outbox: p.st, Publisher: p.bus, Batch: 2}
	return p
}

func (p *relayProcess) handledByTriggers() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.triggers
}

// crash ends the process without acknowledging what is in flight: the
// relay's context is cancelled, the bus gives up at once (handlers
// cancelled, queued events dropped), the store is closed.
func (p *relayProcess) crash(t *testing.T, cancel context.CancelFunc, done <-chan relayDrained) {
	t.Helper()
	cancel()
	relayWaitDrained(t, done)
	ctx, stop := context.WithCancel(context.Background())
	stop()
	_ = p.bus.Close(ctx)
	if err := p.st.Close(); err != nil {
		t.Fatal(err)
	}
}

// stop closes the bus after its queues drained, and the store.
func (p *relayProcess) stop(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), relayTimeout)
	defer cancel()
	if err := p.bus.Close(ctx); err != nil {
		t.Errorf("bus.Close = %v", err)
	}
	if err := p.st.Close(); err != nil {
		t.Fatal(err)
	}
}

// seedRelayStore stores n profiles and, in the outbox, a SegmentEntered
// vip and a ProfileUpdated for each; it returns the events' ids in outbox
// order and the firing ids the trigger must fire once each.
func seedRelayStore(t *testing.T, path string, n int) (ids, firings []string) {
	t.Helper()
	st := openRelayStore(t, path)
	defer st.Close()
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	var ch store.Change
	for i := range n {
		id := fmt.Sprintf("p%d", i)
		ch.Profiles = append(ch.Profiles, store.ProfileWrite{Profile: profile.Profile{ID: id, Version: 1, CreatedAt: at, UpdatedAt: at}})
		entered, err := aevents.New(aevents.TypeSegmentEntered, at, aevents.SegmentEntered{
			Version: aevents.SchemaVersion, ProfileID: id, SegmentID: "vip", At: at, ProfileVersion: 1, Cause: "change",
		}, id, "vip")
		if err != nil {
			t.Fatal(err)
		}
		updated, err := aevents.New(aevents.TypeProfileUpdated, at, aevents.ProfileUpdated{
			Version: aevents.SchemaVersion, ProfileID: id, ProfileVersion: 1,
		}, id, "1")
		if err != nil {
			t.Fatal(err)
		}
		ch.Outbox = append(ch.Outbox, entered, updated)
		ids = append(ids, entered.ID, updated.ID)
		firings = append(firings, trigger.Pending{TriggerID: relayTrigger, ProfileID: id, Cause: aevents.Cause{EventID: entered.ID}}.FiringID())
	}
	if err := st.Commit(context.Background(), ch); err != nil {
		t.Fatal(err)
	}
	return ids, firings
}

// relayWaitUntil polls cond until it holds, failing after relayTimeout.
func relayWaitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(relayTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// The process "crashes" while a subscriber holds an event between publish
// and acknowledgement: after a restart on the same store every outbox
// event (the seeded ones and the TriggerFired the firings wrote) reaches
// the subscriber at least once, nothing is left in the outbox, every
// firing happened exactly once, and re-delivering everything once more
// changes neither the actions nor the dashboard's recent firings.
func TestRelayCrashRedelivers(t *testing.T) {
	tests := []struct {
		name string
		// mark makes the test subscriber hold or fail id in the first run.
		mark func(s *relaySub, id string)
		opts []bus.Option
	}{
		{"slow subscriber", func(s *relaySub, id string) { s.hold[id] = true }, nil},
		{"failing subscriber waiting to retry", func(s *relaySub, id string) { s.fail[id] = true },
			[]bus.Option{bus.WithRetry(5, time.Hour, time.Hour)}},
	}
	const profiles = 4
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "aurum.db")
			ids, firings := seedRelayStore(t, path, profiles)
			actions := &relayActions{n: map[string]int{}}

			// First run: the test subscriber is stuck on the second event.
			sub1 := newRelaySub()
			tt.mark(sub1, ids[1])
			p1 := startRelayProcess(t, path, actions, sub1, tt.opts...)
			ctx, cancel := context.WithCancel(context.Background())
			done := relayDrainAsync(ctx, p1.relay)
			sub1.waitHeld(t, ids[1])
			relayWaitUntil(t, "the trigger engine to handle the seeded events", func() bool {
				return p1.handledByTriggers() >= len(ids) && actions.total() >= profiles
			})
			p1.crash(t, cancel, done)

			st := openRelayStore(t, path)
			left := relayOutboxIDs(t, st)
			st.Close()
			for _, id := range ids[1:] {
				if !slices.Contains(left, id) {
					t.Errorf("after the crash the outbox lacks %s, which the test subscriber had not handled", id)
				}
			}

			// Second run on the same store: everything is delivered.
			sub2 := newRelaySub()
			p2 := startRelayProcess(t, path, actions, sub2)
			if d := relayWaitDrained(t, relayDrainAsync(context.Background(), p2.relay)); d.err != nil {
				t.Fatalf("Drain after the restart = %v", d.err)
			}
			if left := relayOutboxIDs(t, p2.st); len(left) != 0 {
				t.Errorf("after the restart's Drain the outbox holds %v; want nothing", left)
			}
			// A re-delivery of everything the subscriber saw.
			again := append(sub1.handledEnvelopes(), sub2.handledEnvelopes()...)
			r, err := p2.bus.Send(context.Background(), again...)
			if err != nil {
				t.Fatal(err)
			}
			if err := r.Wait(context.Background()); err != nil {
				t.Fatal(err)
			}
			recent, err := dashboard.Recent(context.Background(), p2.st, 100, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			p2.stop(t)

			seen := append(sub1.handled(), sub2.handled()...)
			for _, id := range append(ids, firings...) {
				if !slices.Contains(seen, id) {
					t.Errorf("event %s never reached the test subscriber", id)
				}
			}
			got := actions.counts()
			for _, f := range firings {
				if got[f] != 1 {
					t.Errorf("firing %s ran its action %d times; want 1", f, got[f])
				}
			}
			if len(got) != len(firings) {
				t.Errorf("actions ran for %d firings; want %d", len(got), len(firings))
			}
			if len(recent) != len(firings) {
				t.Errorf("the dashboard lists %d recent firings after re-deliveries; want %d", len(recent), len(firings))
			}
		})
	}
}

// A subscriber that fails an event for good does not block the outbox:
// the event is dead-lettered after its retries, acknowledged, and not
// published again by the next Drain.
func TestRelayDeadLetteredIsAcknowledged(t *testing.T) {
	path := filepath.Join(t.TempDir(), "aurum.db")
	ids, _ := seedRelayStore(t, path, 1)
	sub := newRelaySub()
	sub.fail[ids[0]] = true
	p := startRelayProcess(t, path, &relayActions{n: map[string]int{}}, sub)
	defer p.stop(t)
	for i := range 2 {
		d := relayWaitDrained(t, relayDrainAsync(context.Background(), p.relay))
		if d.err != nil {
			t.Fatalf("Drain #%d = %v", i+1, d.err)
		}
	}
	if left := relayOutboxIDs(t, p.st); len(left) != 0 {
		t.Errorf("outbox holds %v; want nothing", left)
	}
	dead := 0
	for _, d := range p.bus.DeadLetters() {
		if d.Subscriber == "test" && d.Envelope.ID == ids[0] {
			dead++
		}
	}
	if dead != 1 {
		t.Errorf("test subscriber's dead letters for %s = %d; want 1 (no re-publication)", ids[0], dead)
	}
}
