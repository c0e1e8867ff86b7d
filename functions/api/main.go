// Command api is the Lambda function behind the API Gateway HTTP API: the
// Segment-compatible tracking API and the profile API.
package main

import (
	"context"
	"log"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/aurum-cdp/aurum/shared/http/api"
	"github.com/aurum-cdp/aurum/shared/wire/app"
)

func main() {
	s := app.SettingsFromEnv()
	p, _, err := app.AWS(context.Background(), s)
	if err != nil {
		log.Fatal(err)
	}
	h, err := p.HTTP(app.APIOptions(s))
	if err != nil {
		log.Fatal(err)
	}
	lambda.Start(api.LambdaHandler(h))
}
