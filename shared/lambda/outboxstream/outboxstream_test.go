package outboxstream_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"slices"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/aurum-cdp/aurum/shared/adapter/eventbridge"
	"github.com/aurum-cdp/aurum/shared/lambda/outboxstream"
	aevents "github.com/aurum-cdp/aurum/shared/model/events"
	"github.com/aurum-cdp/aurum/shared/model/fault"
)

const (
	updatedID = "5d0c7a3e9b1f4c2a8e6d4b2a0c9e7f15"
	enteredID = "9a8b7c6d5e4f30211203f4e5d6c7b8a9"
	// foldedID is embedded in a profile item written alone (a fold).
	foldedID = "7e1f2a3b4c5d6e7f8091a2b3c4d5e6f7"
)

type publisher struct {
	got  []aevents.Envelope
	fail error
}

func (p *publisher) Publish(_ context.Context, envs ...aevents.Envelope) error {
	p.got = append(p.got, envs...)
	return p.fail
}

func TestHandle(t *testing.T) {
	payload, err := os.ReadFile("../../../events/dynamodb-outbox-stream.json")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		fail      error
		wantErr   bool
		wantRetry []string
	}{
		{"published", nil, false, nil},
		{"throttled event is retried from its record", &eventbridge.PublishError{Total: 2, Failed: []eventbridge.Failure{{ID: enteredID, Code: "ThrottlingException", Kind: fault.ErrRetryable}}}, false, []string{"100000000000000000000003"}},
		{"invalid event is skipped", &eventbridge.PublishError{Total: 2, Failed: []eventbridge.Failure{{ID: updatedID, Kind: fault.ErrTooLarge}}}, false, nil},
		{"failed call retries the batch", errors.New("network down"), true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pub := &publisher{fail: tt.fail}
			out, err := lambda.NewHandler(outboxstream.New(pub, nil).Handle).Invoke(context.Background(), payload)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Invoke error = %v; want error %v", err, tt.wantErr)
			}
			var ids []string
			for _, e := range pub.got {
				ids = append(ids, e.ID)
			}
			if !slices.Equal(ids, []string{updatedID, enteredID, foldedID}) {
				t.Errorf("published %v; want the two inserted outbox events and the profile item's embedded one, in order", ids)
			}
			if len(pub.got) == 3 {
				var d map[string]any
				if err := json.Unmarshal(pub.got[1].Detail, &d); err != nil || d["segment_id"] != "vip" || pub.got[1].DetailType != aevents.TypeSegmentEntered {
					t.Errorf("second event = %s %s; want the SegmentEntered detail", pub.got[1].DetailType, pub.got[1].Detail)
				}
			}
			if tt.wantErr {
				return
			}
			var resp events.DynamoDBEventResponse
			if err := json.Unmarshal(out, &resp); err != nil {
				t.Fatal(err)
			}
			var retry []string
			for _, f := range resp.BatchItemFailures {
				retry = append(retry, f.ItemIdentifier)
			}
			if !slices.Equal(retry, tt.wantRetry) {
				t.Errorf("batch item failures = %v; want %v", retry, tt.wantRetry)
			}
		})
	}
}
