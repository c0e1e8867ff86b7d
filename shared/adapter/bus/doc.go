// Package bus is the in-process event bus that local mode uses in place of
// Amazon EventBridge.
//
// Bus delivers published envelopes to subscribers whose pattern (package
// pattern) matches the full EventBridge event built from the envelope, so a
// pattern written for an AWS rule works unchanged locally. Each subscriber
// has its own ordered queue, handler errors are retried with backoff, and
// events that still fail land in a dead-letter list. Send returns a Receipt
// that is done once every matching subscriber has handled the events, so
// local mode's outbox relay acknowledges an event only after its delivery.
// docs/bus.md describes the semantics and the few differences from AWS.
package bus
