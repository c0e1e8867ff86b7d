// Command api is the Lambda function behind the API Gateway HTTP API: the
// Segment-compatible tracking API and the profile API.
package main

import (
	"context"
	"log"

	"github.com/aurum-cdp/aurum/shared/api"
	"github.com/aurum-cdp/aurum/shared/app"
	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	s := app.SettingsFromEnv()
	p, _, err := app.AWS(context.Background(), s)
	if err != nil {
		log.Fatal(err)
	}
	h, err := p.HTTP(s.APIOptions())
	if err != nil {
		log.Fatal(err)
	}
	lambda.Start(api.LambdaHandler(h))
}
