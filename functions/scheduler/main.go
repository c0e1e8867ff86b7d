// Command scheduler is the Lambda function run every minute by an
// EventBridge schedule: it sweeps the segment due-time index and commits
// the memberships that time changed (a window closed).
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
	lambda.Start(func(ctx context.Context, ev app.SweepEvent) (segment.SweepResult, error) {
		at := ev.Time
		if at.IsZero() {
			at = time.Now()
		}
		return s.Scheduler.Sweep(ctx, at)
	})
}
