package awstrigger_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"
	schedtypes "github.com/aws/aws-sdk-go-v2/service/scheduler/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/aurum-cdp/aurum/shared/adapter/awstrigger"
	"github.com/aurum-cdp/aurum/shared/core/trigger"
	sqsaction "github.com/aurum-cdp/aurum/shared/destination/sqs"
	"github.com/aurum-cdp/aurum/shared/model/events"
)

type engine struct {
	events  []string
	pending []trigger.Pending
}

func (e *engine) HandleEvent(_ context.Context, raw []byte) error {
	var h struct {
		DetailType string `json:"detail-type"`
	}
	_ = json.Unmarshal(raw, &h)
	e.events = append(e.events, h.DetailType)
	return nil
}

func (e *engine) Fire(_ context.Context, p trigger.Pending) error {
	e.pending = append(e.pending, p)
	return nil
}

func TestHandler(t *testing.T) {
	tests := []struct {
		name        string
		file        string
		payload     string
		wantEvents  int
		wantPending int
		wantErr     bool
	}{
		{"rule delivers an event", "triggers-segment-entered.json", "", 1, 0, false},
		{"schedule hands back a firing", "triggers-scheduled.json", "", 0, 1, false},
		{"neither", "", `{"hello":"world"}`, 0, 0, true},
		{"not an object", "", `[1]`, 0, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			payload := []byte(tt.payload)
			if tt.file != "" {
				var err error
				if payload, err = os.ReadFile("../../../events/" + tt.file); err != nil {
					t.Fatal(err)
				}
			}
			e := &engine{}
			_, err := lambda.NewHandler(awstrigger.NewHandler(e).Handle).Invoke(context.Background(), payload)
			if (err != nil) != tt.wantErr || len(e.events) != tt.wantEvents || len(e.pending) != tt.wantPending {
				t.Errorf("Invoke = %v with %d events, %d firings; want error %v, %d, %d", err, len(e.events), len(e.pending), tt.wantErr, tt.wantEvents, tt.wantPending)
			}
			if tt.wantPending == 1 && (e.pending[0].TriggerID != "cart-abandoned" || !e.pending[0].Due.Equal(time.Date(2026, 3, 1, 11, 15, 0, 0, time.UTC))) {
				t.Errorf("pending = %+v; want cart-abandoned due 11:15", e.pending[0])
			}
		})
	}
}

type schedClient struct {
	in  []*scheduler.CreateScheduleInput
	err error
}

func (c *schedClient) CreateSchedule(_ context.Context, in *scheduler.CreateScheduleInput, _ ...func(*scheduler.Options)) (*scheduler.CreateScheduleOutput, error) {
	c.in = append(c.in, in)
	return &scheduler.CreateScheduleOutput{}, c.err
}

func TestScheduler(t *testing.T) {
	p := trigger.Pending{TriggerID: "cart", ProfileID: "p1", Due: time.Date(2026, 3, 1, 11, 15, 0, 0, time.FixedZone("CET", 3600)),
		Cause: events.Cause{EventID: "e1", Source: "aurum", DetailType: "ProfileUpdated"}}
	tests := []struct {
		name    string
		err     error
		wantErr bool
	}{
		{"created", nil, false},
		{"already scheduled", &schedtypes.ConflictException{Message: new(string)}, false},
		{"throttled", errors.New("ThrottlingException"), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &schedClient{err: tt.err}
			s, err := awstrigger.NewScheduler(c, "arn:aws:lambda:eu-west-1:1:function:triggers", "arn:aws:iam::1:role/sched", "aurum")
			if err != nil {
				t.Fatal(err)
			}
			err = s.Schedule(context.Background(), p)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Schedule = %v; want error %v", err, tt.wantErr)
			}
			in := c.in[0]
			if got := *in.ScheduleExpression; got != "at(2026-03-01T10:15:00)" || *in.ScheduleExpressionTimezone != "UTC" {
				t.Errorf("expression %s %s; want at(2026-03-01T10:15:00) UTC", got, *in.ScheduleExpressionTimezone)
			}
			if *in.Name != awstrigger.ScheduleName(p) || len(*in.Name) > 64 || !strings.HasPrefix(*in.Name, "aurum-") {
				t.Errorf("name %q; want the stable name of at most 64 characters", *in.Name)
			}
			var payload awstrigger.Payload
			if err := json.Unmarshal([]byte(*in.Target.Input), &payload); err != nil || payload.Pending == nil || payload.Pending.FiringID() != p.FiringID() {
				t.Errorf("target input %s does not carry the pending firing", *in.Target.Input)
			}
			if in.ActionAfterCompletion != schedtypes.ActionAfterCompletionDelete {
				t.Errorf("ActionAfterCompletion = %s; want DELETE", in.ActionAfterCompletion)
			}
		})
	}
}

type sqsClient struct{ in []*sqs.SendMessageInput }

func (c *sqsClient) SendMessage(_ context.Context, in *sqs.SendMessageInput, _ ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	c.in = append(c.in, in)
	return &sqs.SendMessageOutput{}, nil
}

// Queues is the sqs action kind's sender: the delivery id travels as
// aurum_firing_id, FIFO ids only when set.
func TestQueues(t *testing.T) {
	tests := []struct {
		name string
		m    sqsaction.Message
	}{
		{"standard", sqsaction.Message{QueueURL: "https://q/std", Body: `{"a":1}`, DeliveryID: "f1"}},
		{"fifo", sqsaction.Message{QueueURL: "https://q/x.fifo", Body: `{}`, GroupID: "p1", DeduplicationID: "f1", DeliveryID: "f1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &sqsClient{}
			if err := awstrigger.NewQueues(c).SendMessage(context.Background(), tt.m); err != nil {
				t.Fatal(err)
			}
			in := c.in[0]
			attr := in.MessageAttributes["aurum_firing_id"]
			if *in.QueueUrl != tt.m.QueueURL || *in.MessageBody != tt.m.Body || attr.StringValue == nil || *attr.StringValue != tt.m.DeliveryID {
				t.Errorf("input %+v; want queue %s, body %s, aurum_firing_id %s", in, tt.m.QueueURL, tt.m.Body, tt.m.DeliveryID)
			}
			if got := aws.ToString(in.MessageGroupId) + "/" + aws.ToString(in.MessageDeduplicationId); got != tt.m.GroupID+"/"+tt.m.DeduplicationID {
				t.Errorf("group/dedup = %s; want %s/%s", got, tt.m.GroupID, tt.m.DeduplicationID)
			}
		})
	}
}
