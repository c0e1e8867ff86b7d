package segment

import (
	"context"
	"fmt"
)

// Members calls fn with every current member of a segment, shard by
// shard, reading its member index in pages (a destination's full
// re-sync). It stops at fn's first error.
func Members(ctx context.Context, st ItemLister, segmentID string, fn func(profileID string) error) error {
	for sh := 0; sh < Shards; sh++ {
		cursor := ""
		for {
			items, next, err := st.Items(ctx, KindMember, memberKey(segmentID, fmt.Sprintf("%02d", sh)), "", "", 500, cursor)
			if err != nil {
				return fmt.Errorf("segment: members of %s: %w", segmentID, err)
			}
			for _, it := range items {
				if err := fn(it.Sort); err != nil {
					return err
				}
			}
			if next == "" {
				break
			}
			cursor = next
		}
	}
	return nil
}
