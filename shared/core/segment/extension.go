package segment

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/aurum-cdp/aurum/shared/core/pipeline"
	"github.com/aurum-cdp/aurum/shared/model/fault"
	"github.com/aurum-cdp/aurum/shared/port/store"
)

// ItemReader reads generic items.
type ItemReader interface {
	Item(ctx context.Context, kind, key, sort string) (store.Item, error)
}

// Extension is the pipeline extension that keeps segment memberships in
// the same atomic change as the profile change that caused them.
type Extension struct {
	eval *Evaluator
	st   ItemReader
	log  *slog.Logger
	// OnDue, if set, is called with every due time the extension writes
	// (local mode wakes its timer with it). It may be called for a change
	// that then fails to commit: waking early is harmless.
	OnDue func(time.Time)

	mu     sync.Mutex
	loaded time.Time // when the RFM thresholds were last read
}

// ThresholdTTL is how long the extension and the scheduler trust the RFM
// thresholds they read before reading them again.
const ThresholdTTL = time.Minute

// NewExtension returns the pipeline extension over eval. st is read for
// the RFM thresholds (nil: thresholds are only set with SetThresholds).
func NewExtension(eval *Evaluator, st ItemReader, log *slog.Logger) *Extension {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Extension{eval: eval, st: st, log: log}
}

var _ pipeline.Extension = (*Extension)(nil)

// Extend implements pipeline.Extension: the merged-away profiles' memberships
// end, and the surviving profile is re-evaluated at the change time.
func (x *Extension) Extend(ctx context.Context, u *pipeline.Update, ch *store.Change) error {
	if err := x.refresh(ctx, u.Now); err != nil {
		return err
	}
	for i := range u.Merged {
		if err := x.eval.Retire(&u.Merged[i], u.After.ID, u.Now, ch); err != nil {
			return err
		}
	}
	ts, err := x.eval.Apply(u.After, u.Now, CauseChange, ch)
	if err != nil {
		return err
	}
	if len(ts) > 0 {
		x.log.DebugContext(ctx, "segment transitions", "profile", u.After.ID, "transitions", len(ts))
	}
	if x.OnDue != nil && !u.After.NextEvalAt.IsZero() {
		x.OnDue(u.After.NextEvalAt)
	}
	return nil
}

// refresh reloads the RFM thresholds when they are older than ThresholdTTL.
func (x *Extension) refresh(ctx context.Context, now time.Time) error {
	if x.st == nil || x.eval.rfmCfg == nil {
		return nil
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if !x.loaded.IsZero() && now.Sub(x.loaded) < ThresholdTTL && now.After(x.loaded) {
		return nil
	}
	if err := LoadThresholds(ctx, x.st, x.eval); err != nil {
		return err
	}
	x.loaded = now
	return nil
}

// LoadThresholds reads the stored RFM thresholds into eval. Missing
// thresholds are not an error: profiles have no RFM score until the first
// computation.
func LoadThresholds(ctx context.Context, st ItemReader, eval *Evaluator) error {
	it, err := st.Item(ctx, KindRFM, rfmKey, rfmSortCurr)
	if fault.Is(err, fault.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("segment: read rfm thresholds: %w", err)
	}
	var t Thresholds
	if err := json.Unmarshal(it.Value, &t); err != nil {
		return fmt.Errorf("segment: decode rfm thresholds: %w", err)
	}
	eval.SetThresholds(t)
	return nil
}
