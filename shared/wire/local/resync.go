package local

import (
	"context"
	"log/slog"
	"time"

	"github.com/aurum-cdp/aurum/shared/core/activation"
)

// resyncLoop runs each destination's full audience re-sync every its
// schedule (audiences.schedule), as EventBridge Scheduler does in AWS.
// A failed re-sync is logged and tried again at the next period.
func resyncLoop(ctx context.Context, r *activation.Runner, log *slog.Logger) error {
	schedules := r.Schedules()
	if len(schedules) == 0 {
		<-ctx.Done()
		return nil
	}
	next := map[string]time.Time{}
	now := time.Now()
	for name, every := range schedules {
		next[name] = now.Add(every)
	}
	tick := time.NewTicker(time.Minute)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case now := <-tick.C:
			for name, due := range next {
				if now.Before(due) {
					continue
				}
				next[name] = now.Add(schedules[name])
				rep, err := r.FullSync(ctx, name)
				if err != nil {
					log.WarnContext(ctx, "local: destination re-sync failed", slog.String("destination", name), slog.String("error", err.Error()))
					continue
				}
				log.InfoContext(ctx, "local: destination re-synced", slog.String("destination", name), slog.Int("added", rep.Added), slog.Int("removed", rep.Removed))
			}
		}
	}
}
