package cdp

import (
	"maps"
	"slices"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/jsii-runtime-go"
)

// alarmTopic creates the SNS topic every alarm notifies. It is encrypted
// with a customer-managed key because CloudWatch cannot publish to a topic
// encrypted with the AWS-managed SNS key.
func (c *Cdp) alarmTopic(p *CdpProps) {
	key := awskms.NewKey(c.Construct, jsii.String("AlarmKey"), &awskms.KeyProps{
		Description:       jsii.String("Aurum alarm topic encryption"),
		EnableKeyRotation: jsii.Bool(true),
		RemovalPolicy:     p.removal(),
		PendingWindow:     awscdk.Duration_Days(jsii.Number(7)),
	})
	key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("CloudWatchAlarms"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("cloudwatch.amazonaws.com"), nil)},
		Actions:    jsii.Strings("kms:Decrypt", "kms:GenerateDataKey*"),
		// In a key policy, "*" is the key itself.
		Resources: jsii.Strings("*"),
		Conditions: &map[string]interface{}{
			"StringEquals": map[string]interface{}{"aws:SourceAccount": awscdk.Stack_Of(c.Construct).Account()},
		},
	}), jsii.Bool(false))
	c.AlarmTopic = awssns.NewTopic(c.Construct, jsii.String("Alarms"), &awssns.TopicProps{
		DisplayName: jsii.String("Aurum alarms"),
		MasterKey:   key,
		EnforceSSL:  jsii.Bool(true),
	})
	if p.AlarmEmail != "" {
		c.AlarmTopic.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(p.AlarmEmail), nil))
	}
}

// alarms: errors and throttles of every function, a non-empty dead-letter
// queue, the outbox or fold stream readers falling behind, and API server
// errors.
func (c *Cdp) alarms(p *CdpProps) {
	action := awscloudwatchactions.NewSnsAction(c.AlarmTopic)
	five := awscdk.Duration_Minutes(jsii.Number(5))
	alarm := func(id, description string, m awscloudwatch.Metric, threshold, periods float64) {
		a := m.CreateAlarm(c.Construct, jsii.String(id), &awscloudwatch.CreateAlarmOptions{
			AlarmDescription:   jsii.String(description),
			Threshold:          jsii.Number(threshold),
			EvaluationPeriods:  jsii.Number(periods),
			ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
			TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
		})
		a.AddAlarmAction(action)
		a.AddOkAction(action)
	}
	for _, s := range specs {
		fn, id := c.Functions[s.name], pascal(s.name)
		alarm(id+"ErrorsAlarm", "Aurum "+s.name+": invocations failed",
			fn.MetricErrors(&awscloudwatch.MetricOptions{Period: five, Statistic: jsii.String("Sum")}), 1, 1)
		alarm(id+"ThrottlesAlarm", "Aurum "+s.name+": invocations throttled",
			fn.MetricThrottles(&awscloudwatch.MetricOptions{Period: five, Statistic: jsii.String("Sum")}), 1, 1)
		if q, ok := c.DeadLetters[s.name]; ok {
			alarm(id+"DeadLettersAlarm", "Aurum "+s.name+": events in the dead-letter queue",
				q.MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{Period: five, Statistic: jsii.String("Maximum")}), 1, 1)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(c.DestinationDeadLetters)) {
		alarm("Destination"+pascal(name)+"DeadLettersAlarm", "Aurum destination "+name+": events its API destination could not take",
			c.DestinationDeadLetters[name].MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{Period: five, Statistic: jsii.String("Maximum")}), 1, 1)
	}
	alarm("OutboxIteratorAgeAlarm", "Aurum outbox: the table stream is not drained (events are late)",
		c.Functions[FnOutbox].Metric(jsii.String("IteratorAge"), &awscloudwatch.MetricOptions{
			Period:    awscdk.Duration_Minutes(jsii.Number(1)),
			Statistic: jsii.String("Maximum"),
		}), DefaultIteratorAgeAlarm*1000, 5)
	alarm("FoldIteratorAgeAlarm", "Aurum fold: the table stream is not drained (profiles lag behind their tracked events)",
		c.Functions[FnFold].Metric(jsii.String("IteratorAge"), &awscloudwatch.MetricOptions{
			Period:    awscdk.Duration_Minutes(jsii.Number(1)),
			Statistic: jsii.String("Maximum"),
		}), DefaultIteratorAgeAlarm*1000, 5)
	alarm("ApiServerErrorsAlarm", "Aurum API: 5xx responses",
		c.APIStage.MetricServerError(&awscloudwatch.MetricOptions{Period: five, Statistic: jsii.String("Sum")}), 5, 1)
}
