// Package awstrigger adapts the trigger engine to AWS: EventBridge
// Scheduler one-time schedules for delayed firings, SQS for the sqs action
// and the dead-letter queue, and the Lambda handler of functions/triggers.
//
// Clients are injected; build them with config.LoadDefaultConfig, which
// honours AWS_ENDPOINT_URL and the per-service overrides (LocalStack).
package awstrigger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"
	schedtypes "github.com/aws/aws-sdk-go-v2/service/scheduler/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/aurum-cdp/aurum/shared/core/trigger"
	sqsaction "github.com/aurum-cdp/aurum/shared/destination/sqs"
	"github.com/aurum-cdp/aurum/shared/model/fault"
)

// SchedulerAPI is the part of the EventBridge Scheduler client used.
type SchedulerAPI interface {
	CreateSchedule(ctx context.Context, in *scheduler.CreateScheduleInput, optFns ...func(*scheduler.Options)) (*scheduler.CreateScheduleOutput, error)
}

// Scheduler schedules delayed firings as one-time EventBridge Scheduler
// schedules (at(...) in UTC) that invoke functions/triggers with the
// pending firing, and delete themselves after running.
type Scheduler struct {
	client SchedulerAPI
	// TargetARN is the triggers function's ARN; RoleARN a role the
	// scheduler assumes to invoke it; Group the schedule group ("" is
	// default).
	targetARN, roleARN, group string
}

// NewScheduler returns a Scheduler.
func NewScheduler(client SchedulerAPI, targetARN, roleARN, group string) (*Scheduler, error) {
	if client == nil || targetARN == "" || roleARN == "" {
		return nil, fault.Invalidf("awstrigger: scheduler needs a client, a target ARN and a role ARN")
	}
	return &Scheduler{client: client, targetARN: targetARN, roleARN: roleARN, group: group}, nil
}

// Payload is what a schedule sends to functions/triggers.
type Payload struct {
	Pending *trigger.Pending `json:"aurum_pending"`
}

// ScheduleName is the schedule's name for a firing: stable, so scheduling
// a firing twice finds the first schedule (ConflictException).
func ScheduleName(p trigger.Pending) string { return "aurum-" + p.FiringID() }

// Schedule creates the schedule; one that exists already is success.
func (s *Scheduler) Schedule(ctx context.Context, p trigger.Pending) error {
	in, err := json.Marshal(Payload{Pending: &p})
	if err != nil {
		return fmt.Errorf("awstrigger: encode pending firing: %w", err)
	}
	req := &scheduler.CreateScheduleInput{
		Name:                       aws.String(ScheduleName(p)),
		ScheduleExpression:         aws.String("at(" + p.Due.UTC().Format("2006-01-02T15:04:05") + ")"),
		ScheduleExpressionTimezone: aws.String("UTC"),
		FlexibleTimeWindow:         &schedtypes.FlexibleTimeWindow{Mode: schedtypes.FlexibleTimeWindowModeOff},
		ActionAfterCompletion:      schedtypes.ActionAfterCompletionDelete,
		Description:                aws.String("Aurum trigger " + p.TriggerID),
		Target: &schedtypes.Target{
			Arn:         aws.String(s.targetARN),
			RoleArn:     aws.String(s.roleARN),
			Input:       aws.String(string(in)),
			RetryPolicy: &schedtypes.RetryPolicy{MaximumRetryAttempts: aws.Int32(10), MaximumEventAgeInSeconds: aws.Int32(86400)},
		},
	}
	if s.group != "" {
		req.GroupName = aws.String(s.group)
	}
	_, err = s.client.CreateSchedule(ctx, req)
	var conflict *schedtypes.ConflictException
	switch {
	case err == nil, errors.As(err, &conflict):
		return nil
	default:
		return fmt.Errorf("awstrigger: create schedule %s: %w: %w", ScheduleName(p), fault.ErrRetryable, err)
	}
}

// SQSAPI is the part of the SQS client used.
type SQSAPI interface {
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
}

// Queues sends the sqs action's messages.
type Queues struct{ client SQSAPI }

// NewQueues returns the sqs action kind's sender over client.
func NewQueues(client SQSAPI) *Queues { return &Queues{client: client} }

// SendMessage sends m (the SDK retries transient errors).
func (q *Queues) SendMessage(ctx context.Context, m sqsaction.Message) error {
	in := &sqs.SendMessageInput{
		QueueUrl:    aws.String(m.QueueURL),
		MessageBody: aws.String(m.Body),
		MessageAttributes: map[string]sqstypes.MessageAttributeValue{
			"aurum_firing_id": {DataType: aws.String("String"), StringValue: aws.String(m.DeliveryID)},
		},
	}
	if m.GroupID != "" {
		in.MessageGroupId = aws.String(m.GroupID)
	}
	if m.DeduplicationID != "" {
		in.MessageDeduplicationId = aws.String(m.DeduplicationID)
	}
	if _, err := q.client.SendMessage(ctx, in); err != nil {
		return fmt.Errorf("awstrigger: send message to queue: %w", err)
	}
	return nil
}

// DeadLetterQueue is the dead-letter sink in AWS: one JSON message per
// failed action on an SQS queue.
type DeadLetterQueue struct {
	client   SQSAPI
	queueURL string
}

// NewDeadLetterQueue returns a sink sending to queueURL.
func NewDeadLetterQueue(client SQSAPI, queueURL string) *DeadLetterQueue {
	return &DeadLetterQueue{client: client, queueURL: queueURL}
}

// DeadLetter sends d to the queue.
func (q *DeadLetterQueue) DeadLetter(ctx context.Context, d trigger.DeadLetter) error {
	b, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("awstrigger: encode dead letter: %w", err)
	}
	_, err = q.client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(q.queueURL), MessageBody: aws.String(string(b))})
	if err != nil {
		return fmt.Errorf("awstrigger: send dead letter of firing %s: %w", d.FiringID, err)
	}
	return nil
}

// Engine is what the Lambda handler drives; *trigger.Engine implements it.
type Engine interface {
	HandleEvent(ctx context.Context, raw []byte) error
	Fire(ctx context.Context, p trigger.Pending) error
}

// Handler is the Lambda handler of functions/triggers. It receives either
// an EventBridge event from a trigger's rule or a Payload from a one-time
// schedule.
type Handler struct{ engine Engine }

// NewHandler returns the handler.
func NewHandler(e Engine) *Handler { return &Handler{engine: e} }

// Handle dispatches one invocation. Malformed input is logged by the
// caller's runtime as an error and not retried usefully, so it returns an
// ErrInvalid error; other errors make Lambda retry the invocation.
func (h *Handler) Handle(ctx context.Context, raw json.RawMessage) error {
	var probe struct {
		Pending    *trigger.Pending `json:"aurum_pending"`
		DetailType string           `json:"detail-type"`
	}
	if err := json.Unmarshal(raw, &probe); err != nil {
		return fault.Invalidf("awstrigger: input is not a JSON object: %v", err)
	}
	switch {
	case probe.Pending != nil:
		if probe.Pending.TriggerID == "" || probe.Pending.ProfileID == "" {
			return fault.Invalidf("awstrigger: pending firing without trigger or profile")
		}
		return h.engine.Fire(ctx, *probe.Pending)
	case probe.DetailType != "":
		return h.engine.HandleEvent(ctx, raw)
	default:
		return fault.Invalidf("awstrigger: input is neither an EventBridge event nor a scheduled firing")
	}
}
