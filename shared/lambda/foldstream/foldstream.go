// Package foldstream folds appended events into their profiles in AWS: it
// is the handler of functions/fold, which the DynamoDB table's stream
// invokes for every appended event item (dynamo.AppendAttribute), in
// batches gathered over a batching window. A tracked event of a known
// profile costs one item write on the request path (store.Appender); the
// profile write, its segment re-evaluation and its ProfileUpdated event
// happen here, once per profile per batch (pipeline.Fold).
//
// Processing is idempotent: each profile records the stream position it
// has folded per partition, so a batch retried after a failure folds
// nothing twice. The identity statistics of the batches are kept in the
// instance and sent merged (dynamo.CounterFlush); OnShutdown sends what is
// left when the instance ends.
package foldstream

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/aurum-cdp/aurum/shared/adapter/dynamo"
	"github.com/aurum-cdp/aurum/shared/core/pipeline"
	"github.com/aurum-cdp/aurum/shared/lambda/outboxstream"
	"github.com/aurum-cdp/aurum/shared/port/store"
)

// Folder applies appended records; *pipeline.Pipeline implements it.
type Folder interface {
	Fold(ctx context.Context, apps []store.Appended) (pipeline.FoldResult, error)
}

// Handler handles DynamoDB stream batches.
type Handler struct {
	fold Folder
	log  *slog.Logger
}

// New returns a handler folding with f. A nil logger discards.
func New(f Folder, log *slog.Logger) *Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Handler{fold: f, log: log}
}

// Handle folds the appended events of a stream batch. Other records are
// ignored; an item that does not decode is logged (by key position, never
// its content) and skipped, so it cannot block the shard. A failed fold
// fails the batch: Lambda retries it (bisecting), and what was folded
// already is skipped.
func (h *Handler) Handle(ctx context.Context, e events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	var resp events.DynamoDBEventResponse
	var apps []store.Appended
	for _, r := range e.Records {
		if r.EventName != string(events.DynamoDBOperationTypeInsert) {
			continue
		}
		strs := outboxstream.StringAttributes(r.Change.NewImage)
		a, ok, err := dynamo.AppendedFromImage(strs, r.Change.SequenceNumber)
		if !ok {
			continue
		}
		if err != nil {
			h.log.ErrorContext(ctx, "foldstream: undecodable appended event skipped", slog.String("sequence", r.Change.SequenceNumber), slog.String("error", err.Error()))
			continue
		}
		apps = append(apps, a)
	}
	if len(apps) == 0 {
		return resp, nil
	}
	res, err := h.fold.Fold(ctx, apps)
	if err != nil {
		return resp, fmt.Errorf("foldstream: fold %d appended events: %w", len(apps), err)
	}
	h.log.InfoContext(ctx, "foldstream: folded", slog.Int("events", res.Folded), slog.Int("skipped", res.Skipped),
		slog.Int("profiles", res.Profiles), slog.Int("orphans", res.Orphans))
	return resp, nil
}

// Flusher sends what a store keeps in memory: the counter adds a
// dynamo.Store with Options.Counters defers.
type Flusher interface {
	FlushCounters(ctx context.Context) error
}

// ShutdownTimeout bounds the flush at shutdown: Lambda kills the process
// about 500 ms after its SIGTERM.
const ShutdownTimeout = 400 * time.Millisecond

// OnShutdown returns what the function runs when its instance shuts down
// (lambda.WithEnableSIGTERM): it sends f's pending counter adds within
// ShutdownTimeout and logs a failure (those adds are lost, never sent
// twice). A nil logger discards.
func OnShutdown(f Flusher, log *slog.Logger) func() {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
		defer cancel()
		if err := f.FlushCounters(ctx); err != nil {
			log.ErrorContext(ctx, "foldstream: counters not flushed at shutdown", slog.String("error", err.Error()))
		}
	}
}
