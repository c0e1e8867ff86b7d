// Command infra is Aurum's default CDK app: one stack, Aurum, holding the
// cdp construct, checked by the cdk-nag AwsSolutions pack.
//
// Run it through the pinned CDK CLI (make synth, make deploy). Context
// values (-c key=value, or cdk.json):
//
//	config      aurum.yaml to deploy (default ../aurum.yaml)
//	assets      folder make build writes (default ../build)
//	schemas     JSON Schemas of the published events (default ../events/schemas)
//	stackName   CloudFormation stack name (default Aurum)
//	production  true: deletion protection, retained table and logs
//	alarmEmail  address subscribed to the alarm topic
//	readKeySsm  SSM SecureString parameter holding the API's read key
//	nag         false: skip the cdk-nag checks
package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/aurum-cdp/aurum/infra/cdp"
	"github.com/aurum-cdp/aurum/shared/config"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "aurum infra:", err)
		os.Exit(1)
	}
}

func run() error {
	defer jsii.Close()
	app := awscdk.NewApp(nil)
	if err := build(app); err != nil {
		return err
	}
	app.Synth(nil)
	return nil
}

// build adds the Aurum stack to app.
func build(app awscdk.App) error {
	cfgPath := contextString(app, "config", "../aurum.yaml")
	cfg, err := config.Load(cfgPath)
	if err != nil {
		return fmt.Errorf("load %s: %w", cfgPath, err)
	}
	assets := contextString(app, "assets", "../build")
	if err := cdp.CheckAssets(assets, cfg.File); err != nil {
		return err
	}

	stack := awscdk.NewStack(app, jsii.String(contextString(app, "stackName", "Aurum")), &awscdk.StackProps{
		Description: jsii.String("Aurum customer data platform"),
	})
	c := cdp.NewCdp(stack, "Cdp", &cdp.CdpProps{
		Config:      cfg,
		AssetDir:    assets,
		SchemaDir:   contextString(app, "schemas", "../events/schemas"),
		Production:  contextString(app, "production", "false") == "true",
		AlarmEmail:  contextString(app, "alarmEmail", ""),
		ReadKeySSM:  contextString(app, "readKeySsm", ""),
		AdminKeySSM: contextString(app, "adminKeySsm", ""),
	})
	output(stack, "ApiUrl", c.APIStage.Url(), "Base URL of the HTTP API")
	output(stack, "BucketName", c.Bucket.BucketName(), "Drop bucket: put files under sources/<source>/")
	output(stack, "TableName", c.Table.TableName(), "DynamoDB table")
	output(stack, "BusName", c.Bus.EventBusName(), "EventBridge bus with Aurum's events")
	output(stack, "AlarmTopicArn", c.AlarmTopic.TopicArn(), "SNS topic of the alarms")

	if contextString(app, "nag", "true") != "false" {
		awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
	}
	return nil
}

func output(stack awscdk.Stack, id string, value *string, description string) {
	awscdk.NewCfnOutput(stack, jsii.String(id), &awscdk.CfnOutputProps{
		Value:       value,
		Description: jsii.String(description),
	})
}

// contextString returns the context value key, or def when it is unset.
func contextString(app awscdk.App, key, def string) string {
	v := app.Node().TryGetContext(jsii.String(key))
	switch v := v.(type) {
	case string:
		if v != "" {
			return v
		}
	case bool:
		return fmt.Sprint(v)
	}
	return def
}
