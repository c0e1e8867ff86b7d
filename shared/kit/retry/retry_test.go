package retry_test

import (
	"context"
	"testing"
	"time"

	"github.com/aurum-cdp/aurum/shared/kit/retry"
)

func TestBackoffBounds(t *testing.T) {
	tests := []struct {
		name      string
		base, max time.Duration
		attempt   int
		want      time.Duration // upper bound
	}{
		{"first attempt", 10 * time.Millisecond, time.Second, 1, 10 * time.Millisecond},
		{"doubles", 10 * time.Millisecond, time.Second, 4, 80 * time.Millisecond},
		{"capped", 10 * time.Millisecond, 50 * time.Millisecond, 10, 50 * time.Millisecond},
		{"no cap", time.Millisecond, 0, 6, 32 * time.Millisecond},
		{"no base", 0, time.Second, 3, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var maxSeen time.Duration
			for range 2000 {
				d := retry.Backoff(tt.base, tt.max, tt.attempt)
				if d < 0 || d > tt.want {
					t.Fatalf("Backoff(%v, %v, %d) = %v; want within [0, %v]", tt.base, tt.max, tt.attempt, d, tt.want)
				}
				maxSeen = max(maxSeen, d)
			}
			if tt.want > 0 && maxSeen < tt.want/2 {
				t.Errorf("Backoff(%v, %v, %d) never exceeded %v in 2000 draws; want jitter up to %v", tt.base, tt.max, tt.attempt, maxSeen, tt.want)
			}
		})
	}
}

func TestSleepHonoursContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := retry.Sleep(ctx, time.Hour); err != context.Canceled {
		t.Errorf("Sleep(cancelled, 1h) = %v; want context.Canceled", err)
	}
	if err := retry.Sleep(context.Background(), time.Millisecond); err != nil {
		t.Errorf("Sleep(1ms) = %v; want nil", err)
	}
}
