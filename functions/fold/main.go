// Command fold is the Lambda function on the DynamoDB table's stream that
// folds appended events (tracked events of known profiles, written as one
// item each by the ingestion functions) into their profiles, once per
// profile per batch.
package main

import (
	"context"
	"log"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/aurum-cdp/aurum/shared/lambda/foldstream"
	"github.com/aurum-cdp/aurum/shared/wire/app"
)

func main() {
	s := app.SettingsFromEnv()
	// Every profile the fold reads is written back with a version check.
	s.EventualReads = true
	p, _, err := app.AWS(context.Background(), s)
	if err != nil {
		log.Fatal(err)
	}
	lambda.Start(foldstream.New(p.Pipeline, p.Logger).Handle)
}
