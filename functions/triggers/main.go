// Command triggers is the Lambda function that executes triggers: one
// EventBridge rule per trigger routes its events here, and EventBridge
// Scheduler one-time schedules hand back delayed firings when they are due.
package main

import (
	"context"
	"log"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/aurum-cdp/aurum/shared/wire/app"
)

func main() {
	p, ac, err := app.AWS(context.Background(), app.SettingsFromEnv())
	if err != nil {
		log.Fatal(err)
	}
	h, err := app.AWSTriggers(p, ac)
	if err != nil {
		log.Fatal(err)
	}
	lambda.Start(h.Handle)
}
