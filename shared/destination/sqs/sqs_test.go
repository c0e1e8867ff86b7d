package sqs_test

import (
	"context"
	"testing"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/destination"
	"github.com/aurum-cdp/aurum/shared/destination/sqs"
)

type sender struct{ msgs []sqs.Message }

func (s *sender) SendMessage(_ context.Context, m sqs.Message) error {
	s.msgs = append(s.msgs, m)
	return nil
}

func TestDeliver(t *testing.T) {
	tests := []struct {
		name, queue  string
		group, dedup string
	}{
		{"standard queue", "https://sqs.eu-west-1.amazonaws.com/1/gifts", "", ""},
		{"fifo queue", "https://sqs.eu-west-1.amazonaws.com/1/gifts.fifo", "p1", "f1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &sender{}
			act, err := sqs.Kind(s).Build(config.TriggerAction{SQS: &config.SQSAction{QueueURL: tt.queue}})
			if err != nil {
				t.Fatal(err)
			}
			if err := act.Deliver(context.Background(), destination.Delivery{ID: "f1", ProfileID: "p1", Body: []byte(`{"a":1}`)}); err != nil {
				t.Fatal(err)
			}
			want := sqs.Message{QueueURL: tt.queue, Body: `{"a":1}`, GroupID: tt.group, DeduplicationID: tt.dedup, DeliveryID: "f1"}
			if len(s.msgs) != 1 || s.msgs[0] != want {
				t.Errorf("Deliver to %s sent %+v; want [%+v]", tt.queue, s.msgs, want)
			}
		})
	}
}

func TestBuildWithoutSender(t *testing.T) {
	if _, err := sqs.Kind(nil).Build(config.TriggerAction{SQS: &config.SQSAction{QueueURL: "https://q"}}); err == nil {
		t.Error("Build without a sender = nil error; want an error")
	}
}
