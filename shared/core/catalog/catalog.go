// Package catalog is Aurum's data catalog: what arrived from each source,
// field by field — inferred type, completeness, distinct-count estimate
// (HyperLogLog), top values (Space-Saving heavy hitters), a few sample
// values (masked when personal), invalid rates per normalizer, first and
// last seen — and the health of identifiers: their most repeated values,
// where placeholders such as 0000000000 show up, with suggested block-list
// entries.
//
// An Observer sees every mapped row on any ingestion path (file loads, the
// tracking API, bus events), accumulates statistics in memory and merges
// them into store items once per source per batch (Flush), so the catalog
// costs ingestion little. A Reader assembles the catalog from those items
// without scanning; package catalogapi serves it as GET /v1/catalog and
// GET /v1/catalog/{source}.
//
// Personal values never reach the store in clear: top values and samples
// of personal fields are masked (j***@g***.com) and keyed by a hash;
// identifier values are shown in clear only when they look like
// placeholders, which identify nobody. Samples and top values remember
// the records they came from as hashes of their keys (RecordRef), so that
// a GDPR erasure removes them (Forget).
package catalog

import (
	"context"
	"time"

	"github.com/aurum-cdp/aurum/shared/port/store"
)

// Store item kinds the catalog owns. Key is the source name.
const (
	// KindSource holds a source's row counts (Sort SortSummary).
	KindSource = "cat.source"
	// KindField holds one field's statistics (Sort is the field path).
	KindField = "cat.field"
	// KindIdent holds one identifier type's heavy hitters within the
	// source (Sort is the identifier type).
	KindIdent = "cat.ident"
	// SortSummary is the Sort of a KindSource item.
	SortSummary = "summary"
)

// Limits that keep items small (a store item holds at most 64 KiB).
const (
	// MaxFields bounds the fields tracked per source; further fields of
	// wide or ever-changing rows are ignored.
	MaxFields = 200
	// MaxDepth bounds how deep nested JSON objects are flattened.
	MaxDepth = 4
	// TopValues is the capacity of stored heavy-hitter summaries.
	TopValues = 20
	// batchTop is how many of a batch's most frequent values are merged
	// into the stored summary.
	batchTop = 64
	// batchExact is how many distinct values a batch counts exactly
	// before its summary starts evicting (Space-Saving).
	batchExact = 4096
	// Samples is how many sample values are kept per field.
	Samples = 5
	// maxReasons bounds the distinct error reasons kept per field.
	maxReasons = 8
	// maxDisplay bounds the length of a shown value.
	maxDisplay = 80
	// hllPrecision gives 4096 registers: about 1.6% standard error.
	hllPrecision = 12
)

// Store is the part of store.Store the catalog uses.
type Store interface {
	Item(ctx context.Context, kind, key, sort string) (store.Item, error)
	Items(ctx context.Context, kind, key, from, to string, limit int, cursor string) ([]store.Item, string, error)
	Commit(ctx context.Context, changes ...store.Change) error
}

// sourceState is the stored value of a KindSource item.
type sourceState struct {
	Rows      int64     `json:"rows"`
	Rejected  int64     `json:"rejected"`
	Warned    int64     `json:"warned"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
}

// fieldState is the stored value of a KindField item.
type fieldState struct {
	Seen    int64            `json:"seen"`
	Present int64            `json:"present"`
	Types   map[string]int64 `json:"types"`
	HLL     []byte           `json:"hll,omitempty"`
	Top     []Counted        `json:"top,omitempty"`
	Samples []string         `json:"samples,omitempty"`
	// SampleRefs holds the RecordRef of each sample's record ("" when
	// unknown), index by index.
	SampleRefs []string         `json:"sample_refs,omitempty"`
	PII        bool             `json:"pii,omitempty"`
	Invalid    int64            `json:"invalid,omitempty"`
	Blocked    int64            `json:"blocked,omitempty"`
	Required   int64            `json:"required_missing,omitempty"`
	Reasons    map[string]int64 `json:"reasons,omitempty"`
	FirstSeen  time.Time        `json:"first_seen"`
	LastSeen   time.Time        `json:"last_seen"`
}

// identState is the stored value of a KindIdent item.
type identState struct {
	Values  int64     `json:"values"`
	Blocked int64     `json:"blocked,omitempty"`
	Top     []Counted `json:"top,omitempty"`
}
