package segment

import (
	"context"
	"fmt"
	"iter"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/aurum-cdp/aurum/shared/model/fault"
	"github.com/aurum-cdp/aurum/shared/model/profile"
	"github.com/aurum-cdp/aurum/shared/port/store"
)

// SchedulerStore is the part of store.Store the scheduler needs.
type SchedulerStore interface {
	Profile(ctx context.Context, id string) (profile.Profile, error)
	Item(ctx context.Context, kind, key, sort string) (store.Item, error)
	Items(ctx context.Context, kind, key, from, to string, limit int, cursor string) ([]store.Item, string, error)
	Commit(ctx context.Context, changes ...store.Change) error
}

// Scheduler re-evaluates profiles whose due time has come: it sweeps the
// due-time index (no table scan: it reads the due items of each shard up
// to now) and commits the transitions that time caused.
type Scheduler struct {
	st   SchedulerStore
	eval *Evaluator
	log  *slog.Logger
	// Attempts bounds retries of one profile's commit on conflict; default 10.
	Attempts int
	// Page is how many due items are read per request; default 100.
	Page int
}

// NewScheduler returns a scheduler over st.
func NewScheduler(st SchedulerStore, eval *Evaluator, log *slog.Logger) *Scheduler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Scheduler{st: st, eval: eval, log: log, Attempts: 10, Page: 100}
}

// SweepResult counts what a sweep did.
type SweepResult struct {
	// Profiles re-evaluated.
	Profiles int `json:"profiles"`
	Entered  int `json:"entered"`
	Exited   int `json:"exited"`
	// Stale due items removed (profile merged away, erased, or moved).
	Stale int `json:"stale"`
}

// Sweep re-evaluates every profile due at or before now.
func (s *Scheduler) Sweep(ctx context.Context, now time.Time) (SweepResult, error) {
	var res SweepResult
	if err := LoadThresholds(ctx, s.st, s.eval); err != nil {
		return res, err
	}
	to := SortTime(now) + "}" // '}' sorts after '|': includes items due exactly now
	for sh := range Shards {
		shard := fmt.Sprintf("%02d", sh)
		cursor := ""
		for {
			items, next, err := s.st.Items(ctx, KindDue, shard, "", to, s.Page, cursor)
			if err != nil {
				return res, fmt.Errorf("segment: sweep shard %s: %w", shard, err)
			}
			for _, it := range items {
				_, id, err := parseDueSort(it.Sort)
				if err != nil {
					return res, fmt.Errorf("segment: sweep shard %s: %w", shard, err)
				}
				if err := s.reevaluate(ctx, id, it.Sort, now, CauseTime, &res); err != nil {
					return res, err
				}
			}
			if next == "" {
				break
			}
			cursor = next
		}
	}
	return res, nil
}

// Reevaluate re-evaluates the given profiles now (after a change of the
// segment definitions, or to backfill), committing their transitions with
// cause "config".
func (s *Scheduler) Reevaluate(ctx context.Context, ids []string, now time.Time) (SweepResult, error) {
	var res SweepResult
	if err := LoadThresholds(ctx, s.st, s.eval); err != nil {
		return res, err
	}
	for _, id := range ids {
		if err := s.reevaluate(ctx, id, "", now, CauseConfig, &res); err != nil {
			return res, err
		}
	}
	return res, nil
}

// reevaluate re-evaluates one profile; dueSortKey is the due item that
// scheduled it ("" when not scheduled by the index).
func (s *Scheduler) reevaluate(ctx context.Context, id, dueSortKey string, now time.Time, cause string, res *SweepResult) error {
	attempts := max(1, s.Attempts)
	for attempt := 1; ; attempt++ {
		err := s.try(ctx, id, dueSortKey, now, cause, res)
		if err == nil {
			return nil
		}
		if !fault.Is(err, fault.ErrConflict) || attempt >= attempts {
			return fmt.Errorf("segment: re-evaluate profile %s (attempt %d): %w", id, attempt, err)
		}
		d := time.Duration(1<<min(attempt, 8)) * time.Millisecond
		t := time.NewTimer(d/2 + rand.N(d/2+1))
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("segment: re-evaluate profile %s: %w", id, ctx.Err())
		case <-t.C:
		}
	}
}

