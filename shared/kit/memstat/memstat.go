// Package memstat measures memory for benchmarks: the peak live heap while
// a piece of work runs, sampled from runtime/metrics.
package memstat

import (
	"runtime/metrics"
	"time"
)

// PeakHeap samples the heap held by live and not yet swept objects every
// 5 ms until stop is closed, and returns the largest value seen, in bytes.
func PeakHeap(stop <-chan struct{}) uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	var peak uint64
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for {
		metrics.Read(s)
		if v := s[0].Value.Uint64(); v > peak {
			peak = v
		}
		select {
		case <-stop:
			return peak
		case <-t.C:
		}
	}
}
