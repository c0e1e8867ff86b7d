// Command segments is the Lambda function that re-evaluates given
// profiles' segments, for backfills after the segment definitions change.
// Everyday re-evaluation runs inline in the pipeline (same commit as the
// profile change) and in functions/scheduler (time).
package main

import (
	"context"
	"log"
	"time"

	"github.com/aurum-cdp/aurum/shared/app"
	"github.com/aurum-cdp/aurum/shared/segment"
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
	lambda.Start(func(ctx context.Context, ev app.ReevaluateEvent) (segment.SweepResult, error) {
		return s.Scheduler.Reevaluate(ctx, ev.ProfileIDs, time.Now())
	})
}
