package identity

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/aurum-cdp/aurum/shared/model/fault"
	"github.com/aurum-cdp/aurum/shared/model/profile"

	"github.com/aurum-cdp/aurum/shared/port/store"
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
	var err error
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
	if s.Largest, err = largest(ctx, st); err != nil {
		return Stats{}, err
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

// ProfileReader reads a live profile; StreamStats uses it, when the store
// it is given has it, for the exact sizes of the largest clusters.
type ProfileReader interface {
	Profile(ctx context.Context, id string) (profile.Profile, error)
}

// maxRankCandidates bounds the ranking entries largest reads.
const maxRankCandidates = 200

// largest returns the MaxLargest largest clusters. The ranking (ItemTop)
// orders clusters by RankStep of their size, so every cluster of the true
// top MaxLargest ranks at or above the step of the MaxLargest-th entry:
// largest reads those candidates and, when st can read profiles, their
// exact sizes (otherwise the size each entry was written with).
func largest(ctx context.Context, st ItemReader) ([]ClusterSize, error) {
	cands, err := rankCandidates(ctx, st)
	if err != nil {
		return nil, err
	}
	if pr, ok := st.(ProfileReader); ok {
		if cands, err = exactSizes(ctx, pr, cands); err != nil {
			return nil, err
		}
	}
	slices.SortFunc(cands, func(a, b ClusterSize) int {
		if a.Records != b.Records {
			return b.Records - a.Records
		}
		return strings.Compare(a.ProfileID, b.ProfileID)
	})
	return cands[:min(len(cands), MaxLargest)], nil
}

// rankCandidates reads the ranking down to the step of its MaxLargest-th
// entry (at most maxRankCandidates entries), each profile once, with the
// size it was written with (at least its step).
func rankCandidates(ctx context.Context, st ItemReader) ([]ClusterSize, error) {
	var cands []ClusterSize
	seen := map[string]bool{}
	floor := -1
	cursor := ""
	for len(cands) < maxRankCandidates {
		items, next, err := st.Items(ctx, ItemTop, TopKey, "", "", MaxLargest, cursor)
		if err != nil {
			return nil, fmt.Errorf("identity: read cluster ranking: %w", err)
		}
		stop := false
		for _, it := range items {
			step, id, err := ParseTopSort(it.Sort)
			if err != nil {
				return nil, err
			}
			if floor >= 0 && step < floor {
				stop = true
				break
			}
			if seen[id] {
				continue
			}
			seen[id] = true
			cands = append(cands, ClusterSize{ProfileID: id, Records: max(int(it.N), step)})
			if len(cands) == MaxLargest {
				floor = step
			}
		}
		if stop || next == "" {
			break
		}
		cursor = next
	}
	return cands, nil
}

// exactSizes replaces the candidates' sizes with their profiles' record
// counts, leaving out profiles erased or merged away meanwhile.
func exactSizes(ctx context.Context, pr ProfileReader, cands []ClusterSize) ([]ClusterSize, error) {
	kept := cands[:0]
	for _, c := range cands {
		p, err := pr.Profile(ctx, c.ProfileID)
		if fault.Is(err, fault.ErrNotFound) {
			continue // erased meanwhile
		}
		if err != nil {
			return nil, fmt.Errorf("identity: read size of cluster %s: %w", c.ProfileID, err)
		}
		if p.ID != c.ProfileID {
			continue // merged away meanwhile
		}
		c.Records = p.RecordCount
		kept = append(kept, c)
	}
	return kept, nil
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
