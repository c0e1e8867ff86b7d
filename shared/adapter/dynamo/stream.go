package dynamo

import (
	"encoding/json"
	"strings"

	"github.com/aurum-cdp/aurum/shared/model/events"
	"github.com/aurum-cdp/aurum/shared/model/fault"
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

// OutboxAttribute holds, on a profile item, the outbox events of the
// write that stored it (JSON array of envelopes), when the store publishes
// the outbox from the stream (Options.StreamOutbox). The outbox function's
// stream filter selects images that carry it.
const OutboxAttribute = "out"

// OutboxEventsFromImage decodes the outbox events a stream record's new
// image carries: the event of an outbox item, or the events embedded in a
// profile item (OutboxAttribute). ok is false when the image carries none;
// a body that does not decode is an ErrInvalid error.
func OutboxEventsFromImage(strs map[string]string) (envs []events.Envelope, ok bool, err error) {
	if env, ok, err := OutboxFromImage(strs); ok {
		if err != nil {
			return nil, true, err
		}
		return []events.Envelope{env}, true, nil
	}
	out := strs[OutboxAttribute]
	if out == "" || !strings.HasPrefix(strs[PartitionKey], pfxProfile) || strs[SortKey] != skProfile {
		return nil, false, nil
	}
	if err := json.Unmarshal([]byte(out), &envs); err != nil {
		return nil, true, fault.Invalidf("dynamo: outbox events of profile item %s: %v", strs[PartitionKey], err)
	}
	for _, e := range envs {
		if e.ID == "" {
			return nil, true, fault.Invalidf("dynamo: outbox events of profile item %s: an event without id", strs[PartitionKey])
		}
	}
	return envs, true, nil
}

// Lambda event filter patterns (EventBridge pattern syntax, applied to each
// stream record) of the functions on the table's stream. The CDK stack
// deploys exactly these; tests match them against real stream records of
// DynamoDB Local.
const (
	// OutboxItemFilter selects inserted outbox items (functions/outbox).
	OutboxItemFilter = `{"eventName":["INSERT"],"dynamodb":{"Keys":{"pk":{"S":[{"prefix":"O#"}]}}}}`
	// OutboxEmbeddedFilter selects profile items written with their
	// outbox events embedded (functions/outbox; StreamOutbox).
	OutboxEmbeddedFilter = `{"eventName":["INSERT","MODIFY"],"dynamodb":{"NewImage":{"out":{"S":[{"exists":true}]}}}}`
	// FoldFilter selects inserted appended event items (functions/fold).
	FoldFilter = `{"eventName":["INSERT"],"dynamodb":{"Keys":{"pk":{"S":[{"prefix":"P#"}]},"sk":{"S":[{"prefix":"E#"}]}},"NewImage":{"app":{"S":[{"exists":true}]}}}}`
)
