// Command scheduler is the Lambda function run every minute by an
// EventBridge schedule: it sweeps the segment due-time index and commits
// the memberships that time changed (a window closed). With an rfm block
// in the configuration it also recomputes the RFM thresholds when they are
// older than rfm.refresh, from a parallel Scan of the profiles.
package main

import (
	"context"
	"log"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/aurum-cdp/aurum/shared/wire/app"
)

func main() {
	p, _, err := app.AWS(context.Background(), app.SettingsFromEnv())
	if err != nil {
		log.Fatal(err)
	}
	lambda.Start(p.Sweep)
}
