package dashboard

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/aurum-cdp/aurum/shared/core/identity"
	"github.com/aurum-cdp/aurum/shared/model/events"
	"github.com/aurum-cdp/aurum/shared/model/fault"
	"github.com/aurum-cdp/aurum/shared/port/store"
)

// Forgetter is the dashboard's part of an erasure (store.Forgetter): the
// recent firings of the person's profiles are deleted and their ids are
// removed from the largest clusters of the cluster snapshot (its
// histogram counts, which name nobody, stay). Segment count snapshots
// are claimed and kept. The dashboard adds nothing to the export.
type Forgetter struct{}

var _ store.Forgetter = Forgetter{}

// Kinds implements store.Forgetter.
func (Forgetter) Kinds() []string { return []string{KindSegmentCount, KindFired, KindClusters} }

// Forget implements store.Forgetter. It reads the recent firings (one
// key, bounded by their expiry) and the cluster snapshot.
func (Forgetter) Forget(ctx context.Context, st store.ItemStore, s store.Subject) (store.Forgotten, error) {
	var out store.Forgotten
	if err := forgetClusters(ctx, st, s); err != nil {
		return out, err
	}
	fired, err := store.AllItems(ctx, st, KindFired, FiredKey)
	if err != nil {
		return out, fmt.Errorf("dashboard: forget firings: %w", err)
	}
	for _, it := range fired {
		var f events.TriggerFired
		if json.Unmarshal(it.Value, &f) == nil && s.Holds(f.ProfileID) {
			out.Items = append(out.Items, store.ItemRef{Kind: it.Kind, Key: it.Key, Sort: it.Sort})
		}
	}
	return out, nil
}

// forgetClusters rewrites the cluster snapshot without the person's
// profiles among the largest clusters, again from a fresh read when a
// new snapshot was written meanwhile.
func forgetClusters(ctx context.Context, st store.ItemStore, s store.Subject) error {
	const attempts = 8
	for attempt := 1; ; attempt++ {
		it, err := st.Item(ctx, KindClusters, "latest", "latest")
		if errors.Is(err, fault.ErrNotFound) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("dashboard: forget clusters: %w", err)
		}
		var c clusterSnapshot
		if err := json.Unmarshal(it.Value, &c); err != nil {
			return fmt.Errorf("dashboard: forget clusters: decode: %w", err)
		}
		n := len(c.Largest)
		c.Largest = slices.DeleteFunc(c.Largest, func(cs identity.ClusterSize) bool { return s.Holds(cs.ProfileID) })
		if len(c.Largest) == n {
			return nil
		}
		val, err := json.Marshal(c)
		if err != nil {
			return fmt.Errorf("dashboard: forget clusters: encode: %w", err)
		}
		err = st.Commit(ctx, store.Change{Items: []store.ItemWrite{{Op: store.ItemReplace, ExpectVersion: it.Version,
			Item: store.Item{Kind: KindClusters, Key: "latest", Sort: "latest", Value: val}}}})
		if err == nil || !errors.Is(err, fault.ErrConflict) || attempt == attempts {
			if err != nil {
				return fmt.Errorf("dashboard: forget clusters: %w", err)
			}
			return nil
		}
	}
}

// Export implements store.Forgetter: the dashboard exports nothing.
func (Forgetter) Export(context.Context, store.ItemStore, store.Subject) (map[string]any, error) {
	return nil, nil
}
