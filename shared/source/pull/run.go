package pull

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aurum-cdp/aurum/shared/model/fault"
	"github.com/aurum-cdp/aurum/shared/source"
)

// maxError bounds the error message kept in the state item.
const maxError = 1024

// Result is the outcome of one run (or one tick) of a source.
type Result struct {
	Source string `json:"source"`
	// Ran is false when the source was not due, or another run held it
	// (Busy).
	Ran  bool `json:"ran"`
	Busy bool `json:"busy,omitempty"`
	Counts
	// Checkpoint is the committed checkpoint after the run.
	Checkpoint string `json:"checkpoint"`
	// More says rows are still waiting (the run stopped at its bounds).
	More bool `json:"more,omitempty"`
	// Err is the run's failure: the checkpoint stays at the last committed
	// batch and the source is retried after Options.RetryAfter.
	Err error `json:"-"`
}

// Tick runs the source if it is due at now: never run, its schedule
// elapsed since the last successful run, rows left waiting, or a failure
// RetryAfter ago.
func (r *Runner) Tick(ctx context.Context, now time.Time) Result {
	return r.run(ctx, now, false)
}

// Run runs the source now, due or not (unless another run holds it).
func (r *Runner) Run(ctx context.Context, now time.Time) Result {
	return r.run(ctx, now, true)
}

// run is one run: claim the source, drain it, release it.
func (r *Runner) run(ctx context.Context, now time.Time, force bool) Result {
	res := Result{Source: r.name}
	s, ver, err := LoadState(ctx, r.deps.State, r.name)
	if err != nil {
		res.Err = err
		return res
	}
	res.Checkpoint, res.More = s.Checkpoint, s.More
	if s.Lease.After(now) {
		res.Busy = true
		return res
	}
	if !force && !r.due(s, now) {
		return res
	}
	start := r.opts.Clock()
	s.Lease, s.LastTry = now.Add(r.opts.Lease), now
	if ver, err = saveState(ctx, r.deps.State, r.name, s, ver); err != nil {
		res.Busy = errors.Is(err, fault.ErrConflict)
		if !res.Busy {
			res.Err = err
		}
		return res
	}
	res.Ran = true
	run := &runState{r: r, now: now, start: start, s: s, ver: ver}
	if err := run.drain(ctx, &res); err != nil {
		res.Err = err
		run.fail(ctx, err)
	}
	res.Checkpoint, res.More = run.s.Checkpoint, run.s.More
	return res
}

// runState is the state of one run in progress.
type runState struct {
	r     *Runner
	now   time.Time
	start time.Time
	// s is the state as committed, at version ver.
	s   State
	ver int64
}

// drain reads and ingests batches until the connector has no more rows or
// the run's bounds are reached, committing each batch's checkpoint after
// its records; the last commit also releases the source.
func (run *runState) drain(ctx context.Context, res *Result) error {
	r := run.r
	for {
		from := run.s.Checkpoint
		b, err := r.read(ctx, from)
		if err != nil {
			return err
		}
		c, err := r.ingest(ctx, from, b.Rows, run.now)
		if err != nil {
			return err
		}
		c.Batches = 1
		next := run.s
		next.Totals.add(c)
		next.Checkpoint = b.Checkpoint
		last := !b.More || res.Batches+1 >= r.opts.MaxBatches || r.outOfTime(ctx)
		if err := run.commit(ctx, next, last, b.More); err != nil {
			return err
		}
		res.add(c)
		if last {
			return nil
		}
	}
}

// read asks the connector for the batch after from and checks what it
// returned.
func (r *Runner) read(ctx context.Context, from string) (source.Batch, error) {
	b, err := r.conn.Read(ctx, from, r.batch)
	switch {
	case err != nil:
		return b, fmt.Errorf("pull %s: read after checkpoint: %w", r.name, err)
	case len(b.Rows) > r.batch:
		return b, fmt.Errorf("pull %s: connector %s returned %d rows; asked for at most %d", r.name, r.connector, len(b.Rows), r.batch)
	case len(b.Checkpoint) > source.MaxCheckpoint:
		return b, fmt.Errorf("pull %s: connector %s returned a checkpoint of %d bytes; at most %d", r.name, r.connector, len(b.Checkpoint), source.MaxCheckpoint)
	case b.More && b.Checkpoint == from:
		return b, fmt.Errorf("pull %s: connector %s says more rows are waiting but did not advance its checkpoint", r.name, r.connector)
	}
	return b, nil
}

// outOfTime reports whether the context's deadline is too near for
// another batch.
func (r *Runner) outOfTime(ctx context.Context) bool {
	d, ok := ctx.Deadline()
	return ok && time.Until(d) < r.opts.Reserve
}

// commit stores next, the state after the batch just ingested. Until the
// last batch it renews the lease; the last commit releases the source and
// records the run's success.
func (run *runState) commit(ctx context.Context, next State, last, more bool) error {
	elapsed := run.r.opts.Clock().Sub(run.start)
	next.Lease = run.now.Add(elapsed + run.r.opts.Lease)
	if last {
		next.Lease = time.Time{}
		next.LastOK, next.More = run.now, more
		next.Error, next.Failures = "", 0
	}
	ver, err := saveState(ctx, run.r.deps.State, run.r.name, next, run.ver)
	if err != nil {
		return fmt.Errorf("%w (the batch will be read again)", err)
	}
	run.s, run.ver = next, ver
	return nil
}

// fail records a failed run and releases the source; the checkpoint stays
// at the last committed batch. When the state changed under the run (a
// lost lease), the failure is only logged: another run owns the state. A
// cancelled context (shutdown) still releases the source.
func (run *runState) fail(ctx context.Context, cause error) {
	r := run.r
	ctx = context.WithoutCancel(ctx)
	msg := cause.Error()
	if len(msg) > maxError {
		msg = msg[:maxError]
	}
	s := run.s
	s.Lease, s.Error, s.Failures = time.Time{}, msg, s.Failures+1
	if _, err := saveState(ctx, r.deps.State, r.name, s, run.ver); err != nil {
		r.opts.Logger.WarnContext(ctx, "pull: record failure", "source", r.name, "err", err)
		return
	}
	run.s = s
}
