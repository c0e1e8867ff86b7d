package bus

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aurum-cdp/aurum/shared/model/events"
	"github.com/aurum-cdp/aurum/shared/model/fault"
)

// gated is a handler that records the events it finished and, for the
// ids in hold, signals started and waits until open is closed (or its
// context ends).
type gated struct {
	hold    map[string]bool
	started chan string
	open    chan struct{}

	mu   sync.Mutex
	done []string
}

func newGated(hold ...string) *gated {
	g := &gated{hold: map[string]bool{}, started: make(chan string, 16), open: make(chan struct{})}
	for _, id := range hold {
		g.hold[id] = true
	}
	return g
}

func (g *gated) handle(ctx context.Context, env events.Envelope) error {
	if g.hold[env.ID] {
		g.started <- env.ID
		select {
		case <-g.open:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.done = append(g.done, env.ID)
	return nil
}

func (g *gated) handled() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.done)
}

func isDone(r *Receipt) bool {
	select {
	case <-r.Done():
		return true
	default:
		return false
	}
}

func wait(t *testing.T, r *Receipt) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return r.Wait(ctx)
}

// A receipt is done only once every matching subscriber handled the events:
// a slow subscriber holds it, a non-matching one does not count.
func TestSendReceiptWaitsForEverySubscriber(t *testing.T) {
	b := newTestBus(t)
	slow := newGated("e1")
	var fast recorder
	if err := b.Subscribe("slow", nil, slow.handle); err != nil {
		t.Fatal(err)
	}
	if err := b.Subscribe("fast", nil, fast.handle); err != nil {
		t.Fatal(err)
	}
	if err := b.Subscribe("elsewhere", mustPattern(t, `{"detail-type":["Other"]}`), newGated("e1", "e2").handle); err != nil {
		t.Fatal(err)
	}
	r, err := b.Send(context.Background(), envelope(t, "e1", "T", `{}`), envelope(t, "e2", "T", `{}`))
	if err != nil || r == nil {
		t.Fatalf("Send = %v, %v; want a receipt", r, err)
	}
	<-slow.started // the slow handler holds e1 now
	if isDone(r) {
		t.Fatalf("receipt done while subscriber slow still handles e1")
	}
	close(slow.open)
	if err := wait(t, r); err != nil {
		t.Fatalf("Wait = %v; want nil", err)
	}
	if got := slow.handled(); !slices.Equal(got, []string{"e1", "e2"}) {
		t.Errorf("when the receipt was done, slow had handled %v; want [e1 e2]", got)
	}
	if got := fast.ids(); !slices.Equal(got, []string{"e1", "e2"}) {
		t.Errorf("when the receipt was done, fast had handled %v; want [e1 e2]", got)
	}
	if ids := r.Undelivered(); len(ids) != 0 {
		t.Errorf("Undelivered() = %v; want none", ids)
	}
}

func TestSendReceiptOutcomes(t *testing.T) {
	tests := []struct {
		name string
		// subscribe wires the bus; events e1 and e2 of type T are sent.
		subscribe func(t *testing.T, b *Bus)
		// undelivered is what Undelivered returns; dead how many dead letters.
		undelivered []string
		dead        int
	}{
		{"no subscriber matches", func(t *testing.T, b *Bus) {
			if err := b.Subscribe("other", mustPattern(t, `{"detail-type":["Other"]}`), (&recorder{}).handle); err != nil {
				t.Fatal(err)
			}
		}, nil, 0},
		{"dead-lettered after its retries counts as handled", func(t *testing.T, b *Bus) {
			if err := b.Subscribe("failing", nil, (&recorder{fails: map[string]int{"e1": 100}}).handle); err != nil {
				t.Fatal(err)
			}
		}, nil, 1},
		{"a panic dead-lettered counts as handled", func(t *testing.T, b *Bus) {
			if err := b.Subscribe("panicky", nil, func(context.Context, events.Envelope) error { panic("boom") }); err != nil {
				t.Fatal(err)
			}
		}, nil, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newTestBus(t)
			tt.subscribe(t, b)
			r, err := b.Send(context.Background(), envelope(t, "e1", "T", `{}`), envelope(t, "e2", "T", `{}`))
			if err != nil {
				t.Fatalf("Send = %v", err)
			}
			if err := wait(t, r); err != nil {
				t.Errorf("Wait = %v; want nil", err)
			}
			if got := r.Undelivered(); !slices.Equal(got, tt.undelivered) {
				t.Errorf("Undelivered() = %v; want %v", got, tt.undelivered)
			}
			if got := len(b.DeadLetters()); got != tt.dead {
				t.Errorf("DeadLetters() has %d entries; want %d", got, tt.dead)
			}
		})
	}
}

