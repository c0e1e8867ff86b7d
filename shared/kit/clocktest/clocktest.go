// Package clocktest is a settable clock for tests: pass Clock.Now where a
// constructor takes a clock (func() time.Time), then move time with Set
// or Advance. It is safe for concurrent use, so the code under test may
// read it from other goroutines.
package clocktest

import (
	"sync"
	"time"
)

// Clock is a fake clock standing still at the time it was last set.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// New returns a clock at t.
func New(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// Advance moves the clock d forward (backward when d is negative).
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
