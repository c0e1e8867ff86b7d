package activation

import (
	"context"
	"sync"
	"time"
)

// limiter spaces requests at most perSecond apart on average: each
// request takes the next slot, 1/perSecond after the previous one.
type limiter struct {
	mu    sync.Mutex
	every time.Duration
	next  time.Time
	clock func() time.Time
	sleep func(context.Context, time.Duration) error
}

func newLimiter(perSecond int, clock func() time.Time, sleep func(context.Context, time.Duration) error) *limiter {
	l := &limiter{clock: clock, sleep: sleep}
	if perSecond > 0 {
		l.every = time.Second / time.Duration(perSecond)
	}
	return l
}

// wait blocks until the caller's slot.
func (l *limiter) wait(ctx context.Context) error {
	if l.every == 0 {
		return nil
	}
	l.mu.Lock()
	now := l.clock()
	slot := l.next
	if slot.Before(now) {
		slot = now
	}
	l.next = slot.Add(l.every)
	l.mu.Unlock()
	if d := slot.Sub(now); d > 0 {
		return l.sleep(ctx, d)
	}
	return nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