// Events the bus gave up on when Close's context ended are undelivered:
// the handler in progress, the retry in its backoff and the queued event.
func TestSendReceiptUndeliveredOnAbort(t *testing.T) {
	tests := []struct {
		name    string
		handler func(g *gated) Handler
	}{
		{"handler in progress", func(g *gated) Handler { return g.handle }},
		{"retry waiting in its backoff", func(g *gated) Handler {
			return func(ctx context.Context, env events.Envelope) error {
				if env.ID == "e1" {
					g.started <- env.ID
					return errors.New("injected failure")
				}
				return g.handle(ctx, env)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := New(nil, WithRetry(5, time.Hour, time.Hour))
			g := newGated("e1")
			if err := b.Subscribe("stuck", nil, tt.handler(g)); err != nil {
				t.Fatal(err)
			}
			r, err := b.Send(context.Background(), envelope(t, "e1", "T", `{}`), envelope(t, "e2", "T", `{}`))
			if err != nil {
				t.Fatal(err)
			}
			<-g.started
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			if err := b.Close(ctx); !errors.Is(err, context.Canceled) {
				t.Fatalf("Close(cancelled) = %v; want context.Canceled", err)
			}
			if err := wait(t, r); !errors.Is(err, ErrClosed) {
				t.Errorf("Wait = %v; want ErrClosed", err)
			}
			if got := r.Undelivered(); !slices.Equal(got, []string{"e1", "e2"}) {
				t.Errorf("Undelivered() = %v; want [e1 e2]", got)
			}
		})
	}
}

func TestSendNothingQueued(t *testing.T) {
	closed := New(nil)
	if err := closed.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name string
		bus  *Bus
		ctx  context.Context
		env  events.Envelope
		want error
	}{
		{"invalid envelope", newTestBus(t), context.Background(), events.Envelope{ID: "x"}, fault.ErrInvalid},
		{"closed bus", closed, context.Background(), envelope(t, "e1", "T", `{}`), ErrClosed},
		{"cancelled context", newTestBus(t), cancelled, envelope(t, "e1", "T", `{}`), context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := tt.bus.Send(tt.ctx, tt.env)
			if r != nil || !errors.Is(err, tt.want) {
				t.Errorf("Send = %v, %v; want no receipt and %v", r, err, tt.want)
			}
		})
	}
}

// A fast subscriber finishing while Send still queues cannot complete the
// receipt early: when Wait returns, every event was handled.
func TestSendReceiptNotEarly(t *testing.T) {
	b := newTestBus(t)
	var rec recorder
	if err := b.Subscribe("fast", nil, rec.handle); err != nil {
		t.Fatal(err)
	}
	const rounds, per = 200, 5
	for i := range rounds {
		envs := make([]events.Envelope, per)
		for j := range envs {
			envs[j] = envelope(t, fmt.Sprintf("e%d-%d", i, j), "T", `{}`)
		}
		r, err := b.Send(context.Background(), envs...)
		if err != nil {
			t.Fatal(err)
		}
		if err := wait(t, r); err != nil {
			t.Fatal(err)
		}
		if got, want := len(rec.ids()), (i+1)*per; got != want {
			t.Fatalf("round %d: receipt done after %d events handled; want %d", i, got, want)
		}
	}
}
