// Command outbox is the Lambda function on the DynamoDB table's stream: it
// publishes the transactional outbox's events to Aurum's EventBridge bus
// (AURUM_BUS).
package main

import (
	"context"
	"log"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	ebsdk "github.com/aws/aws-sdk-go-v2/service/eventbridge"

	"github.com/aurum-cdp/aurum/shared/adapter/eventbridge"
	"github.com/aurum-cdp/aurum/shared/lambda/outboxstream"
	"github.com/aurum-cdp/aurum/shared/wire/app"
)

func main() {
	ctx := context.Background()
	ac, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		log.Fatal(err)
	}
	pub, err := eventbridge.NewPublisher(ebsdk.NewFromConfig(ac), os.Getenv("AURUM_BUS"))
	if err != nil {
		log.Fatal(err)
	}
	lambda.Start(outboxstream.New(pub, app.NewLogger(os.Stdout)).Handle)
}
