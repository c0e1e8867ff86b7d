package dynamo

import (
	"encoding/json"
	"strings"

	"github.com/aurum-cdp/aurum/shared/events"
	"github.com/aurum-cdp/aurum/shared/fault"
)

// IsOutboxKey reports whether the item with partition key pk and sort key
// sk is an outbox item.
func IsOutboxKey(pk, sk string) bool {
	return strings.HasPrefix(pk, pfxOutbox) && sk == skOutbox
}

// OutboxFromImage decodes the event of an outbox item as the table's stream
// delivers it, given the string attributes of the record's new image (name
// → value). ok is false when the image is not an outbox item. A body that
// does not decode is an ErrInvalid error.
func OutboxFromImage(strs map[string]string) (env events.Envelope, ok bool, err error) {
	if !IsOutboxKey(strs[PartitionKey], strs[SortKey]) {
		return events.Envelope{}, false, nil
	}
	if err := json.Unmarshal([]byte(strs[attrBody]), &env); err != nil {
		return events.Envelope{}, true, fault.Invalidf("dynamo: outbox item %s: body: %v", strs[PartitionKey], err)
	}
	if env.ID == "" || env.ID != strings.TrimPrefix(strs[PartitionKey], pfxOutbox) {
		return events.Envelope{}, true, fault.Invalidf("dynamo: outbox item %s: body names event %q", strs[PartitionKey], env.ID)
	}
	return env, true, nil
}
