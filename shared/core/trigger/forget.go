package trigger

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/port/store"
)

// Forgetter is the trigger engine's part of an erasure (store.Forgetter):
// a person's frequency caps, unless markers and the pending firings of
// the local scheduler (StoreScheduler). Firing keys (KindFired) hold a
// firing id and a state only, and expire: they are claimed and kept, so
// that a re-delivered event still fires nothing. Triggers add nothing to
// the export.
type Forgetter struct {
	triggers []string
}

// NewForgetter returns the Forgetter of the configured triggers.
func NewForgetter(trs []config.Trigger) *Forgetter {
	f := &Forgetter{}
	for _, t := range trs {
		f.triggers = append(f.triggers, t.ID)
	}
	return f
}

var _ store.Forgetter = (*Forgetter)(nil)

// Kinds implements store.Forgetter.
func (f *Forgetter) Kinds() []string {
	return []string{KindFired, KindCap, KindUnless, KindPending}
}

// Forget implements store.Forgetter. It reads one cap and one unless key
// per trigger and profile id, and the pending firings (one key, local
// mode's; empty in AWS, where EventBridge Scheduler holds them).
func (f *Forgetter) Forget(ctx context.Context, st store.ItemStore, s store.Subject) (store.Forgotten, error) {
	var out store.Forgotten
	if len(f.triggers) == 0 {
		return out, nil
	}
	for _, pid := range s.ProfileIDs {
		for _, tr := range f.triggers {
			for _, kind := range []string{KindCap, KindUnless} {
				its, err := store.AllItems(ctx, st, kind, tr+"/"+pid)
				if err != nil {
					return out, fmt.Errorf("trigger %s: forget %s: %w", tr, pid, err)
				}
				out.Items = append(out.Items, store.Refs(its)...)
			}
		}
	}
	pending, err := store.AllItems(ctx, st, KindPending, pendingKey)
	if err != nil {
		return out, fmt.Errorf("trigger: forget pending firings: %w", err)
	}
	for _, it := range pending {
		var p struct {
			ProfileID string `json:"profile_id"`
		}
		if json.Unmarshal(it.Value, &p) == nil && s.Holds(p.ProfileID) {
			out.Items = append(out.Items, store.ItemRef{Kind: it.Kind, Key: it.Key, Sort: it.Sort})
		}
	}
	return out, nil
}

// Export implements store.Forgetter: triggers export nothing.
func (f *Forgetter) Export(context.Context, store.ItemStore, store.Subject) (map[string]any, error) {
	return nil, nil
}
