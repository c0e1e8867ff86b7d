package pipeline

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/aurum-cdp/aurum/shared/model/profile"
)

// DefaultGroupRecords bounds the records of one group commit.
const DefaultGroupRecords = 2000

// GroupCommit is an Ingester that applies the records of concurrent calls
// together: while one commit runs, the calls that arrive queue up, and the
// next commit takes all of them (up to a bound) as one Ingest of next —
// one store transaction, one fsync, for many requests. It is a database's
// group commit: an idle call runs at once, alone; under load the batch
// grows with the load, so the cost of a commit is shared instead of
// queued.
//
// Commits run one at a time, in arrival order, so the records of one
// profile are applied in the order their calls arrived and never conflict
// with each other. Nothing runs in the background: the first caller to
// find no commit running leads; it commits batches until its own records
// are in, then hands the lead to the oldest waiting caller.
//
// Each call still gets its own exact counts: a record is Accepted when the
// group's commit wrote it and a Duplicate otherwise (next's ProfileIDs
// tell which). Created, Merges and Appended are the group's, not split per
// call: a grouped call reports them as zero. When a group's commit fails,
// each call's records are ingested again on their own, so one call's bad
// record or store error is that call's alone; records the failed commit
// had already written are found again as duplicates and still counted as
// accepted by their call.
type GroupCommit struct {
	next Ingester
	max  int

	mu      sync.Mutex
	queue   []*groupCall
	leading bool
}

// groupCall is one queued Ingest call.
type groupCall struct {
	ctx  context.Context
	recs []profile.Record
	// lead is closed when the call becomes the leader; done when its
	// result is set.
	lead chan struct{}
	done chan struct{}
	res  Result
	err  error
}

// NewGroupCommit returns a GroupCommit over next taking up to maxRecords
// records per commit (0: DefaultGroupRecords). A call larger than that is
// committed alone. next must report ProfileIDs per record, as Pipeline
// does.
func NewGroupCommit(next Ingester, maxRecords int) *GroupCommit {
	if maxRecords <= 0 {
		maxRecords = DefaultGroupRecords
	}
	return &GroupCommit{next: next, max: maxRecords}
}

var _ Ingester = (*GroupCommit)(nil)

// Ingest implements Ingester. It returns when recs are committed (or
// failed); ctx ending first returns its error, the records may still be
// committed with their group.
func (g *GroupCommit) Ingest(ctx context.Context, recs []profile.Record) (Result, error) {
	if len(recs) == 0 {
		return g.next.Ingest(ctx, recs)
	}
	c := &groupCall{ctx: ctx, recs: recs, lead: make(chan struct{}), done: make(chan struct{})}
	g.mu.Lock()
	g.queue = append(g.queue, c)
	if !g.leading {
		g.leading = true
		close(c.lead)
	}
	g.mu.Unlock()
	select {
	case <-c.done:
		return c.res, c.err
	case <-c.lead:
		g.leadUntil(c)
		return c.res, c.err
	case <-ctx.Done():
		select {
		case <-c.done:
			return c.res, c.err
		default:
		}
		// Still queued or committing: the group carries it on, and the
		// lead, when handed to it, passes on.
		go g.abandon(c)
		return Result{}, fmt.Errorf("pipeline: group commit: %w", ctx.Err())
	}
}

// abandon waits for c, whose caller left, to be done or to lead, and
// leads if it must, so the callers behind it are not stranded.
func (g *GroupCommit) abandon(c *groupCall) {
	select {
	case <-c.done:
	case <-c.lead:
		g.leadUntil(c)
	}
}

// leadUntil commits batches from the queue until c's records are in, then
// hands the lead to the oldest waiting call (or gives it up).
func (g *GroupCommit) leadUntil(c *groupCall) {
	for {
		g.mu.Lock()
		batch := g.take()
		g.mu.Unlock()
		g.commit(c.ctx, batch)
		select {
		case <-c.done:
			g.mu.Lock()
			if len(g.queue) > 0 {
				close(g.queue[0].lead)
			} else {
				g.leading = false
			}
			g.mu.Unlock()
			return
		default:
		}
	}
}

// take removes the next batch from the queue: calls in order while they
// fit g.max records (at least one call). g.mu is held.
func (g *GroupCommit) take() []*groupCall {
	n, k := 0, 0
	for k < len(g.queue) && (k == 0 || n+len(g.queue[k].recs) <= g.max) {
		n += len(g.queue[k].recs)
		k++
	}
	batch := append([]*groupCall(nil), g.queue[:k]...)
	g.queue = g.queue[k:]
	return batch
}

// commit ingests batch as one call of next, on the leader's context
// without its cancellation (the other calls' records are in it), and sets
// every call's result.
func (g *GroupCommit) commit(ctx context.Context, batch []*groupCall) {
	ctx = context.WithoutCancel(ctx)
	if len(batch) == 1 {
		c := batch[0]
		c.res, c.err = g.next.Ingest(ctx, c.recs)
		close(c.done)
		return
	}
	var all []profile.Record
	for _, c := range batch {
		all = append(all, c.recs...)
	}
	res, err := g.next.Ingest(ctx, all)
	off := 0
	for _, c := range batch {
		ids := window(res.ProfileIDs, off, len(c.recs))
		off += len(c.recs)
		c.res, c.err = split(ids, len(c.recs)), nil
		if err != nil {
			c.res, c.err = g.alone(c, ids)
		}
		close(c.done)
	}
}

// alone ingests c's records by themselves after its group's commit
// failed; ids are what that commit reported for them ("" where nothing
// was written by it).
func (g *GroupCommit) alone(c *groupCall, ids []string) (Result, error) {
	res, err := g.next.Ingest(context.WithoutCancel(c.ctx), c.recs)
	if err != nil {
		return res, err
	}
	if len(res.ProfileIDs) != len(c.recs) {
		return res, errors.New("pipeline: group commit: ingester reported no profile per record")
	}
	// A record the failed group commit wrote is a duplicate now, yet it
	// was accepted: by this call, in the group.
	for i, id := range ids {
		if id != "" && res.ProfileIDs[i] == "" {
			res.ProfileIDs[i] = id
			res.Accepted++
			res.Duplicates--
		}
	}
	return res, nil
}

// window returns ids[off:off+n], clipped to what ids holds and padded
// with "" (a failed commit may report fewer).
func window(ids []string, off, n int) []string {
	w := make([]string, n)
	if off < len(ids) {
		copy(w, ids[off:min(off+n, len(ids))])
	}
	return w
}

// split is one call's Result from its records' profile ids.
func split(ids []string, n int) Result {
	res := Result{ProfileIDs: ids}
	for _, id := range ids {
		if id != "" {
			res.Accepted++
		}
	}
	res.Duplicates = n - res.Accepted
	return res
}
