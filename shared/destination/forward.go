package destination

import (
	"context"
	"time"
)

// Event is one event as an event-forwarding destination receives it: a
// tracked event of a profile ("Order Completed") or one of Aurum's own
// (SegmentEntered, TriggerFired), with its properties after the
// destination's mapping and the profile it is about.
type Event struct {
	// ID is the event's stable id; tools that de-duplicate use it.
	ID   string    `json:"id"`
	Name string    `json:"name"`
	Time time.Time `json:"time"`
	// Properties are the event's properties after the mapping.
	Properties map[string]any `json:"properties,omitempty"`
	// Member is the profile the event is about, mapped as for profile
	// sync (the tool's identifying fields: email, external_id, …).
	Member Member `json:"member"`
}

// EventBatch is one batch of events for one destination.
type EventBatch struct {
	// ID is the batch's idempotency id, the same on every attempt.
	ID     string  `json:"id"`
	Events []Event `json:"events"`
}

// ProfileBatch is one batch of changed profiles to upsert.
type ProfileBatch struct {
	// ID is the batch's idempotency id, the same on every attempt.
	ID      string   `json:"id"`
	Members []Member `json:"members"`
}

// EventForward is a destination that receives events. Sending a batch
// again (a retry) must not create duplicates the tool cannot collapse:
// kinds pass Event.ID where the tool takes one.
type EventForward interface {
	ForwardEvents(ctx context.Context, b EventBatch) (Result, error)
}

// ProfileSync is a destination that upserts profiles: sending the same
// batch again leaves the tool in the same state.
type ProfileSync interface {
	SyncProfiles(ctx context.Context, b ProfileBatch) (Result, error)
}

// Batch operations.
const (
	OpEvents   = "events"
	OpProfiles = "profiles"
	OpAudience = "audience"
)

// Batch is one delivery of a destination: exactly one of Events, Profiles
// and Audience, named by Op. The runner hands it to a destination's
// Action as the JSON Delivery.Body, so a delivery kept in a dead-letter
// queue can be replayed with the destination's name alone.
type Batch struct {
	Op       string          `json:"op"`
	Events   *EventBatch     `json:"events,omitempty"`
	Profiles *ProfileBatch   `json:"profiles,omitempty"`
	Audience *AudienceChange `json:"audience,omitempty"`
}

// Size is the number of items in b.
func (b Batch) Size() int {
	switch {
	case b.Events != nil:
		return len(b.Events.Events)
	case b.Profiles != nil:
		return len(b.Profiles.Members)
	case b.Audience != nil:
		return len(b.Audience.Add) + len(b.Audience.Remove)
	}
	return 0
}
