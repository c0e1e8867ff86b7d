package identity

import "sort"

// Move is a record whose company changed between two runs.
type Move struct {
	Record   string `json:"record"`
	From, To string
}

// DiffResult compares two assignments of records to profiles.
type DiffResult struct {
	// Moved lists records, in key order, that share their profile with a
	// different set of records than before.
	Moved []Move `json:"moved"`
	// MergesGained counts joins of previous profiles; MergesLost splits.
	MergesGained int `json:"merges_gained"`
	MergesLost   int `json:"merges_lost"`
	// Added and Removed count records only in cur or only in prev.
	Added   int `json:"added"`
	Removed int `json:"removed"`
}

// Diff compares a previous assignment (record key → profile id) with a
// current one. Profile ids need not agree between the runs: only who is
// with whom counts.
func Diff(prev, cur map[string]string) DiffResult {
	var d DiffResult
	prevSize, curSize := map[string]int{}, map[string]int{}
	cell := map[[2]string]int{}
	var common []string
	for k, p := range prev {
		c, ok := cur[k]
		if !ok {
			d.Removed++
			continue
		}
		common = append(common, k)
		prevSize[p]++
		curSize[c]++
		cell[[2]string{p, c}]++
	}
	for k := range cur {
		if _, ok := prev[k]; !ok {
			d.Added++
		}
	}
	sort.Strings(common)
	for _, k := range common {
		p, c := prev[k], cur[k]
		n := cell[[2]string{p, c}]
		if n != prevSize[p] || n != curSize[c] {
			d.Moved = append(d.Moved, Move{Record: k, From: p, To: c})
		}
	}
	fromPrev, fromCur := map[string]int{}, map[string]int{}
	for pc := range cell {
		fromCur[pc[1]]++  // previous profiles per current one
		fromPrev[pc[0]]++ // current profiles per previous one
	}
	for _, n := range fromCur {
		d.MergesGained += n - 1
	}
	for _, n := range fromPrev {
		d.MergesLost += n - 1
	}
	return d
}
