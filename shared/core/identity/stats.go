package identity

import (
	"cmp"
	"slices"

	"github.com/aurum-cdp/aurum/shared/model/profile"
)

// Stats are match statistics: per rule, per protection, and the shape of
// the clusters. Batch resolution computes them exactly; the pipeline keeps
// the counters as store items (see StatsItems).
type Stats struct {
	Records  int `json:"records"`
	Clusters int `json:"clusters"`
	// Rules holds one entry per rule, in rule order.
	Rules []RuleStats `json:"rules"`
	// Blocked counts links refused per protection (max_per_profile,
	// do_not_merge, placeholder).
	Blocked map[string]int `json:"blocked"`
	// Splits counts unmerges (streaming only).
	Splits int `json:"splits,omitempty"`
	// Quarantined lists identifier values detected as placeholders.
	Quarantined []Quarantine `json:"quarantined,omitempty"`
	// Histogram counts clusters per size bucket (1, 2, 3-5, 6-10, 11-50,
	// 51-100, 101+).
	Histogram []Bucket `json:"histogram"`
	// Largest lists the largest clusters, largest first.
	Largest []ClusterSize `json:"largest,omitempty"`
}

// RuleStats are the statistics of one rule.
type RuleStats struct {
	Rule string `json:"rule"`
	// Compared counts candidate pairs compared (fuzzy, weighted).
	Compared int `json:"compared,omitempty"`
	// Links counts pairs the rule matched; Records the records in them.
	Links   int `json:"links"`
	Records int `json:"records"`
	// Merges counts clusters the rule joined.
	Merges int `json:"merges"`
	// Blocked counts the rule's links refused by merge protection.
	Blocked int `json:"blocked"`
	// SkippedBlocks counts blocks larger than max_block_size.
	SkippedBlocks int `json:"skipped_blocks,omitempty"`
}

// Quarantine is an identifier value detected as a placeholder.
type Quarantine struct {
	Identifier profile.Identifier `json:"identifier"`
	// Records counts the records holding it (batch only).
	Records int `json:"records,omitempty"`
	// Distinct counts the disagreeing fingerprints (name combinations)
	// seen with it when it was quarantined.
	Distinct int `json:"distinct"`
}

// Bucket is one bar of the cluster-size histogram.
type Bucket struct {
	Label    string `json:"label"`
	Min      int    `json:"min"`
	Max      int    `json:"max"` // 0: no upper bound
	Clusters int    `json:"clusters"`
}

// ClusterSize is one cluster and its number of records.
type ClusterSize struct {
	ProfileID string `json:"profile_id"`
	Records   int    `json:"records"`
}

// MaxLargest bounds Stats.Largest.
const MaxLargest = 10

// HistogramBuckets returns empty histogram buckets.
func HistogramBuckets() []Bucket {
	return []Bucket{
		{Label: "1", Min: 1, Max: 1}, {Label: "2", Min: 2, Max: 2}, {Label: "3-5", Min: 3, Max: 5},
		{Label: "6-10", Min: 6, Max: 10}, {Label: "11-50", Min: 11, Max: 50},
		{Label: "51-100", Min: 51, Max: 100}, {Label: "101+", Min: 101},
	}
}

// BucketOf returns the index in HistogramBuckets of a cluster of n records.
func BucketOf(n int) int {
	for i, b := range HistogramBuckets() {
		if n >= b.Min && (b.Max == 0 || n <= b.Max) {
			return i
		}
	}
	return 0
}

func newStats(e *Engine) Stats {
	s := Stats{Blocked: map[string]int{ProtectMaxPerProfile: 0, ProtectDoNotMerge: 0, ProtectPlaceholder: 0}, Histogram: HistogramBuckets()}
	for _, r := range e.rules {
		s.Rules = append(s.Rules, RuleStats{Rule: r.name})
	}
	return s
}

// rule returns the statistics of the named rule.
func (s *Stats) rule(name string) *RuleStats {
	for i := range s.Rules {
		if s.Rules[i].Rule == name {
			return &s.Rules[i]
		}
	}
	s.Rules = append(s.Rules, RuleStats{Rule: name})
	return &s.Rules[len(s.Rules)-1]
}

// setClusters fills the cluster counts from the size of each cluster.
func (s *Stats) setClusters(sizes map[string]int) {
	s.Clusters = len(sizes)
	all := make([]ClusterSize, 0, len(sizes))
	for id, n := range sizes {
		s.Histogram[BucketOf(n)].Clusters++
		all = append(all, ClusterSize{ProfileID: id, Records: n})
	}
	slices.SortFunc(all, func(a, b ClusterSize) int {
		if c := cmp.Compare(b.Records, a.Records); c != 0 {
			return c
		}
		return cmp.Compare(a.ProfileID, b.ProfileID)
	})
	s.Largest = all[:min(MaxLargest, len(all))]
}