func (s *Scheduler) try(ctx context.Context, id, dueSortKey string, now time.Time, cause string, res *SweepResult) error {
	p, err := s.st.Profile(ctx, id)
	stale := fault.Is(err, fault.ErrNotFound)
	if err != nil && !stale {
		return err
	}
	if !stale && p.ID != id {
		stale = true // merged away: the survivor has its own due item
	}
	if !stale && dueSortKey != "" && dueSort(p.NextEvalAt, p.ID) != dueSortKey {
		stale = true // moved by a change since the sweep read it
	}
	if stale {
		if dueSortKey == "" {
			return nil
		}
		shard := Shard(id)
		res.Stale++
		return s.st.Commit(ctx, store.Change{Items: []store.ItemWrite{{Op: store.ItemDelete, Item: store.Item{Kind: KindDue, Key: shard, Sort: dueSortKey}}}})
	}
	expect := p.Version
	p.Version++
	var ch store.Change
	// A due item is written for the instant a window closes. The profile
	// is unchanged since (checked above), so evaluating at that instant
	// records the transition when it happened, not when the sweep (every
	// minute in AWS) got to it; a later due instant is swept next time.
	at := now
	if cause == CauseTime && dueSortKey != "" && !p.NextEvalAt.IsZero() && p.NextEvalAt.Before(now) {
		at = p.NextEvalAt
	}
	ts, err := s.eval.Apply(&p, at, cause, &ch)
	if err != nil {
		return err
	}
	ch.Profiles = []store.ProfileWrite{{Profile: p, ExpectVersion: expect}}
	ch.Items = store.MergeAdds(ch.Items)
	if err := s.st.Commit(ctx, ch); err != nil {
		return err
	}
	res.Profiles++
	for _, t := range ts {
		if t.Entered {
			res.Entered++
		} else {
			res.Exited++
		}
	}
	return nil
}

// NextDue returns the earliest due time in the index, zero when none.
func (s *Scheduler) NextDue(ctx context.Context) (time.Time, error) {
	var best time.Time
	for sh := range Shards {
		items, _, err := s.st.Items(ctx, KindDue, fmt.Sprintf("%02d", sh), "", "", 1, "")
		if err != nil {
			return time.Time{}, fmt.Errorf("segment: next due: %w", err)
		}
		if len(items) == 0 {
			continue
		}
		t, _, err := parseDueSort(items[0].Sort)
		if err != nil {
			return time.Time{}, fmt.Errorf("segment: next due: %w", err)
		}
		if best.IsZero() || t.Before(best) {
			best = t
		}
	}
	return best, nil
}

// Clock abstracts time for Run, so tests drive it.
type Clock interface {
	Now() time.Time
	// After returns a channel that receives after d.
	After(d time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// RealClock is the wall clock.
var RealClock Clock = realClock{}

// Run is local mode's in-process timer: it sweeps when the earliest due
// time comes (or when Wake is called with an earlier one), and at least
// every poll. It returns when ctx is done.
func (s *Scheduler) Run(ctx context.Context, clock Clock, poll time.Duration, wake <-chan time.Time) error {
	if poll <= 0 {
		poll = 30 * time.Second
	}
	for {
		now := clock.Now()
		if _, err := s.Sweep(ctx, now); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			s.log.ErrorContext(ctx, "segment sweep failed", "error", err)
		}
		wait := poll
		if due, err := s.NextDue(ctx); err == nil && !due.IsZero() {
			wait = min(poll, max(0, due.Sub(clock.Now())))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-clock.After(wait):
		case <-wake:
		}
	}
}

// RefreshRFM recomputes the RFM thresholds from a sample of profiles when
// the stored ones are older than the configured refresh period (or force
// is set), stores them as an item and puts them in force. It reports
// whether it recomputed. Without an RFM configuration it does nothing.
func (s *Scheduler) RefreshRFM(ctx context.Context, profiles iter.Seq2[*profile.Profile, error], now time.Time, force bool) (bool, error) {
	cfg := s.eval.rfmCfg
	if cfg == nil {
		return false, nil
	}
	if err := LoadThresholds(ctx, s.st, s.eval); err != nil {
		return false, err
	}
	if t, ok := s.eval.Thresholds(); ok && !force && now.Sub(t.ComputedAt) < cfg.RefreshEvery() {
		return false, nil
	}
	t, err := ComputeThresholds(ctx, *cfg, profiles, cfg.SampleSize(), now, nil)
	if err != nil {
		return false, err
	}
	b, err := encodeThresholds(t)
	if err != nil {
		return false, err
	}
	err = s.st.Commit(ctx, store.Change{Items: []store.ItemWrite{{Op: store.ItemPut, Item: store.Item{Kind: KindRFM, Key: rfmKey, Sort: rfmSortCurr, Value: b}}}})
	if err != nil {
		return false, fmt.Errorf("segment: store rfm thresholds: %w", err)
	}
	s.eval.SetThresholds(t)
	return true, nil
}
