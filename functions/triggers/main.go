// Command triggers is the Lambda function that executes triggers: one
// EventBridge rule per trigger routes its events here, and EventBridge
// Scheduler one-time schedules hand back delayed firings when they are due.
package main

import (
	"context"
	"log"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/aurum-cdp/aurum/shared/adapter/awstrigger"
	"github.com/aurum-cdp/aurum/shared/adapter/secrets"
	"github.com/aurum-cdp/aurum/shared/wire/app"
)

func main() {
	s := app.SettingsFromEnv()
	p, ac, err := app.AWS(context.Background(), s, func(ac aws.Config, _ app.Settings, parts *app.Parts) {
		parts.Secrets = secrets.NewFromConfig(ac) // webhook signing secrets
	})
	if err != nil {
		log.Fatal(err)
	}
	sq := sqs.NewFromConfig(ac)
	tp := app.TriggerParts{Queues: awstrigger.NewQueues(sq)}
	if s.TriggerDLQURL != "" {
		tp.DeadLetters = awstrigger.NewDeadLetterQueue(sq, s.TriggerDLQURL)
	}
	if s.TriggerARN != "" {
		// Delayed firings: one-time schedules that invoke this function.
		sched, err := awstrigger.NewScheduler(scheduler.NewFromConfig(ac), s.TriggerARN, s.SchedulerRoleARN, s.ScheduleGroup)
		if err != nil {
			log.Fatal(err)
		}
		tp.Scheduler = sched
	}
	e, err := p.TriggerEngine(tp)
	if err != nil {
		log.Fatal(err)
	}
	lambda.Start(awstrigger.NewHandler(e).Handle)
}
