// Package pipeline is Aurum's processing core: normalized records are
// resolved to profiles, merged into golden records and committed to the
// Store in one atomic change per record, with the outbox events the change
// causes.
package pipeline

import (
	"context"

	"github.com/aurum-cdp/aurum/shared/profile"
)

// Result summarizes one Ingest call.
type Result struct {
	// Accepted records were committed.
	Accepted int `json:"accepted"`
	// Duplicates were already committed before (re-delivery); no change.
	Duplicates int `json:"duplicates"`
	// Created profiles.
	Created int `json:"created"`
	// Merges of two or more profiles.
	Merges int `json:"merges"`
	// ProfileIDs holds, per input record, the profile it landed in.
	ProfileIDs []string `json:"-"`
}

// Add accumulates another result.
func (r *Result) Add(o Result) {
	r.Accepted += o.Accepted
	r.Duplicates += o.Duplicates
	r.Created += o.Created
	r.Merges += o.Merges
	r.ProfileIDs = append(r.ProfileIDs, o.ProfileIDs...)
}

// Ingester is what ingestion paths feed: the pipeline.
type Ingester interface {
	Ingest(ctx context.Context, recs []profile.Record) (Result, error)
}
