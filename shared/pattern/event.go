package pattern

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/aurum-cdp/aurum/shared/model/events"
	"github.com/aurum-cdp/aurum/shared/model/fault"
)

// eventShape is the EventBridge event layout, in EventBridge's field order.
type eventShape struct {
	Version    string          `json:"version"`
	ID         string          `json:"id"`
	DetailType string          `json:"detail-type"`
	Source     string          `json:"source"`
	Account    string          `json:"account"`
	Time       string          `json:"time"`
	Region     string          `json:"region"`
	Resources  []string        `json:"resources"`
	Detail     json.RawMessage `json:"detail"`
}

// EventJSON builds the full EventBridge event for env, as the bus delivers
// it to a rule (the event patterns match). account and region name the
// bus. Time is written like
// EventBridge does (UTC, whole seconds); a zero time takes now(). An empty
// detail becomes {}.
func EventJSON(env events.Envelope, account, region string, now func() time.Time) ([]byte, error) {
	if err := validateEnvelope(env); err != nil {
		return nil, err
	}
	t := env.Time
	if t.IsZero() {
		t = now()
	}
	detail := env.Detail
	if len(detail) == 0 {
		detail = json.RawMessage("{}")
	}
	b, err := json.Marshal(eventShape{
		Version:    "0",
		ID:         env.ID,
		DetailType: env.DetailType,
		Source:     env.Source,
		Account:    account,
		Time:       t.UTC().Format("2006-01-02T15:04:05Z"),
		Region:     region,
		Resources:  []string{},
		Detail:     detail,
	})
	if err != nil {
		return nil, fmt.Errorf("pattern: encode event %s: %w", env.ID, err)
	}
	return b, nil
}

// validateEnvelope checks what EventBridge requires of an entry: a source,
// a detail type and a detail that is a JSON object.
func validateEnvelope(env events.Envelope) error {
	switch {
	case env.ID == "":
		return fault.Invalidf("event: event without id")
	case env.Source == "":
		return fault.Invalidf("event: event %s: empty source", env.ID)
	case env.DetailType == "":
		return fault.Invalidf("event: event %s: empty detail-type", env.ID)
	}
	if len(env.Detail) > 0 {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(env.Detail, &m); err != nil || m == nil {
			return fault.Invalidf("event: event %s: detail is not a JSON object", env.ID)
		}
	}
	return nil
}
