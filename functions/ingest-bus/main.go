// Command ingest-bus is the Lambda function that ingests events other
// applications and SaaS partner event sources put on an EventBridge bus,
// one rule per bus source in aurum.yaml.
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
	h, err := p.BusHandler()
	if err != nil {
		log.Fatal(err)
	}
	lambda.Start(h.Handle)
}
