package activation

import (
	"context"
	"fmt"
	"time"

	"github.com/aurum-cdp/aurum/shared/config"
)

// SyncReport is what a full re-sync sent.
type SyncReport struct {
	Destination string `json:"destination"`
	// Added are current members with consent, sent as adds; Removed are
	// current members without it, sent as removes.
	Added   int `json:"added"`
	Removed int `json:"removed"`
}

// FullSync sends the current members of every segment of the named
// destination's audiences as full pages (AudienceChange.Full): members
// with consent are added, members without it removed. It is idempotent:
// the same membership makes the same batches.
func (r *Runner) FullSync(ctx context.Context, name string) (SyncReport, error) {
	rep := SyncReport{Destination: name}
	d, ok := r.named[name]
	switch {
	case !ok:
		return rep, fmt.Errorf("activation: no destination %q", name)
	case d.cfg.Audiences == nil:
		return rep, fmt.Errorf("activation: destination %s syncs no audiences", name)
	case r.deps.Members == nil:
		return rep, fmt.Errorf("activation: no member lister configured for full re-syncs")
	}
	for _, seg := range d.cfg.Audiences.Segments {
		var page []change
		flush := func() error {
			err := r.sendAudience(ctx, d, seg, page, true)
			page = page[:0]
			return err
		}
		w := &work{r: r, profiles: map[string]profileResult{}, plans: map[*dest]*plan{}}
		err := r.deps.Members(ctx, seg, func(id string) error {
			p, found, err := w.profile(ctx, id)
			if err != nil || !found {
				return err
			}
			delete(w.profiles, id)
			ok, _ := grantedAll(p, d.cfg.Purposes)
			if ok {
				rep.Added++
			} else {
				rep.Removed++
			}
			page = append(page, change{member(p, d.audMap, nil), ok})
			if len(page) >= d.maxMem {
				return flush()
			}
			return nil
		})
		if err == nil && len(page) > 0 {
			err = flush()
		}
		if err != nil {
			return rep, fmt.Errorf("activation: full sync of %s, segment %s: %w", name, seg, err)
		}
	}
	return rep, nil
}

// Schedules returns the full re-sync period of every destination that
// has one.
func (r *Runner) Schedules() map[string]time.Duration {
	out := map[string]time.Duration{}
	for _, d := range r.dests {
		if a := d.cfg.Audiences; a != nil && a.Schedule != "" {
			if every, err := config.ParseDuration(a.Schedule); err == nil {
				out[d.cfg.Name] = every
			}
		}
	}
	return out
}

// FullSyncNamed is FullSync returning the counts (the Lambda handler's
// view).
func (r *Runner) FullSyncNamed(ctx context.Context, name string) (added, removed int, err error) {
	rep, err := r.FullSync(ctx, name)
	return rep.Added, rep.Removed, err
}
