package trigger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/aurum-cdp/aurum/shared/model/fault"
	"github.com/aurum-cdp/aurum/shared/port/store"
)

// pendingKey is the one partition holding local mode's delayed firings.
const pendingKey = "all"

// StoreScheduler is local mode's stand-in for EventBridge Scheduler: it
// keeps delayed firings as store items (so they survive a restart) and
// fires those that are due whenever FireDue runs, judged by its clock.
// Run calls FireDue periodically; tests drive FireDue with a fake clock.
type StoreScheduler struct {
	state State
	now   func() time.Time
	log   *slog.Logger
	mu    sync.Mutex // one FireDue at a time
}

// NewStoreScheduler returns a scheduler keeping its items in state. A nil
// clock is time.Now; a nil logger discards.
func NewStoreScheduler(state State, now func() time.Time, log *slog.Logger) *StoreScheduler {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &StoreScheduler{state: state, now: now, log: log}
}

// Schedule stores p until it is due. Scheduling the same firing again
// overwrites it.
func (s *StoreScheduler) Schedule(ctx context.Context, p Pending) error {
	val, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("trigger: encode pending firing: %w", err)
	}
	it := store.Item{Kind: KindPending, Key: pendingKey, Sort: sortable(p.Due) + "#" + p.FiringID(), Value: val}
	if err := s.state.Commit(ctx, store.Change{Items: []store.ItemWrite{{Op: store.ItemPut, Item: it}}}); err != nil {
		return fmt.Errorf("trigger: store pending firing: %w", err)
	}
	return nil
}

// FireDue calls fire for every firing due by now, oldest first, and
// removes it. A firing whose fire returns a retryable error stays and is
// tried again on the next call; any other error drops it (it is logged).
// It returns how many firings it removed.
func (s *StoreScheduler) FireDue(ctx context.Context, fire func(ctx context.Context, p Pending) error) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	to := sortable(s.now().Add(time.Nanosecond))
	n := 0
	cursor := ""
	for {
		its, next, err := s.state.Items(ctx, KindPending, pendingKey, "", to, 100, cursor)
		if err != nil {
			return n, fmt.Errorf("trigger: read pending firings: %w", err)
		}
		for _, it := range its {
			var p Pending
			if err := json.Unmarshal(it.Value, &p); err != nil {
				s.log.ErrorContext(ctx, "trigger: unreadable pending firing dropped", slog.String("sort", it.Sort))
			} else if err := fire(ctx, p); err != nil {
				if errors.Is(err, fault.ErrRetryable) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
					continue
				}
				s.log.ErrorContext(ctx, "trigger: pending firing failed; dropped", slog.String("firing_id", p.FiringID()), slog.String("error", err.Error()))
			}
			del := store.ItemWrite{Op: store.ItemDelete, Item: store.Item{Kind: KindPending, Key: pendingKey, Sort: it.Sort}}
			if err := s.state.Commit(ctx, store.Change{Items: []store.ItemWrite{del}}); err != nil {
				return n, fmt.Errorf("trigger: remove pending firing: %w", err)
			}
			n++
		}
		if next == "" {
			return n, nil
		}
		cursor = next
	}
}

// Run calls FireDue every interval (1s if zero) until ctx is done.
func (s *StoreScheduler) Run(ctx context.Context, interval time.Duration, fire func(ctx context.Context, p Pending) error) error {
	if interval <= 0 {
		interval = time.Second
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := s.FireDue(ctx, fire); err != nil && ctx.Err() == nil {
			s.log.WarnContext(ctx, "trigger: scheduler", slog.String("error", err.Error()))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// MemoryDeadLetters is local mode's dead-letter sink: a list in memory,
// each entry also logged (ids and the error, never the payload).
type MemoryDeadLetters struct {
	mu   sync.Mutex
	list []DeadLetter
	log  *slog.Logger
}

// NewMemoryDeadLetters returns an empty sink logging to log (nil discards).
func NewMemoryDeadLetters(log *slog.Logger) *MemoryDeadLetters {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &MemoryDeadLetters{log: log}
}

// DeadLetter keeps d.
func (m *MemoryDeadLetters) DeadLetter(ctx context.Context, d DeadLetter) error {
	m.log.ErrorContext(ctx, "trigger: dead letter", slog.String("trigger", d.TriggerID), slog.String("firing_id", d.FiringID),
		slog.String("action", d.Action), slog.Int("index", d.ActionIndex), slog.String("error", d.Error))
	m.mu.Lock()
	defer m.mu.Unlock()
	m.list = append(m.list, d)
	return nil
}

// List returns a copy of the dead letters.
func (m *MemoryDeadLetters) List() []DeadLetter {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]DeadLetter(nil), m.list...)
}
