package app

import (
	"context"
	"fmt"
	"iter"
	"time"

	"github.com/aurum-cdp/aurum/shared/adapter/dynamo"
	"github.com/aurum-cdp/aurum/shared/core/segment"
	"github.com/aurum-cdp/aurum/shared/model/profile"
	"github.com/aurum-cdp/aurum/shared/port/store"
)

// Segments are the wired parts of dynamic segmentation: the compiled
// segments, the pipeline extension that keeps memberships in the same
// commit as each profile change, and the scheduler that sweeps due times.
type Segments struct {
	Eval      *segment.Evaluator
	Extension *segment.Extension
	Scheduler *segment.Scheduler
}

// NewSegments compiles the configured segments over the parts' store. Add
// Extension to pipeline.Options.Extensions so every change re-evaluates
// the profile's segments inline.
func NewSegments(p Parts) (*Segments, error) {
	if p.Config == nil || p.Store == nil {
		return nil, fmt.Errorf("app: segments need a config and a store")
	}
	ev, err := segment.New(p.Config.Segments, p.Config.RFM, segment.Options{Precompiled: p.Precompiled})
	if err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	return &Segments{
		Eval:      ev,
		Extension: segment.NewExtension(ev, p.Store, p.Logger),
		Scheduler: segment.NewScheduler(p.Store, ev, p.Logger),
	}, nil
}

// SweepEvent is the input of functions/scheduler (an EventBridge Scheduler
// or rule payload); its fields are optional.
type SweepEvent struct {
	// Time overrides the sweep time (tests, replays); default now.
	Time time.Time `json:"time,omitzero"`
}

// ReevaluateEvent is the input of functions/segments: profiles to
// re-evaluate after a change of the segment definitions (backfill).
type ReevaluateEvent struct {
	ProfileIDs []string `json:"profile_ids"`
}

// DynamoScan returns the profile scan of a DynamoDB store (a paginated,
// parallel Scan of the table: see dynamo.Store.ScanProfiles for its cost),
// for batch jobs such as the RFM thresholds; nil for another store.
func DynamoScan(st store.Store, o dynamo.ScanOptions) func(ctx context.Context) iter.Seq2[*profile.Profile, error] {
	d, ok := st.(*dynamo.Store)
	if !ok {
		return nil
	}
	return func(ctx context.Context) iter.Seq2[*profile.Profile, error] { return d.ScanProfiles(ctx, o) }
}

// Sweep is the handler of functions/scheduler: it sweeps the due-time
// index at the tick's time (an EventBridge schedule's "time"; now when
// absent) and, with an rfm block in the configuration, recomputes the RFM
// thresholds when they are older than rfm.refresh (one item read when they
// are fresh; a profile scan when not). It also runs the due pull sources
// (PullDue).
func (p *Platform) Sweep(ctx context.Context, ev SweepEvent) (segment.SweepResult, error) {
	at := ev.Time
	if at.IsZero() {
		at = p.Clock()
	}
	res, err := p.Segments.Scheduler.Sweep(ctx, at)
	if err != nil {
		return res, err
	}
	if _, err := p.PullDue(ctx, at); err != nil {
		return res, err
	}
	scan := p.Scan
	if scan == nil {
		scan = DynamoScan(p.Store, dynamo.ScanOptions{Segments: 4})
	}
	if scan == nil || p.Config.RFM == nil {
		return res, nil
	}
	if _, err := p.Segments.Scheduler.RefreshRFM(ctx, scan(ctx), at, false); err != nil {
		return res, fmt.Errorf("app: refresh RFM thresholds: %w", err)
	}
	return res, nil
}

// Reevaluate is the handler of functions/segments: it re-evaluates the
// given profiles now (after segment definitions changed, or to backfill).
func (p *Platform) Reevaluate(ctx context.Context, ev ReevaluateEvent) (segment.SweepResult, error) {
	return p.Segments.Scheduler.Reevaluate(ctx, ev.ProfileIDs, p.Clock())
}
