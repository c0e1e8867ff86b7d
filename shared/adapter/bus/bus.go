package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/aurum-cdp/aurum/shared/kit/retry"

	"github.com/aurum-cdp/aurum/shared/model/events"
	"github.com/aurum-cdp/aurum/shared/model/fault"
	"github.com/aurum-cdp/aurum/shared/pattern"
)

// LocalAccount is the account id of events on the local bus.
const LocalAccount = "000000000000"

// LocalRegion is the default region of events on the local bus.
const LocalRegion = "local"

// ErrClosed is returned by Publish and Subscribe after Close.
var ErrClosed = errors.New("bus: closed")

// Handler receives the events a subscriber's pattern matched. A non-nil
// error makes the bus retry the delivery with backoff.
type Handler func(ctx context.Context, env events.Envelope) error

// DeadLetter is an event a subscriber could not process.
type DeadLetter struct {
	Subscriber string
	Envelope   events.Envelope
	// Attempts is how many times the handler was called.
	Attempts int
	// Err is the last handler error (or ErrClosed when the bus closed
	// before the event could be delivered).
	Err error
}

// Option configures a Bus.
type Option func(*options)

type options struct {
	maxAttempts    int
	baseDelay      time.Duration
	maxDelay       time.Duration
	handlerTimeout time.Duration
	account        string
	region         string
	now            func() time.Time
}

// WithRetry sets how many times a handler is called for one event (at least
// 1) and the exponential backoff between calls: base doubles per attempt up
// to max, with full jitter. The default is 5 attempts, 100ms, 5s.
func WithRetry(maxAttempts int, base, max time.Duration) Option {
	return func(o *options) {
		o.maxAttempts = max1(maxAttempts)
		o.baseDelay = base
		o.maxDelay = max
	}
}

// WithHandlerTimeout bounds each handler call (default 30s).
func WithHandlerTimeout(d time.Duration) Option {
	return func(o *options) { o.handlerTimeout = d }
}

// WithRegion sets the "region" of events on the bus (default "local").
func WithRegion(region string) Option {
	return func(o *options) { o.region = region }
}

// WithAccount sets the "account" of events on the bus (default
// "000000000000").
func WithAccount(account string) Option {
	return func(o *options) { o.account = account }
}

// WithClock sets the clock used for envelopes without a time.
func WithClock(now func() time.Time) Option {
	return func(o *options) { o.now = now }
}

func max1(n int) int {
	if n < 1 {
		return 1
	}
	return n
}

// Bus is the in-process event bus of local mode. It applies EventBridge
// pattern semantics to the full EventBridge event built from each envelope
// and delivers matches asynchronously, in order, per subscriber.
type Bus struct {
	log  *slog.Logger
	opts options

	mu      sync.Mutex
	subs    []*subscriber
	dead    []DeadLetter
	closed  bool
	pending int
	idle    chan struct{} // closed when pending drops to zero

	abort     chan struct{} // closed when Close gives up waiting
	abortOnce sync.Once
	wg        sync.WaitGroup
}

type subscriber struct {
	name    string
	pattern *pattern.Pattern
	handler Handler

	mu      sync.Mutex
	queue   []queued
	closing bool
	wake    chan struct{}
}

// queued is an envelope in a subscriber's queue with the receipt of the
// Send that queued it.
type queued struct {
	env     events.Envelope
	receipt *Receipt
}

// New returns a bus. A nil logger discards logs.
func New(logger *slog.Logger, opts ...Option) *Bus {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	o := options{
		maxAttempts:    5,
		baseDelay:      100 * time.Millisecond,
		maxDelay:       5 * time.Second,
		handlerTimeout: 30 * time.Second,
		account:        LocalAccount,
		region:         LocalRegion,
		now:            time.Now,
	}
	for _, opt := range opts {
		opt(&o)
	}
	return &Bus{log: logger, opts: o, abort: make(chan struct{})}
}

