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
	// The batches' identity statistics are sent merged, every few
	// minutes, and at shutdown (SIGTERM).
	p, _, err := app.AWS(context.Background(), s, app.DeferCounters(app.FoldCounters()))
	if err != nil {
		log.Fatal(err)
	}
	var opts []lambda.Option
	if f, ok := p.Store.(foldstream.Flusher); ok {
		opts = append(opts, lambda.WithEnableSIGTERM(foldstream.OnShutdown(f, p.Logger)))
	}
	lambda.StartWithOptions(foldstream.New(p.Pipeline, p.Logger).Handle, opts...)
}
