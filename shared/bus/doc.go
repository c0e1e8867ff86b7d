// Package bus implements Amazon EventBridge event-pattern matching and the
// in-process event bus that local mode uses in place of EventBridge.
//
// # Patterns
//
// ParsePattern compiles an EventBridge event pattern (the JSON a rule's
// EventPattern holds) and Pattern.Match tells whether an event matches it,
// following the EventBridge user guide: exact values (strings, numbers by
// their string representation, true, false, null), arrays in patterns (any
// value), arrays in events (any element), nested fields, prefix, suffix,
// equals-ignore-case, wildcard, anything-but (values, prefix, suffix,
// equals-ignore-case, wildcard), numeric comparisons, exists, cidr and $or.
// Like EventBridge, matching is array-consistent: fields taken from objects
// inside one array must come from the same element of that array.
//
// TestPattern is the local equivalent of the TestEventPattern API (and of
// `aws events test-event-pattern`): it also checks that the event is a full
// EventBridge event.
//
// # Local bus
//
// Bus delivers published envelopes to subscribers whose pattern matches the
// full EventBridge event built from the envelope, so a pattern written for an
// AWS rule works unchanged locally. Each subscriber has its own ordered queue,
// handler errors are retried with backoff, and events that still fail land in
// a dead-letter list. docs/bus.md describes the semantics and the few
// differences from AWS.
package bus
