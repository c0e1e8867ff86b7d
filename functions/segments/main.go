// Command segments is the Lambda function that re-evaluates given
// profiles' segments, for backfills after the segment definitions change.
// Everyday re-evaluation runs inline in the pipeline (same commit as the
// profile change) and in functions/scheduler (time).
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
	lambda.Start(p.Reevaluate)
}
