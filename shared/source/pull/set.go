package pull

import (
	"context"
	"errors"
	"log/slog"
	"time"
)

// Set is the runners of every pull source of a configuration.
type Set struct {
	runners []*Runner
	log     *slog.Logger
}

// NewSet groups runners; a nil logger discards.
func NewSet(log *slog.Logger, runners ...*Runner) *Set {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Set{runners: runners, log: log}
}

// Runners returns the set's runners, in configuration order.
func (s *Set) Runners() []*Runner { return s.runners }

// Tick runs the sources due at now, one after the other, and logs each
// run. It stops starting runs when the context's deadline is nearer than
// a runner's Reserve; those sources stay due. A source's failure does not
// stop the others: it is in its Result and in its state, and the source is
// retried after RetryAfter.
func (s *Set) Tick(ctx context.Context, now time.Time) []Result {
	var out []Result
	for _, r := range s.runners {
		if ctx.Err() != nil || r.outOfTime(ctx) {
			break
		}
		res := r.Tick(ctx, now)
		s.logResult(ctx, res)
		out = append(out, res)
	}
	return out
}

func (s *Set) logResult(ctx context.Context, res Result) {
	switch {
	case res.Err != nil:
		s.log.ErrorContext(ctx, "pull: source failed; retried later", "source", res.Source, "err", res.Err)
	case res.Ran:
		s.log.InfoContext(ctx, "pull: source read", "source", res.Source, "batches", res.Batches, "rows", res.Rows,
			"accepted", res.Accepted, "rejected", res.Rejected, "duplicates", res.Duplicates, "more", res.More)
	}
}

// Close closes every runner's connector.
func (s *Set) Close() error {
	var errs []error
	for _, r := range s.runners {
		errs = append(errs, r.Close())
	}
	return errors.Join(errs...)
}
