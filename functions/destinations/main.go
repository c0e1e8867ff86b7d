// Command destinations is the Lambda function that delivers to the
// destinations of aurum.yaml: EventBridge rules route the events each
// destination needs here (docs/destinations.md), and scheduled rules ask
// for full audience re-syncs.
package main

import (
	"context"
	"log"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/aurum-cdp/aurum/shared/adapter/awstrigger"
	"github.com/aurum-cdp/aurum/shared/adapter/secrets"
	"github.com/aurum-cdp/aurum/shared/lambda/destinations"
	"github.com/aurum-cdp/aurum/shared/wire/app"
)

func main() {
	s := app.SettingsFromEnv()
	p, ac, err := app.AWS(context.Background(), s, func(ac aws.Config, _ app.Settings, parts *app.Parts) {
		parts.Secrets = secrets.NewFromConfig(ac) // destination credentials
	})
	if err != nil {
		log.Fatal(err)
	}
	r, err := p.Destinations(app.TriggerParts{Queues: awstrigger.NewQueues(sqs.NewFromConfig(ac))})
	if err != nil {
		log.Fatal(err)
	}
	lambda.Start(destinations.New(r, p.Logger).Handle)
}
