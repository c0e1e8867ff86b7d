// Command outbox is the Lambda function on the DynamoDB table's stream: it
// publishes the transactional outbox's events to Aurum's EventBridge bus
// (AURUM_BUS). It needs only its settings, the publisher and the stream
// decoder, and links nothing else of the platform.
package main

import (
	"context"
	"log"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	ebsdk "github.com/aws/aws-sdk-go-v2/service/eventbridge"

	"github.com/aurum-cdp/aurum/shared/adapter/eventbridge"
	"github.com/aurum-cdp/aurum/shared/lambda/outboxstream"
	"github.com/aurum-cdp/aurum/shared/wire/settings"
)

func main() {
	ctx := context.Background()
	s := settings.FromEnv()
	ac, err := settings.AWS(ctx)
	if err != nil {
		log.Fatal(err)
	}
	pub, err := eventbridge.NewPublisher(ebsdk.NewFromConfig(ac), s.Bus)
	if err != nil {
		log.Fatal(err)
	}
	lambda.Start(outboxstream.New(pub, settings.Logger(os.Stdout)).Handle)
}
