package privacy

import (
	"context"
	"errors"
	"fmt"

	"github.com/aurum-cdp/aurum/shared/core/pipeline"
	"github.com/aurum-cdp/aurum/shared/model/fault"
	"github.com/aurum-cdp/aurum/shared/model/profile"
	"github.com/aurum-cdp/aurum/shared/port/store"
)

// ItemReader reads one generic item; store.Store implements it.
type ItemReader interface {
	Item(ctx context.Context, kind, key, sort string) (store.Item, error)
}

// Suppressor is a pipeline.Ingester decorator that drops records carrying
// an erased identifier (one on the suppression list Erase keeps when
// privacy.suppress_erased is on), so replayed old data cannot re-create
// an erased person. Dropped records count as duplicates (nothing
// changed) and land in no profile. It reads one item per distinct
// identifier of a batch.
type Suppressor struct {
	next  pipeline.Ingester
	items ItemReader
}

// Suppress wraps next.
func Suppress(next pipeline.Ingester, items ItemReader) *Suppressor {
	return &Suppressor{next: next, items: items}
}

var _ pipeline.Ingester = (*Suppressor)(nil)

// Ingest implements pipeline.Ingester.
func (s *Suppressor) Ingest(ctx context.Context, recs []profile.Record) (pipeline.Result, error) {
	suppressed := map[profile.Identifier]bool{}
	for _, r := range recs {
		for _, id := range r.Identifiers {
			if _, ok := suppressed[id]; ok {
				continue
			}
			_, err := s.items.Item(ctx, KindSuppressed, SuppressionKey(id), suppressedSort)
			switch {
			case err == nil:
				suppressed[id] = true
			case errors.Is(err, fault.ErrNotFound):
				suppressed[id] = false
			default:
				return pipeline.Result{}, fmt.Errorf("privacy: read suppression list: %w", err)
			}
		}
	}
	keep := make([]profile.Record, 0, len(recs))
	kept := make([]bool, len(recs))
	for i, r := range recs {
		drop := false
		for _, id := range r.Identifiers {
			drop = drop || suppressed[id]
		}
		if !drop {
			keep = append(keep, r)
			kept[i] = true
		}
	}
	if len(keep) == len(recs) {
		return s.next.Ingest(ctx, recs)
	}
	var res pipeline.Result
	if len(keep) > 0 {
		var err error
		res, err = s.next.Ingest(ctx, keep)
		if err != nil {
			return res, err
		}
	}
	ids := make([]string, len(recs))
	j := 0
	for i := range recs {
		if kept[i] {
			if j < len(res.ProfileIDs) {
				ids[i] = res.ProfileIDs[j]
			}
			j++
		}
	}
	res.ProfileIDs = ids
	res.Duplicates += len(recs) - len(keep)
	return res, nil
}
