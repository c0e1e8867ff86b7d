// Package outboxstream carries the transactional outbox to EventBridge in
// AWS: it is the handler of functions/outbox, which the DynamoDB table's
// stream invokes. Every outbox item inserted by a commit, and the outbox
// events a profile item carries when a profile write was committed alone
// (dynamo.OutboxAttribute), are decoded and published; other items and
// removals are ignored.
//
// Delivery is at least once: a batch that fails is retried from the first
// failing record (ReportBatchItemFailures), so events may be published
// twice; subscribers de-duplicate on detail.event_id.
package outboxstream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"

	"github.com/aurum-cdp/aurum/shared/adapter/dynamo"
	"github.com/aurum-cdp/aurum/shared/adapter/eventbridge"
	aevents "github.com/aurum-cdp/aurum/shared/model/events"
	"github.com/aurum-cdp/aurum/shared/model/fault"
)

// Publisher publishes envelopes; *eventbridge.Publisher implements it.
type Publisher interface {
	Publish(ctx context.Context, envs ...aevents.Envelope) error
}

// Handler handles DynamoDB stream batches.
type Handler struct {
	pub Publisher
	log *slog.Logger
}

// New returns a handler publishing with pub. A nil logger discards.
func New(pub Publisher, log *slog.Logger) *Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Handler{pub: pub, log: log}
}

// StringAttributes returns the string attributes of a stream record's
// image (name → value), the form the store's image decoders take
// (dynamo.OutboxEventsFromImage, dynamo.AppendedFromImage).
func StringAttributes(img map[string]events.DynamoDBAttributeValue) map[string]string {
	strs := make(map[string]string, len(img))
	for k, v := range img {
		if v.DataType() == events.DataTypeString {
			strs[k] = v.String()
		}
	}
	return strs
}

// Handle publishes the outbox events of a stream batch. Events that can
// never be published (a corrupt item, an event EventBridge rejects as
// invalid or too large) are logged and skipped, so they cannot block the
// shard. For transient failures it reports the first failing record as a
// batch item failure: Lambda retries the batch from there.
func (h *Handler) Handle(ctx context.Context, e events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	var resp events.DynamoDBEventResponse
	var envs []aevents.Envelope
	seqOf := map[string]string{} // event id → sequence number of its record
	var order []string
	for _, r := range e.Records {
		if r.EventName != string(events.DynamoDBOperationTypeInsert) && r.EventName != string(events.DynamoDBOperationTypeModify) {
			continue
		}
		strs := StringAttributes(r.Change.NewImage)
		got, ok, err := dynamo.OutboxEventsFromImage(strs)
		if !ok {
			continue
		}
		if err != nil {
			h.log.ErrorContext(ctx, "outboxstream: undecodable outbox item skipped", slog.String("sequence", r.Change.SequenceNumber), slog.String("error", err.Error()))
			continue
		}
		for _, env := range got {
			if _, dup := seqOf[env.ID]; dup {
				continue
			}
			seqOf[env.ID] = r.Change.SequenceNumber
			order = append(order, env.ID)
			envs = append(envs, env)
		}
	}
	if len(envs) == 0 {
		return resp, nil
	}
	err := h.pub.Publish(ctx, envs...)
	if err == nil {
		h.log.InfoContext(ctx, "outboxstream: published", slog.Int("events", len(envs)))
		return resp, nil
	}
	var pe *eventbridge.PublishError
	if !errors.As(err, &pe) {
		return resp, fmt.Errorf("outboxstream: publish %d events: %w", len(envs), err)
	}
	retry := map[string]bool{}
	for _, f := range pe.Failed {
		if errors.Is(f.Kind, fault.ErrInvalid) || errors.Is(f.Kind, fault.ErrTooLarge) {
			h.log.ErrorContext(ctx, "outboxstream: event rejected by EventBridge; skipped", slog.String("event_id", f.ID), slog.String("code", f.Code))
			continue
		}
		retry[f.ID] = true
	}
	for _, id := range order {
		if retry[id] {
			h.log.WarnContext(ctx, "outboxstream: publish failed; batch retried from this record", slog.String("event_id", id), slog.Int("failed", len(retry)))
			resp.BatchItemFailures = []events.DynamoDBBatchItemFailure{{ItemIdentifier: seqOf[id]}}
			break
		}
	}
	return resp, nil
}
