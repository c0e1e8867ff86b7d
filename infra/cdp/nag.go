package cdp

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// notificationsHandlerID is the id of the stack-wide singleton function CDK
// adds to apply S3 bucket notifications.
const notificationsHandlerID = "BucketNotificationsHandler050a0587b7544547bf325f094a3db834"

// Suppression reasons, documented in docs/deploy.md.
const (
	reasonDLQ = "This queue is itself a dead-letter queue (Lambda on-failure destination " +
		"and EventBridge target DLQ); its depth is alarmed."
	reasonAPIAuth = "Authentication happens in functions/api: Segment write keys (HTTP Basic) for " +
		"tracking calls, read keys for profile reads, HMAC signatures for webhooks. API Gateway " +
		"authorizers cannot check these without a Lambda authorizer duplicating the same code on " +
		"every request; /healthz is public by design."
	reasonStreams = "dynamodb:ListStreams supports no resource-level permission; the stream " +
		"actions themselves are scoped to the table's stream ARN."
	reasonObjectPrefixes = "S3 object ARNs can only be scoped by key prefix: sources/* to read " +
		"drops, rejected/* and reports/* to write results."
	reasonSchedules = "Delayed firings are one-time schedules the triggers function names at run " +
		"time; the grant is limited to Aurum's schedule group."
	reasonNotifications = "CDK's own bucket-notifications handler (a custom resource that " +
		"applies the sources/<name>/ notifications at deploy time) writes its logs through the " +
		"AWS-managed AWSLambdaBasicExecutionRole; CDK offers no way to replace that policy."
)

func suppress(c constructs.IConstruct, id, reason string, appliesTo ...string) {
	s := &cdknag.NagPackSuppression{Id: jsii.String(id), Reason: jsii.String(reason)}
	if len(appliesTo) > 0 {
		a := make([]interface{}, 0, len(appliesTo))
		for _, r := range appliesTo {
			a = append(a, &cdknag.RegexAppliesTo{Regex: jsii.String(r)})
		}
		s.AppliesTo = &a
	}
	cdknag.NagSuppressions_AddResourceSuppressions(c, &[]*cdknag.NagPackSuppression{s}, jsii.Bool(true))
}

// suppressions records the cdk-nag AwsSolutions findings that are accepted,
// each with its reason. Every other finding fails the infra tests.
func (c *Cdp) suppressions() {
	for _, q := range c.DeadLetters {
		suppress(q, "AwsSolutions-SQS3", reasonDLQ)
	}
	for _, q := range c.DestinationDeadLetters {
		suppress(q, "AwsSolutions-SQS3", reasonDLQ)
	}
	suppress(c.API, "AwsSolutions-APIG4", reasonAPIAuth)

	suppress(c.Roles[FnOutbox], "AwsSolutions-IAM5", reasonStreams, `/^Resource::\*$/`)
	suppress(c.Roles[FnFold], "AwsSolutions-IAM5", reasonStreams, `/^Resource::\*$/`)
	suppress(c.Roles[FnIngestS3], "AwsSolutions-IAM5", reasonObjectPrefixes,
		`/^Resource::<[A-Za-z0-9]+\.Arn>\/(sources|rejected|reports)\/\*$/`)
	suppress(c.Roles[FnScheduler], "AwsSolutions-IAM5", reasonObjectPrefixes,
		`/^Resource::<[A-Za-z0-9]+\.Arn>\/rejected\/pulls\/\*$/`)

	if h := awscdk.Stack_Of(c.Construct).Node().TryFindChild(jsii.String(notificationsHandlerID)); h != nil {
		suppress(h, "AwsSolutions-IAM4", reasonNotifications,
			`/^Policy::arn:<AWS::Partition>:iam::aws:policy\/service-role\/AWSLambdaBasicExecutionRole$/`)
	}
}
