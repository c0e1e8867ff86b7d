// Package retry holds the backoff used wherever Aurum retries: commits that
// lost an optimistic check, partially failed PutEvents, bus deliveries and
// webhook calls.
package retry

import (
	"context"
	"math/rand/v2"
	"time"
)

// Backoff returns a full-jitter delay for the given attempt (1-based):
// uniform in [0, min(max, base·2^(attempt-1))]. A max of 0 means no cap.
func Backoff(base, max time.Duration, attempt int) time.Duration {
	if base <= 0 {
		return 0
	}
	d := base
	for i := 1; i < attempt && (max <= 0 || d < max); i++ {
		d *= 2
	}
	if max > 0 && d > max {
		d = max
	}
	return rand.N(d + 1)
}

// Sleep waits for d or until ctx is done, and returns ctx's error then.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
