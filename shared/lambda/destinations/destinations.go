// Package destinations is the Lambda handler of functions/destinations:
// each destination's EventBridge rule delivers the events it needs as
// {"destination": NAME, "event": <the EventBridge event>} (one event per
// invocation, asynchronously: Lambda retries twice, then the function's
// dead-letter queue keeps the event), and a scheduled rule, or an
// operator, invokes it with {"sync": "NAME"} for a full audience
// re-sync.
package destinations

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/aurum-cdp/aurum/shared/model/events"
	"github.com/aurum-cdp/aurum/shared/model/fault"
)

// Runner is the part of activation.Runner the handler drives.
type Runner interface {
	HandleFor(ctx context.Context, destination string, env events.Envelope) error
	FullSyncNamed(ctx context.Context, name string) (added, removed int, err error)
}

// Handler handles one invocation.
type Handler struct {
	r   Runner
	log *slog.Logger
}

// New returns the handler over r.
func New(r Runner, log *slog.Logger) *Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Handler{r: r, log: log}
}

// invocation is a destination's event or a re-sync request.
type invocation struct {
	Sync        string   `json:"sync"`
	Destination string   `json:"destination"`
	Event       *ebEvent `json:"event"`
}

// ebEvent is an EventBridge event.
type ebEvent struct {
	ID         string          `json:"id"`
	Source     string          `json:"source"`
	DetailType string          `json:"detail-type"`
	Time       time.Time       `json:"time"`
	Detail     json.RawMessage `json:"detail"`
}

// Handle routes one invocation. The envelope's id is the detail's
// event_id (the stable id Aurum writes into every detail; EventBridge
// assigns its own envelope id), so a re-delivered event yields the same
// batches.
func (h *Handler) Handle(ctx context.Context, raw json.RawMessage) error {
	var in invocation
	if err := json.Unmarshal(raw, &in); err != nil {
		return fault.Invalidf("destinations: invocation is not JSON: %v", err)
	}
	if in.Sync != "" {
		added, removed, err := h.r.FullSyncNamed(ctx, in.Sync)
		if err != nil {
			return fmt.Errorf("destinations: sync %s: %w", in.Sync, err)
		}
		h.log.InfoContext(ctx, "destinations: re-synced", slog.String("destination", in.Sync), slog.Int("added", added), slog.Int("removed", removed))
		return nil
	}
	if in.Destination == "" || in.Event == nil || in.Event.DetailType == "" {
		return fault.Invalidf("destinations: invocation is neither {\"destination\": NAME, \"event\": EVENT} nor {\"sync\": NAME}")
	}
	ev := in.Event
	var head struct {
		EventID string `json:"event_id"`
	}
	_ = json.Unmarshal(ev.Detail, &head)
	id := head.EventID
	if id == "" {
		id = ev.ID
	}
	return h.r.HandleFor(ctx, in.Destination, events.Envelope{ID: id, Source: ev.Source, DetailType: ev.DetailType, Time: ev.Time, Detail: ev.Detail})
}
