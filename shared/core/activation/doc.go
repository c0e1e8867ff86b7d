// Package activation runs the destinations of aurum.yaml: it reads
// Aurum's events (ProfileUpdated, SegmentEntered and SegmentExited, and
// whatever a destination's event pattern selects), turns them into the
// batches each destination receives — tracked events forwarded, changed
// profiles upserted, audience members added and removed — checks consent
// before anything about a profile is sent, and hands every batch to a
// Deliverer, which calls the destination's kind.
//
// The kinds are destination.Presets, registered in shared/wire/app. The
// runner keeps retries and dead letters out: a Deliverer wraps them (the
// default, PassThrough, calls the kind once). A batch's id is derived from
// its content, so a re-delivered event yields the same batches and ids.
package activation
