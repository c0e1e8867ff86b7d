// Package segment evaluates Aurum's dynamic segments: CEL expressions
// (cel.dev/cel-go) over the golden record, its recent events and now.
//
// An Evaluator compiles the segments of aurum.yaml once. Evaluate returns a
// profile's memberships and the next instant they can change with time
// alone (a window closing), so a profile is re-evaluated exactly then
// instead of on a daily scan. Every function of the language is declared
// once, in operatorTable, with its overloads and its time analysis (what
// it contributes to that instant); the CEL environment and the analysis
// are both built from it.
//
// The Extension keeps memberships in the same atomic change as the profile
// change that caused them: the membership on the profile, the history and
// member items, the sharded live counters, the due-time index and the
// SegmentEntered/SegmentExited outbox events. The Scheduler sweeps the
// due-time index and commits the transitions that time causes. See
// docs/segments.md.
package segment
