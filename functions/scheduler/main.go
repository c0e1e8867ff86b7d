// Command scheduler is the Lambda function run every minute by an
// EventBridge schedule: it sweeps the segment due-time index and commits
// the memberships that time changed (a window closed). With an rfm block
// in the configuration it also recomputes the RFM thresholds when they are
// older than rfm.refresh, from a parallel Scan of the profiles. It runs
// the pull sources that are due (docs/ingestion.md#pull-sources).
package main

import (
	"context"
	"log"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"

	s3objects "github.com/aurum-cdp/aurum/shared/adapter/s3"
	"github.com/aurum-cdp/aurum/shared/adapter/secrets"
	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/wire/app"
)

func main() {
	// Pull sources write their rejected rows to the bucket and resolve
	// their connectors' secrets.
	p, _, err := app.AWS(context.Background(), app.SettingsFromEnv(), func(ac aws.Config, s app.Settings, parts *app.Parts) {
		if len(parts.Config.SourcesOfKind(config.KindPull)) > 0 {
			parts.Objects = s3objects.NewFromConfig(ac, s.Bucket)
			parts.Secrets = secrets.NewFromConfig(ac)
		}
	})
	if err != nil {
		log.Fatal(err)
	}
	// A pull source whose connector kind is not registered, or whose
	// options it refuses, stops the cold start rather than every tick.
	set, err := p.Pulls(app.Connectors())
	if err != nil {
		log.Fatal(err)
	}
	if err := set.Close(); err != nil {
		log.Fatal(err)
	}
	lambda.Start(p.Sweep)
}
