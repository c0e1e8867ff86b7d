package identity

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aurum-cdp/aurum/shared/store"
)

// ItemReader reads generic store items (store.Store has it).
type ItemReader interface {
	Items(ctx context.Context, kind, key, from, to string, limit int, cursor string) ([]store.Item, string, error)
}

// StreamStats sums the statistics counters the pipeline keeps (ItemStats)
// into Stats: per rule links, merges and blocked links, links blocked per
// protection, records, and the cluster-size histogram (profiles per
// bucket, kept with ItemAdd as profiles change size). Largest comes from
// the size ranking (ItemTop) and Quarantined from the quarantine list
// (ItemQuarantine, at most MaxQuarantineListed). It reads StatShards+2
// keys, never a scan. This is what GET /v1/identity/stats serves.
func (e *Engine) StreamStats(ctx context.Context, st ItemReader) (Stats, error) {
	s := newStats(e)
	for shard := range StatShards {
		cursor := ""
		for {
			items, next, err := st.Items(ctx, ItemStats, fmt.Sprintf("shard-%d", shard), "", "", 500, cursor)
			if err != nil {
				return Stats{}, fmt.Errorf("identity: read statistics: %w", err)
			}
			for _, it := range items {
				s.add(it.Sort, int(it.N))
			}
			if next == "" {
				break
			}
			cursor = next
		}
	}
	for _, b := range s.Histogram {
		s.Clusters += b.Clusters
	}
	top, _, err := st.Items(ctx, ItemTop, TopKey, "", "", MaxLargest, "")
	if err != nil {
		return Stats{}, fmt.Errorf("identity: read cluster ranking: %w", err)
	}
	for _, it := range top {
		n, id, err := ParseTopSort(it.Sort)
		if err != nil {
			return Stats{}, err
		}
		s.Largest = append(s.Largest, ClusterSize{ProfileID: id, Records: n})
	}
	qs, _, err := st.Items(ctx, ItemQuarantine, QuarantineKey, "", "", MaxQuarantineListed, "")
	if err != nil {
		return Stats{}, fmt.Errorf("identity: read quarantine list: %w", err)
	}
	for _, it := range qs {
		var q Quarantine
		if err := json.Unmarshal(it.Value, &q); err != nil {
			return Stats{}, fmt.Errorf("identity: decode quarantine entry: %w", err)
		}
		s.Quarantined = append(s.Quarantined, q)
	}
	return s, nil
}

// MaxQuarantineListed bounds the quarantined values StreamStats lists.
const MaxQuarantineListed = 100

// add applies one counter "rule/<name>/<field>" or "blocked/<protection>".
func (s *Stats) add(name string, n int) {
	switch name {
	case CounterRecords:
		s.Records += n
		return
	case CounterSplits:
		s.Splits += n
		return
	}
	if label, ok := strings.CutPrefix(name, CounterHistPrefix); ok {
		for i := range s.Histogram {
			if s.Histogram[i].Label == label {
				s.Histogram[i].Clusters += n
			}
		}
		return
	}
	if p, ok := strings.CutPrefix(name, "blocked/"); ok {
		s.Blocked[p] += n
		return
	}
	rest, ok := strings.CutPrefix(name, "rule/")
	if !ok {
		return
	}
	i := strings.LastIndexByte(rest, '/')
	if i < 0 {
		return
	}
	r := s.rule(rest[:i])
	switch rest[i+1:] {
	case "links":
		r.Links += n
	case "merges":
		r.Merges += n
	case "blocked":
		r.Blocked += n
	}
}
