package segment

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/model/fault"
	"github.com/aurum-cdp/aurum/shared/port/store"
)

// Forgetter is segmentation's part of an erasure and an export
// (store.Forgetter): a person's memberships, history and due-time entry.
// Live counts (KindCount) are decremented, not deleted; the RFM
// thresholds (KindRFM) are quantiles over many profiles and are kept.
type Forgetter struct {
	segments []string
}

// NewForgetter returns the Forgetter of the configured segments.
func NewForgetter(segs []config.Segment) *Forgetter {
	f := &Forgetter{}
	for _, s := range segs {
		f.segments = append(f.segments, s.ID)
	}
	return f
}

var _ store.Forgetter = (*Forgetter)(nil)

// Kinds implements store.Forgetter.
func (f *Forgetter) Kinds() []string {
	return []string{KindDue, KindHistory, KindCount, KindMember, KindRFM}
}

// Forget implements store.Forgetter: it first leaves the segments the
// live profile is in (Leave), then returns the member items of every id
// of the person in every configured segment, their history and the live
// profile's due-time entry.
func (f *Forgetter) Forget(ctx context.Context, st store.ItemStore, s store.Subject) (store.Forgotten, error) {
	var out store.Forgotten
	if err := Leave(ctx, st, s.Profile.ID, slices.Sorted(maps.Keys(s.Profile.Segments))); err != nil {
		return out, err
	}
	for _, pid := range s.ProfileIDs {
		shard := Shard(pid)
		for _, seg := range f.segments {
			out.Items = append(out.Items, store.ItemRef{Kind: KindMember, Key: memberKey(seg, shard), Sort: pid})
		}
		hist, err := store.AllItems(ctx, st, KindHistory, pid)
		if err != nil {
			return out, fmt.Errorf("segment: forget %s: %w", pid, err)
		}
		out.Items = append(out.Items, store.Refs(hist)...)
	}
	if p := s.Profile; !p.NextEvalAt.IsZero() {
		out.Items = append(out.Items, store.ItemRef{Kind: KindDue, Key: Shard(p.ID), Sort: dueSort(p.NextEvalAt, p.ID)})
	}
	return out, nil
}

// Leave removes the member items of profileID in segs and decrements
// their live counts, one change per segment that holds only if the member
// item is still there (so a retry never counts twice).
func Leave(ctx context.Context, st store.ItemStore, profileID string, segs []string) error {
	shard := Shard(profileID)
	for _, seg := range segs {
		mk := memberKey(seg, shard)
		it, err := st.Item(ctx, KindMember, mk, profileID)
		if errors.Is(err, fault.ErrNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("segment: read membership of %s in %s: %w", profileID, seg, err)
		}
		err = st.Commit(ctx, store.Change{Items: []store.ItemWrite{
			{Op: store.ItemDelete, ExpectVersion: it.Version, Item: store.Item{Kind: KindMember, Key: mk, Sort: profileID}},
			{Op: store.ItemAdd, Item: store.Item{Kind: KindCount, Key: seg, Sort: shard, N: -1}},
		}})
		if err != nil && !errors.Is(err, fault.ErrConflict) {
			return fmt.Errorf("segment: %s leaves %s: %w", profileID, seg, err)
		}
	}
	return nil
}

// Export implements store.Forgetter: "segments" are the live profile's
// memberships (segment id → entered at) and "segment_history" the
// membership transitions of every id of the person, oldest first per id.
func (f *Forgetter) Export(ctx context.Context, st store.ItemStore, s store.Subject) (map[string]any, error) {
	history := []json.RawMessage{}
	for _, pid := range s.ProfileIDs {
		hist, err := store.AllItems(ctx, st, KindHistory, pid)
		if err != nil {
			return nil, fmt.Errorf("segment: export %s: %w", pid, err)
		}
		for _, it := range hist {
			if json.Valid(it.Value) {
				history = append(history, it.Value)
			}
		}
	}
	return map[string]any{"segments": s.Profile.Segments, "segment_history": history}, nil
}
