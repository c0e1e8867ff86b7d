// Package sqs is the sqs action kind: it sends the delivery's body to an
// SQS queue. The queue client is injected (awstrigger.Queues in AWS).
package sqs

import (
	"context"
	"fmt"
	"strings"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/destination"
)

// KindName is the action's key in aurum.yaml.
const KindName = "sqs"

// Sender sends one message to a queue.
type Sender interface {
	SendMessage(ctx context.Context, m Message) error
}

// Message is one message of the sqs action.
type Message struct {
	QueueURL string
	Body     string
	// GroupID and DeduplicationID are set for FIFO queues (.fifo): the
	// profile id and the delivery id.
	GroupID         string
	DeduplicationID string
	// DeliveryID (a trigger's firing id) is sent as the message attribute
	// aurum_firing_id.
	DeliveryID string
}

// Kind is the sqs action kind over sender.
func Kind(sender Sender) destination.Kind {
	return destination.Kind{Name: KindName, Build: func(a config.TriggerAction) (destination.Action, error) {
		if sender == nil {
			return nil, fmt.Errorf("no queue sender configured")
		}
		return &action{cfg: a.SQS, sender: sender}, nil
	}}
}

// action is one configured sqs action.
type action struct {
	cfg    *config.SQSAction
	sender Sender
}

// BodyTemplate makes the action destination.Templated.
func (a *action) BodyTemplate() string { return a.cfg.Body }

// Deliver sends d.Body to the queue.
func (a *action) Deliver(ctx context.Context, d destination.Delivery) error {
	m := Message{QueueURL: a.cfg.QueueURL, Body: string(d.Body), DeliveryID: d.ID}
	if IsFIFO(a.cfg.QueueURL) {
		m.GroupID, m.DeduplicationID = d.ProfileID, d.ID
	}
	return a.sender.SendMessage(ctx, m)
}

// IsFIFO reports whether the queue is a FIFO queue (its name ends .fifo).
func IsFIFO(queueURL string) bool {
	return len(queueURL) > len(".fifo") && strings.HasSuffix(queueURL, ".fifo")
}
