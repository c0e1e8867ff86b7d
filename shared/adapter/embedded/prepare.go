package embedded

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/aurum-cdp/aurum/shared/port/store"
)

// parallelPrepare is the smallest number of change sets per worker worth
// a goroutine.
const parallelPrepare = 16

// prepareAll prepares changes and returns, in order, the prepared change
// sets before the first invalid one, and why that one is invalid (nil when
// none is). Encoding values (JSON, then deflate) is most of a commit's
// work and needs no transaction, so a batch is encoded on every core.
func prepareAll(changes []store.Change) ([]*change, error) {
	out := make([]*change, len(changes))
	errs := make([]error, len(changes))
	workers := min(runtime.GOMAXPROCS(0), len(changes)/parallelPrepare)
	if workers <= 1 {
		for i, c := range changes {
			if out[i], errs[i] = prepare(c); errs[i] != nil {
				break
			}
		}
	} else {
		var next atomic.Int64
		var wg sync.WaitGroup
		for range workers {
			wg.Go(func() {
				for i := int(next.Add(1) - 1); i < len(changes); i = int(next.Add(1) - 1) {
					out[i], errs[i] = prepare(changes[i])
				}
			})
		}
		wg.Wait()
	}
	for i, err := range errs {
		if err != nil {
			return out[:i], fmt.Errorf("embedded: commit change %d: %w", i, err)
		}
	}
	return out, nil
}
