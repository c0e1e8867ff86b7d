package pipeline

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/aurum-cdp/aurum/shared/model/profile"
)

// keyIngester is a fake Ingester: a record is accepted the first time its
// id is seen. It records each call's size, can hold calls until released,
// and fails a call holding a record whose id is bad (writing the records
// before it, as a commit cut short would).
type keyIngester struct {
	mu    sync.Mutex
	seen  map[string]bool
	calls []int
	hold  chan struct{} // when not nil, every call waits for it first
	bad   string
}

func (k *keyIngester) Ingest(ctx context.Context, recs []profile.Record) (Result, error) {
	if k.hold != nil {
		<-k.hold
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.calls = append(k.calls, len(recs))
	res := Result{ProfileIDs: make([]string, len(recs))}
	for i, r := range recs {
		if r.ID == k.bad {
			return res, fmt.Errorf("record %s: %w", r.ID, errors.New("bad record"))
		}
		if k.seen[r.ID] {
			res.Duplicates++
			continue
		}
		k.seen[r.ID] = true
		res.Accepted++
		res.ProfileIDs[i] = "p-" + r.ID
	}
	return res, nil
}

func recsOf(ids ...string) []profile.Record {
	out := make([]profile.Record, len(ids))
	for i, id := range ids {
		out[i] = profile.Record{Source: "web", ID: id}
	}
	return out
}

// queued waits until n calls wait in g's queue.
func queued(g *GroupCommit, n int) {
	for {
		g.mu.Lock()
		k := len(g.queue)
		g.mu.Unlock()
		if k >= n {
			return
		}
	}
}

type callResult struct {
	res Result
	err error
}

func TestGroupCommitGroupsWaitingCalls(t *testing.T) {
	k := &keyIngester{seen: map[string]bool{}, hold: make(chan struct{})}
	g := NewGroupCommit(k, 0)
	first := make(chan callResult, 1)
	go func() { r, err := g.Ingest(t.Context(), recsOf("a")); first <- callResult{r, err} }()
	for {
		g.mu.Lock()
		leading := g.leading && len(g.queue) == 0
		g.mu.Unlock()
		if leading {
			break
		}
	}
	calls := [][]string{{"b", "c"}, {"c", "d"}, {"e"}}
	out := make([]chan callResult, len(calls))
	for i, ids := range calls {
		out[i] = make(chan callResult, 1)
		go func() { r, err := g.Ingest(t.Context(), recsOf(ids...)); out[i] <- callResult{r, err} }()
		queued(g, i+1)
	}
	close(k.hold)
	if r := <-first; r.err != nil || r.res.Accepted != 1 {
		t.Errorf("first Ingest(a) = %+v, %v; want 1 accepted", r.res, r.err)
	}
	want := []struct{ accepted, duplicates int }{{2, 0}, {1, 1}, {1, 0}}
	for i, ch := range out {
		r := <-ch
		if r.err != nil || r.res.Accepted != want[i].accepted || r.res.Duplicates != want[i].duplicates {
			t.Errorf("Ingest(%v) = accepted %d, duplicates %d, %v; want %d, %d", calls[i], r.res.Accepted, r.res.Duplicates, r.err, want[i].accepted, want[i].duplicates)
		}
	}
	if got := fmt.Sprint(k.calls); got != "[1 5]" {
		t.Errorf("calls of next = %s; want [1 5] (the three waiting calls in one commit)", got)
	}
}

func TestGroupCommitIsolatesAFailingCall(t *testing.T) {
	k := &keyIngester{seen: map[string]bool{}, hold: make(chan struct{}), bad: "x"}
	g := NewGroupCommit(k, 0)
	done := make(chan callResult, 3)
	go func() { r, err := g.Ingest(t.Context(), recsOf("lead")); done <- callResult{r, err} }()
	for {
		g.mu.Lock()
		leading := g.leading && len(g.queue) == 0
		g.mu.Unlock()
		if leading {
			break
		}
	}
	good, bad := make(chan callResult, 1), make(chan callResult, 1)
	go func() { r, err := g.Ingest(t.Context(), recsOf("g1", "g2")); good <- callResult{r, err} }()
	queued(g, 1)
	go func() { r, err := g.Ingest(t.Context(), recsOf("b1", "x")); bad <- callResult{r, err} }()
	queued(g, 2)
	close(k.hold)
	<-done
	if r := <-good; r.err != nil || r.res.Accepted != 2 || r.res.Duplicates != 0 {
		t.Errorf("Ingest(g1, g2) grouped with a failing call = %+v, %v; want 2 accepted, nil", r.res, r.err)
	}
	if r := <-bad; r.err == nil {
		t.Errorf("Ingest(b1, x) = %+v, nil; want the bad record's error", r.res)
	}
}

func TestGroupCommitCountsWhatAFailedGroupWrote(t *testing.T) {
	// The group's commit writes g1 and g2 and then fails on x; g1 and g2
	// are duplicates when their call runs alone, yet accepted by it.
	k := &keyIngester{seen: map[string]bool{}, bad: "x"}
	g := NewGroupCommit(k, 0)
	c := &groupCall{ctx: t.Context(), recs: recsOf("g1", "g2"), done: make(chan struct{})}
	b := &groupCall{ctx: t.Context(), recs: recsOf("x"), done: make(chan struct{})}
	g.commit(t.Context(), []*groupCall{c, b})
	if c.err != nil || c.res.Accepted != 2 || c.res.Duplicates != 0 {
		t.Errorf("call (g1, g2) after its group failed = %+v, %v; want 2 accepted, 0 duplicates", c.res, c.err)
	}
	if b.err == nil {
		t.Errorf("call (x) = %+v, nil; want its error", b.res)
	}
}

func TestGroupCommitCallerLeavingDoesNotStrandOthers(t *testing.T) {
	k := &keyIngester{seen: map[string]bool{}, hold: make(chan struct{})}
	g := NewGroupCommit(k, 1) // one call per commit: the lead passes through every caller
	first := make(chan error, 1)
	go func() { _, err := g.Ingest(t.Context(), recsOf("a")); first <- err }()
	for {
		g.mu.Lock()
		leading := g.leading && len(g.queue) == 0
		g.mu.Unlock()
		if leading {
			break
		}
	}
	ctx, cancel := context.WithCancel(t.Context())
	left := make(chan error, 1)
	go func() { _, err := g.Ingest(ctx, recsOf("b")); left <- err }()
	queued(g, 1)
	last := make(chan callResult, 1)
	go func() { r, err := g.Ingest(t.Context(), recsOf("c")); last <- callResult{r, err} }()
	queued(g, 2)
	cancel()
	if err := <-left; !errors.Is(err, context.Canceled) {
		t.Errorf("Ingest with a cancelled context = %v; want context.Canceled", err)
	}
	close(k.hold)
	if err := <-first; err != nil {
		t.Errorf("first Ingest = %v", err)
	}
	if r := <-last; r.err != nil || r.res.Accepted != 1 {
		t.Errorf("Ingest(c) behind a caller that left = %+v, %v; want 1 accepted", r.res, r.err)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if !k.seen["b"] {
		t.Errorf("the record of the caller that left was not committed; want it committed with the queue")
	}
}
