// Package trigger executes the triggers declared in aurum.yaml: it decides
// which triggers an event starts, waits out delays that a later event can
// cancel, checks conditions and frequency caps, and runs the actions
// exactly once per trigger, profile and causing event. The engine knows no
// action kind: a destination.Registry builds each configured action
// (signed webhook, TriggerFired event, SQS message, …) by its kind, and
// the engine hands every action a destination.Delivery; Staged actions
// (the event) are committed with the firing's claim, the others run after
// it and are dead-lettered under their kind and index when they fail.
//
// The same Engine runs in functions/triggers (EventBridge rules and
// EventBridge Scheduler one-time schedules invoke it) and in local mode
// (subscribed to the in-process bus, with StoreScheduler standing in for
// EventBridge Scheduler). It keeps its state in generic store items:
//
//	trg.fired   key firing id          one per (trigger, profile, cause): at most once
//	trg.cap     key trigger/profile    "head" (version guard) and "t#<time>#<firing>" log items
//	trg.unless  key trigger/profile    "<time>#<event id>": events that cancel delayed firings
//	trg.pending key "all"              "<due>#<firing id>": delayed firings (StoreScheduler)
//
// docs/triggers.md describes the semantics for users.
package trigger
