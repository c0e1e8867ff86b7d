package activation

import (
	"context"
	"fmt"

	"github.com/aurum-cdp/aurum/shared/port/store"
)

// Forgetter is the runner's part of an erasure: the forwarded-event
// markers of the person's profile ids (event ids only, but keyed by the
// profile). Destinations export nothing.
type Forgetter struct{}

var _ store.Forgetter = Forgetter{}

// Kinds implements store.Forgetter.
func (Forgetter) Kinds() []string { return []string{KindForwarded} }

// Forget implements store.Forgetter.
func (Forgetter) Forget(ctx context.Context, st store.ItemStore, s store.Subject) (store.Forgotten, error) {
	var out store.Forgotten
	for _, pid := range s.ProfileIDs {
		its, err := store.AllItems(ctx, st, KindForwarded, pid)
		if err != nil {
			return out, fmt.Errorf("activation: forget %s: %w", pid, err)
		}
		out.Items = append(out.Items, store.Refs(its)...)
	}
	return out, nil
}

// Export implements store.Forgetter.
func (Forgetter) Export(context.Context, store.ItemStore, store.Subject) (map[string]any, error) {
	return nil, nil
}
