package identity

import (
	"context"
	"fmt"
	"strings"

	"github.com/aurum-cdp/aurum/shared/store"
)

// ItemReader reads generic store items (store.Store has it).
type ItemReader interface {
	Items(ctx context.Context, kind, key, from, to string, limit int, cursor string) ([]store.Item, string, error)
}

// StreamStats sums the statistics counters the pipeline keeps (ItemStats)
// into Stats: per rule links, merges and blocked links, and links blocked
// per protection. It reads StatShards keys, never a scan. The cluster
// histogram and largest clusters are computed by batch resolution only;
// in streaming they are left empty. This is what GET /v1/identity/stats
// serves.
func (e *Engine) StreamStats(ctx context.Context, st ItemReader) (Stats, error) {
	s := newStats(e)
	s.Histogram = nil
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
	return s, nil
}

// add applies one counter "rule/<name>/<field>" or "blocked/<protection>".
func (s *Stats) add(name string, n int) {
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
