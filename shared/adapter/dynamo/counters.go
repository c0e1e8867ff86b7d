package dynamo

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/aurum-cdp/aurum/shared/port/store"
)

// CounterFlush makes a Store keep the adds to counter items in memory,
// summed per item, and send them together later (Options.Counters):
// counters that a caller adds to once per call (pipeline.Fold: the
// identity statistics of each stream batch) then cost one write per
// counter per flush instead of one per counter per call.
//
// A deferred write is a change of one ItemAdd to a generic item of one of
// Kinds, without expected version, value or expiry. Commit returns once
// it is added to the pending delta of its item; reads do not see it until
// it is sent. Pending deltas are sent by the first Commit that defers an
// add after the oldest is MaxAge old or once MaxItems items have one, and
// by FlushCounters (a function calls it before its instance ends; Close
// does too); a Commit that defers nothing sends only the pending deltas
// of the items it writes, first, so writes to one item keep their order.
// A delta whose send fails is dropped, never sent again: what an
// instance that dies holds, or a send that may or may not have been
// applied, is lost, but nothing is counted twice (at most once, as the
// counters of a crashed call were before).
type CounterFlush struct {
	// Kinds are the generic item kinds whose adds are deferred; none means
	// every write is sent at once.
	Kinds []string
	// Summed are those of Kinds whose readers add N up over every key of
	// the kind (the shards of a counter, such as identity.ItemStats): the
	// deltas of one sort are merged under the first key this store
	// deferred an add to for the kind, whichever shard each named.
	Summed []string
	// MaxAge bounds how long a delta waits (0: sent at the end of the
	// Commit that deferred it, merged only within that call).
	MaxAge time.Duration
	// MaxItems sends the pending deltas once this many items have one (0:
	// no bound).
	MaxItems int
}

// itemRef names a generic item.
type itemRef struct{ kind, key, sort string }

// counterBuffer holds a Store's deferred adds.
type counterBuffer struct {
	f      CounterFlush
	kinds  map[string]bool
	summed map[string]bool

	mu      sync.Mutex
	pending map[itemRef]int64 // the sum of the deferred adds
	since   time.Time         // when the oldest pending delta was deferred
	canon   map[string]string // summed kind → the key its adds go to

	// sending serialises sends: a write sent after flushTouched cannot be
	// overtaken by an add to its item that a flush still has in flight.
	sending sync.Mutex
}

func newCounterBuffer(f CounterFlush) *counterBuffer {
	b := &counterBuffer{f: f, kinds: map[string]bool{}, summed: map[string]bool{},
		pending: map[itemRef]int64{}, canon: map[string]string{}}
	for _, k := range f.Kinds {
		b.kinds[k] = true
	}
	for _, k := range f.Summed {
		b.summed[k] = true
	}
	return b
}

// deferrable returns the add of ch when ch is one the buffer takes.
func (b *counterBuffer) deferrable(ch store.Change) (store.ItemWrite, bool) {
	if len(ch.Items) != 1 || len(ch.Keys)+len(ch.Records)+len(ch.Profiles)+len(ch.Redirects)+len(ch.Claims)+len(ch.Outbox) > 0 {
		return store.ItemWrite{}, false
	}
	w := ch.Items[0]
	ok := w.Op == store.ItemAdd && b.kinds[w.Item.Kind] && w.ExpectVersion == 0 &&
		len(w.Item.Value) == 0 && w.Item.Expires.IsZero()
	return w, ok
}

// add adds w to the pending deltas.
func (b *counterBuffer) add(w store.ItemWrite, now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	ref := itemRef{w.Item.Kind, w.Item.Key, w.Item.Sort}
	if b.summed[ref.kind] {
		if k, ok := b.canon[ref.kind]; ok {
			ref.key = k
		} else {
			b.canon[ref.kind] = ref.key
		}
	}
	if len(b.pending) == 0 {
		b.since = now
	}
	b.pending[ref] += w.Item.N
}

// due reports whether the pending writes should be sent.
func (b *counterBuffer) due(now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.pending) == 0 {
		return false
	}
	return now.Sub(b.since) >= b.f.MaxAge || (b.f.MaxItems > 0 && len(b.pending) >= b.f.MaxItems)
}

// take removes the pending deltas, all of them or (refs not nil) those of
// refs, and returns their adds in item order.
func (b *counterBuffer) take(refs []itemRef) []store.ItemWrite {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []store.ItemWrite
	pick := func(r itemRef) {
		n, ok := b.pending[r]
		if !ok {
			return
		}
		delete(b.pending, r)
		if n == 0 {
			return // the deltas cancelled out (a histogram move and back)
		}
		out = append(out, store.ItemWrite{Op: store.ItemAdd, Item: store.Item{Kind: r.kind, Key: r.key, Sort: r.sort, N: n}})
	}
	if refs == nil {
		refs = slices.SortedFunc(maps.Keys(b.pending), func(a, c itemRef) int {
			return cmp.Or(cmp.Compare(a.kind, c.kind), cmp.Compare(a.key, c.key), cmp.Compare(a.sort, c.sort))
		})
	}
	for _, r := range refs {
		pick(r)
	}
	return out
}

// FlushCounters sends every pending delta (Options.Counters), one
// single-item add each, several at once. An add that fails is dropped (it
// may have been applied) and the failures are returned joined. A Store
// without Options.Counters has nothing to send.
func (s *Store) FlushCounters(ctx context.Context) error {
	if s.counters == nil {
		return nil
	}
	s.counters.sending.Lock()
	defer s.counters.sending.Unlock()
	return s.sendDeferred(ctx, s.counters.take(nil))
}

// flushTouched sends the pending deltas of the generic items ch names,
// before ch is sent.
func (s *Store) flushTouched(ctx context.Context, ch store.Change) error {
	refs := make([]itemRef, 0, len(ch.Items))
	for _, w := range ch.Items {
		if s.counters.kinds[w.Item.Kind] {
			refs = append(refs, itemRef{w.Item.Kind, w.Item.Key, w.Item.Sort})
		}
	}
	if len(refs) == 0 {
		return nil
	}
	s.counters.sending.Lock()
	defer s.counters.sending.Unlock()
	return s.sendDeferred(ctx, s.counters.take(refs))
}

// sendDeferred sends the adds of pending deltas, up to appendWorkers at
// once.
func (s *Store) sendDeferred(ctx context.Context, writes []store.ItemWrite) error {
	errs := make([]error, len(writes))
	sem := make(chan struct{}, appendWorkers)
	var wg sync.WaitGroup
	for i, w := range writes {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			errs[i] = s.commitOne(ctx, store.Change{Items: []store.ItemWrite{w}})
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		failed := 0
		for _, e := range errs {
			if e != nil {
				failed++
			}
		}
		return fmt.Errorf("dynamo: %d of %d deferred counter adds failed and were dropped: %w", failed, len(writes), err)
	}
	return nil
}
