package clocktest_test

import (
	"sync"
	"testing"
	"time"

	"github.com/aurum-cdp/aurum/shared/kit/clocktest"
)

func TestClock(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		move func(c *clocktest.Clock)
		want time.Time
	}{
		{"stands still", func(*clocktest.Clock) {}, t0},
		{"set", func(c *clocktest.Clock) { c.Set(t0.Add(time.Hour)) }, t0.Add(time.Hour)},
		{"advance", func(c *clocktest.Clock) { c.Advance(90 * time.Minute) }, t0.Add(90 * time.Minute)},
		{"back", func(c *clocktest.Clock) { c.Advance(-time.Minute) }, t0.Add(-time.Minute)},
		{"set then advance", func(c *clocktest.Clock) { c.Set(t0.Add(time.Hour)); c.Advance(time.Second) }, t0.Add(time.Hour + time.Second)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := clocktest.New(t0)
			tt.move(c)
			if got := c.Now(); !got.Equal(tt.want) {
				t.Errorf("Now() = %v; want %v", got, tt.want)
			}
		})
	}
}

// TestConcurrent lets the race detector see concurrent reads and moves.
func TestConcurrent(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	c := clocktest.New(t0)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 100 {
				c.Advance(time.Second)
				_ = c.Now()
			}
		})
	}
	wg.Wait()
	if got, want := c.Now(), t0.Add(400*time.Second); !got.Equal(want) {
		t.Errorf("Now() after 400 advances of 1s = %v; want %v", got, want)
	}
}
