package local

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/aurum-cdp/aurum/shared/source/pull"
	"github.com/aurum-cdp/aurum/shared/wire/app"
)

// pullTick is how often local mode looks for due pull sources: one state
// item read per source, so schedules of a few seconds work locally.
const pullTick = time.Second

// startPulls builds local mode's pull sources with the registered
// connectors and runs each on its schedule until ctx is done, as the
// scheduler function's tick does in AWS. Sources that cannot be built (an
// unknown connector kind, options the connector refuses) are an error
// before anything runs.
func startPulls(ctx context.Context, wg *sync.WaitGroup, p *app.Platform, out io.Writer, log *slog.Logger) error {
	set, err := p.Pulls(app.Connectors())
	if err != nil {
		return fmt.Errorf("local: %w", err)
	}
	if len(set.Runners()) == 0 {
		return nil
	}
	for _, r := range set.Runners() {
		fmt.Fprintf(out, "pull source %s: every %s\n", r.Name(), r.Schedule())
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		runPulls(ctx, set, pullTick, out)
		if err := set.Close(); err != nil {
			log.WarnContext(ctx, "local: close pull connectors", "err", err)
		}
	}()
	return nil
}

// runPulls ticks set every interval until ctx is done, printing a line per
// run that read rows or failed.
func runPulls(ctx context.Context, set *pull.Set, every time.Duration, out io.Writer) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		for _, res := range set.Tick(ctx, time.Now()) {
			if res.Err != nil && ctx.Err() != nil {
				continue // stopped mid-run: the next start runs it again
			}
			printPull(out, res)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func printPull(out io.Writer, res pull.Result) {
	switch {
	case res.Err != nil:
		fmt.Fprintf(out, "%-40s failed, retried later: %v\n", "pull "+res.Source, res.Err)
	case res.Ran && res.Rows > 0:
		line := fmt.Sprintf("%-40s %6d rows  %5d rejected  %4d dropped fields  %5d duplicates",
			"pull "+res.Source, res.Rows, res.Rejected, res.FieldsDropped, res.Duplicates)
		if res.Rejected > 0 || res.FieldsDropped > 0 {
			line += "  → " + pull.RejectedPrefix + res.Source + "/"
		}
		fmt.Fprintln(out, line)
	}
}
