// Command scheduler is the Lambda function run every minute by an
// EventBridge schedule: it sweeps the segment due-time index and commits
// the memberships that time changed (a window closed). With an rfm block
// in the configuration it also recomputes the RFM thresholds when they are
// older than rfm.refresh, from a parallel Scan of the profiles.
package main

import (
	"context"
	"log"
	"time"

	"github.com/aurum-cdp/aurum/shared/app"
	"github.com/aurum-cdp/aurum/shared/segment"
	"github.com/aurum-cdp/aurum/shared/store/dynamo"
	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	ctx := context.Background()
	p, _, err := app.AWS(ctx, app.SettingsFromEnv())
	if err != nil {
		log.Fatal(err)
	}
	s, err := app.NewSegments(p.Parts)
	if err != nil {
		log.Fatal(err)
	}
	scan := app.DynamoScan(p.Store, dynamo.ScanOptions{Segments: 4})
	lambda.Start(func(ctx context.Context, ev app.SweepEvent) (segment.SweepResult, error) {
		at := ev.Time
		if at.IsZero() {
			at = time.Now()
		}
		res, err := s.Scheduler.Sweep(ctx, at)
		if err != nil || scan == nil {
			return res, err
		}
		// Cheap when the thresholds are fresh: one item read.
		if _, err := s.Scheduler.RefreshRFM(ctx, scan(ctx), at, false); err != nil {
			return res, err
		}
		return res, nil
	})
}