// Subscribe adds a subscriber that receives the events pattern matches (a
// nil pattern matches every event). Names must be unique.
func (b *Bus) Subscribe(name string, pattern *pattern.Pattern, handler Handler) error {
	if name == "" {
		return fault.Invalidf("bus: subscribe: empty subscriber name")
	}
	if handler == nil {
		return fault.Invalidf("bus: subscribe %s: nil handler", name)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return fmt.Errorf("bus: subscribe %s: %w", name, ErrClosed)
	}
	for _, s := range b.subs {
		if s.name == name {
			return fmt.Errorf("bus: subscribe %s: %w: name already used", name, fault.ErrConflict)
		}
	}
	s := &subscriber{name: name, pattern: pattern, handler: handler, wake: make(chan struct{}, 1)}
	b.subs = append(b.subs, s)
	b.wg.Add(1)
	go b.run(s)
	return nil
}

// EventJSON returns the full EventBridge event the bus builds from env:
// version "0", id, detail-type, source, account, time, region, resources []
// and detail.
func (b *Bus) EventJSON(env events.Envelope) ([]byte, error) {
	return pattern.EventJSON(env, b.opts.account, b.opts.region, b.opts.now)
}

// Publish matches each envelope against every subscriber and queues it for
// those that match. It returns once the events are queued; delivery is
// asynchronous (Flush waits for it; Send tracks it). Envelopes are
// validated first: if any is invalid, none is queued.
func (b *Bus) Publish(ctx context.Context, envs ...events.Envelope) error {
	_, err := b.Send(ctx, envs...)
	return err
}

// Send is Publish that also returns a receipt of the delivery: it is done
// once every subscriber the envelopes matched has handled them (or
// dead-lettered them after their retries). The receipt is nil when nothing
// was queued (invalid envelopes, a closed bus); with a match error for
// some subscriber, the others still receive the event and both the
// receipt and the error are returned.
func (b *Bus) Send(ctx context.Context, envs ...events.Envelope) (*Receipt, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("bus: publish: %w", err)
	}
	flat, err := b.flatten(envs)
	if err != nil {
		return nil, err
	}
	r := newReceipt()
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil, fmt.Errorf("bus: publish: %w", ErrClosed)
	}
	errs := b.routeLocked(envs, flat, r)
	b.mu.Unlock()
	r.finish("", false) // everything is queued: release Send's hold
	return r, errors.Join(errs...)
}

// flatten validates each envelope and flattens its full event for
// matching.
func (b *Bus) flatten(envs []events.Envelope) ([]*pattern.Flat, error) {
	flat := make([]*pattern.Flat, len(envs))
	for i, env := range envs {
		raw, err := b.EventJSON(env)
		if err != nil {
			return nil, err
		}
		fe, err := pattern.Flatten(raw)
		if err != nil {
			return nil, fmt.Errorf("bus: publish %s: %w", env.ID, err)
		}
		flat[i] = fe
	}
	return flat, nil
}

// routeLocked queues each envelope, under r, for every subscriber whose
// pattern matches it, in order.
func (b *Bus) routeLocked(envs []events.Envelope, flat []*pattern.Flat, r *Receipt) []error {
	var errs []error
	for i, env := range envs {
		for _, s := range b.subs {
			if s.pattern != nil {
				ok, err := s.pattern.MatchFlat(flat[i])
				if err != nil {
					errs = append(errs, fmt.Errorf("bus: match %s for subscriber %s: %w", env.ID, s.name, err))
					continue
				}
				if !ok {
					continue
				}
			}
			b.enqueueLocked(s, queued{env: env, receipt: r})
		}
	}
	return errs
}

func (b *Bus) enqueueLocked(s *subscriber, q queued) {
	if b.pending == 0 {
		b.idle = make(chan struct{})
	}
	b.pending++
	q.receipt.add()
	s.mu.Lock()
	s.queue = append(s.queue, q)
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (b *Bus) done() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.pending--
	if b.pending == 0 {
		close(b.idle)
	}
}

// run is the delivery loop of one subscriber.
func (b *Bus) run(s *subscriber) {
	defer b.wg.Done()
	for {
		s.mu.Lock()
		if len(s.queue) == 0 {
			closing := s.closing
			s.mu.Unlock()
			if closing {
				return
			}
			select {
			case <-s.wake:
			case <-b.abort:
			}
			continue
		}
		q := s.queue[0]
		s.queue[0] = queued{}
		s.queue = s.queue[1:]
		s.mu.Unlock()

		aborted := true
		select {
		case <-b.abort:
			b.deadLetter(s, q.env, 0, ErrClosed)
		default:
			aborted = b.deliver(s, q.env)
		}
		q.receipt.finish(q.env.ID, aborted)
		b.done()
	}
}

