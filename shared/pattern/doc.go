// Package pattern is Amazon EventBridge's event-pattern language: the JSON
// a rule's EventPattern holds, compiled once and matched against events.
// Configuration (subscribers, trigger conditions), the trigger engine and
// the local bus all speak it through this one package.
//
// Parse compiles a pattern and Pattern.Match tells whether an event
// matches it, following the EventBridge user guide: exact values (strings,
// numbers by their string representation, true, false, null), arrays in
// patterns (any value), arrays in events (any element), nested fields,
// prefix, suffix, equals-ignore-case, wildcard, anything-but (values,
// prefix, suffix, equals-ignore-case, wildcard), numeric comparisons,
// exists, cidr and $or. Like EventBridge, matching is array-consistent:
// fields taken from objects inside one array must come from the same
// element of that array. Flatten and MatchFlat match one event against many
// patterns without parsing it again.
//
// Test is the local equivalent of the TestEventPattern API (and of
// `aws events test-event-pattern`): it also checks that the event is a full
// EventBridge event. docs/bus.md lists the few differences from AWS.
package pattern
