// Command ingest-s3 is the Lambda function notified of objects created
// under sources/<source>/ in the drop bucket: it streams, maps and loads
// each file, writing rejected rows and a load report beside it.
package main

import (
	"context"
	"log"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"

	s3objects "github.com/aurum-cdp/aurum/shared/adapter/s3"
	"github.com/aurum-cdp/aurum/shared/wire/app"
)

func main() {
	p, _, err := app.AWS(context.Background(), app.SettingsFromEnv(), func(ac aws.Config, s app.Settings, parts *app.Parts) {
		parts.Objects = s3objects.NewFromConfig(ac, s.Bucket)
	})
	if err != nil {
		log.Fatal(err)
	}
	h, err := p.S3Handler()
	if err != nil {
		log.Fatal(err)
	}
	lambda.Start(h.Handle)
}