// deliver calls the handler until it succeeds or the attempts run out. It
// reports whether it gave up because the bus aborted (Close whose context
// ended): the event was then not handled for good.
func (b *Bus) deliver(s *subscriber, env events.Envelope) (aborted bool) {
	var err error
	for attempt := 1; attempt <= b.opts.maxAttempts; attempt++ {
		err = b.call(s, env)
		if err == nil {
			return false
		}
		b.log.Warn("bus: handler failed",
			slog.String("subscriber", s.name),
			slog.String("event_id", env.ID),
			slog.String("detail_type", env.DetailType),
			slog.Int("attempt", attempt),
			slog.String("error", err.Error()))
		if b.aborting() {
			// The handler's context was cancelled: not a failure of its own.
			b.deadLetter(s, env, attempt, errors.Join(err, ErrClosed))
			return true
		}
		if attempt == b.opts.maxAttempts {
			break
		}
		timer := time.NewTimer(retry.Backoff(b.opts.baseDelay, b.opts.maxDelay, attempt))
		select {
		case <-timer.C:
		case <-b.abort:
			timer.Stop()
			b.deadLetter(s, env, attempt, errors.Join(err, ErrClosed))
			return true
		}
	}
	b.deadLetter(s, env, b.opts.maxAttempts, err)
	return false
}

// aborting reports whether Close gave up waiting.
func (b *Bus) aborting() bool {
	select {
	case <-b.abort:
		return true
	default:
		return false
	}
}

// call runs the handler once with a timeout, cancelled if the bus aborts,
// and turns a handler panic into an error.
func (b *Bus) call(s *subscriber, env events.Envelope) (err error) {
	ctx, cancel := context.WithTimeout(context.Background(), b.opts.handlerTimeout)
	defer cancel()
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		select {
		case <-b.abort:
			cancel()
		case <-stop:
		}
	}()
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("bus: subscriber %s: handler panicked: %v", s.name, r)
		}
	}()
	return s.handler(ctx, env)
}

func (b *Bus) deadLetter(s *subscriber, env events.Envelope, attempts int, err error) {
	b.log.Error("bus: event dead-lettered",
		slog.String("subscriber", s.name),
		slog.String("event_id", env.ID),
		slog.String("detail_type", env.DetailType),
		slog.Int("attempts", attempts))
	b.mu.Lock()
	b.dead = append(b.dead, DeadLetter{Subscriber: s.name, Envelope: env, Attempts: attempts, Err: err})
	b.mu.Unlock()
}

// DeadLetters returns a copy of the events that exhausted their retries.
func (b *Bus) DeadLetters() []DeadLetter {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]DeadLetter(nil), b.dead...)
}

// Flush waits until every queued event has been delivered or dead-lettered.
func (b *Bus) Flush(ctx context.Context) error {
	b.mu.Lock()
	if b.pending == 0 {
		b.mu.Unlock()
		return nil
	}
	idle := b.idle
	b.mu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("bus: flush: %w", ctx.Err())
	}
}

// Close stops accepting events and waits for the queues to drain. If ctx
// ends first, in-flight handlers are cancelled, undelivered events are
// dead-lettered with ErrClosed, and ctx's error is returned. Close is
// idempotent.
func (b *Bus) Close(ctx context.Context) error {
	b.mu.Lock()
	if !b.closed {
		b.closed = true
		for _, s := range b.subs {
			s.mu.Lock()
			s.closing = true
			s.mu.Unlock()
			select {
			case s.wake <- struct{}{}:
			default:
			}
		}
	}
	b.mu.Unlock()

	drained := make(chan struct{})
	go func() {
		b.wg.Wait()
		close(drained)
	}()
	select {
	case <-drained:
		return nil
	case <-ctx.Done():
		b.abortOnce.Do(func() { close(b.abort) })
		<-drained
		return fmt.Errorf("bus: close: %w", ctx.Err())
	}
}
