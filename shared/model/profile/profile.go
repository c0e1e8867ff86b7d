// Package profile holds Aurum's domain types: identifiers, normalized source
// records, customer events and the golden record (Profile).
//
// The types carry no behaviour tied to a technology; every store, function
// and the local mode exchange them as they are. Attribute and property values
// are JSON values (string, float64, bool, nil, []any, map[string]any) so they
// survive every store and the published events unchanged.
package profile

import (
	"fmt"
	"strings"
	"time"
)

// Identifier is a typed, normalized identifying value: email:ann@example.com,
// phone:+447700900123, customer_id:C-1001.
type Identifier struct {
	Type  string `json:"type"`
	Value string `json:"value"`
}

// String renders the identifier as "type:value", the form used in the API
// (?identifier=email:ann@example.com) and as a store key.
func (i Identifier) String() string { return i.Type + ":" + i.Value }

// ParseIdentifier parses "type:value". The value itself may contain colons.
func ParseIdentifier(s string) (Identifier, error) {
	t, v, ok := strings.Cut(s, ":")
	if !ok || t == "" || v == "" {
		return Identifier{}, fmt.Errorf("identifier %q: want type:value", s)
	}
	return Identifier{Type: t, Value: v}, nil
}

// Record is one normalized source record: what one source said about one
// person at one moment. Records are the unit of ingestion, idempotency and
// provenance. A record may carry events (a tracked action, an order line).
type Record struct {
	// Source is the source name from aurum.yaml.
	Source string `json:"source"`
	// ID is unique within the source: a mapped record id, a Segment
	// messageId, or "<object key>#<line>" for file rows without one.
	ID string `json:"id"`
	// ObservedAt is when the source observed the facts (mapped field, event
	// timestamp); survivorship compares it, never the arrival time.
	ObservedAt time.Time `json:"observed_at"`
	// ReceivedAt is when Aurum received the record.
	ReceivedAt time.Time `json:"received_at"`
	// Identifiers are normalized and de-duplicated.
	Identifiers []Identifier `json:"identifiers,omitempty"`
	// Attributes are normalized values keyed by attribute name.
	Attributes map[string]any `json:"attributes,omitempty"`
	// Events the record carries (tracked actions, orders).
	Events []Event `json:"events,omitempty"`
	// Location points back to the input: "s3://bucket/key:line", "api:track".
	Location string `json:"location,omitempty"`
}

// Key returns the record's unique key "source/id".
func (r Record) Key() string { return r.Source + "/" + r.ID }

// Event is a customer action: a Segment track/page/screen call, an order
// from a file, a webhook notification.
type Event struct {
	// ID is stable across re-deliveries (messageId, order id, ...).
	ID string `json:"id"`
	// Source is the source name from aurum.yaml.
	Source string `json:"source"`
	// Type is the call type: track, page, screen, identify, group, alias,
	// or "event" for events mapped from files and webhooks.
	Type string `json:"type"`
	// Name is the event name ("Order Completed") or page/screen name.
	Name       string         `json:"name,omitempty"`
	Timestamp  time.Time      `json:"timestamp"`
	Properties map[string]any `json:"properties,omitempty"`
}

// Attribute is one golden-record attribute with its provenance.
type Attribute struct {
	Value      any       `json:"value"`
	Source     string    `json:"source"`
	RecordID   string    `json:"record_id"`
	ObservedAt time.Time `json:"observed_at"`
}

// Tally counts the records that observed one value of an attribute.
type Tally struct {
	Count int `json:"count"`
	// Last is the newest observation of the value, with its provenance.
	Last Attribute `json:"last"`
}

// Profile is the golden record of one person: the union of the identifiers
// of its records, surviving attribute values with provenance, aggregates and
// the most recent events.
type Profile struct {
	ID string `json:"id"`
	// Version increases by one on every committed change; stores use it for
	// optimistic concurrency.
	Version     int64                `json:"version"`
	Identifiers []Identifier         `json:"identifiers"`
	Attributes  map[string]Attribute `json:"attributes"`
	// Aggregates are computed from events (orders_count, last_order_at ...).
	Aggregates map[string]any `json:"aggregates,omitempty"`
	// Tallies count the values observed per attribute, a bounded number
	// of them, for the most_frequent survivorship strategy.
	Tallies map[string][]Tally `json:"tallies,omitempty"`
	// Sources counts the records received per source.
	Sources     map[string]int `json:"sources,omitempty"`
	RecordCount int            `json:"record_count"`
	EventCount  int            `json:"event_count"`
	// RecentEvents holds the newest events, newest first, bounded by
	// MaxRecentEvents so the profile stays within item-size limits.
	RecentEvents []Event `json:"recent_events,omitempty"`
	// MergedFrom lists profile ids merged into this one; they redirect here.
	MergedFrom []string  `json:"merged_from,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
	// Segments is the current segment membership: segment id → the time
	// the profile entered it. Package segment maintains it.
	Segments map[string]time.Time `json:"segments,omitempty"`
	// NextEvalAt is when the profile's segment memberships can next change
	// without new data (a window closing); zero when no segment depends
	// on time. Package segment schedules a re-evaluation then.
	NextEvalAt time.Time `json:"next_eval_at,omitzero"`
	// RFM is the profile's recency/frequency/monetary score as of its
	// last evaluation; nil when RFM is not configured or not applicable.
	RFM *RFM `json:"rfm,omitempty"`
	// Folded records, per event partition (the profile id an appended
	// event was written under), the change-stream sequence number of the
	// newest appended event folded into this profile, so that a stream
	// batch delivered again folds nothing twice (DynamoDB only; see
	// store.Appender).
	Folded map[string]string `json:"folded,omitempty"`
}

// SeqAfter reports whether stream sequence number a comes after b:
// both are decimal numbers of any length; "" comes before every number.
func SeqAfter(a, b string) bool {
	a, b = strings.TrimLeft(a, "0"), strings.TrimLeft(b, "0")
	if len(a) != len(b) {
		return len(a) > len(b)
	}
	return a > b
}

// RFM is a recency, frequency, monetary score: each dimension is a
// quintile from 1 (lowest) to 5 (best), with a label such as "champions".
type RFM struct {
	R     int    `json:"r"`
	F     int    `json:"f"`
	M     int    `json:"m"`
	Label string `json:"label"`
	// At is when the score was computed (recency decays with time).
	At time.Time `json:"at"`
}

// MaxRecentEvents bounds Profile.RecentEvents.
const MaxRecentEvents = 50

// HasIdentifier reports whether p holds id.
func (p *Profile) HasIdentifier(id Identifier) bool {
	for _, x := range p.Identifiers {
		if x == id {
			return true
		}
	}
	return false
}
