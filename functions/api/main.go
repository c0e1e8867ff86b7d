// Command api is the Lambda function behind the API Gateway HTTP API: the
// Segment-compatible tracking API and the profile API.
package main

import (
	"context"
	"log"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/aurum-cdp/aurum/shared/adapter/secrets"
	"github.com/aurum-cdp/aurum/shared/http/api"
	"github.com/aurum-cdp/aurum/shared/wire/app"
	"github.com/aurum-cdp/aurum/shared/wire/web"
)

func main() {
	s := app.SettingsFromEnv()
	p, _, err := app.AWS(context.Background(), s, func(ac aws.Config, _ app.Settings, parts *app.Parts) {
		parts.Secrets = secrets.NewFromConfig(ac) // write keys, webhook secrets, read and admin keys
	})
	if err != nil {
		log.Fatal(err)
	}
	h, err := web.Handler(p, web.Options(s))
	if err != nil {
		log.Fatal(err)
	}
	lambda.Start(api.LambdaHandler(h))
}
