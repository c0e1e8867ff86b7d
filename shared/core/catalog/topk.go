package catalog

import (
	"cmp"
	"slices"
)

// Counted is one heavy hitter: a value's key (a hash for personal values),
// what may be shown of it, and how often it was seen. Err bounds the
// over-count of Space-Saving: the true count lies in [Count-Err, Count].
type Counted struct {
	Key     string `json:"key"`
	Display string `json:"value"`
	Count   int64  `json:"count"`
	Err     int64  `json:"err,omitempty"`
	// Placeholder marks identifier values that look like stand-ins
	// (see Placeholder); only they are shown in clear.
	Placeholder bool `json:"placeholder,omitempty"`
	// Refs are the first MaxRefs contributors of the value, as RecordRef
	// hashes of their record keys (never the keys), so that Forget can
	// remove what an erased person contributed. Stored only: the Reader
	// leaves them out.
	Refs []string `json:"refs,omitempty"`
}

// TopK is a Space-Saving heavy-hitters summary (Metwally, Agrawal and El
// Abbadi, 2005) of at most Cap entries: every value seen more than n/Cap
// times in n observations is in it. It is not safe for concurrent use.
type TopK struct {
	Cap     int
	entries map[string]*Counted
}

// NewTopK returns an empty summary of capacity c.
func NewTopK(c int) *TopK { return &TopK{Cap: c, entries: make(map[string]*Counted, c)} }

// Add counts one occurrence of key; display is what may be shown of it.
func (t *TopK) Add(key, display string, n int64) {
	t.add(Counted{Key: key, Display: display, Count: n})
}

// AddFrom is Add for a value contributed by the record whose RecordRef is
// ref ("" when unknown).
func (t *TopK) AddFrom(key, display, ref string, n int64) {
	c := Counted{Key: key, Display: display, Count: n}
	if ref != "" {
		c.Refs = []string{ref}
	}
	t.add(c)
}

func (t *TopK) add(c Counted) {
	key, n := c.Key, c.Count
	if e, ok := t.entries[key]; ok {
		e.Count += n
		e.Refs = addRefs(e.Refs, c.Refs...)
		return
	}
	if len(t.entries) < t.Cap {
		t.entries[key] = &c
		return
	}
	// Replace the entry with the smallest count.
	var low *Counted
	for _, e := range t.entries {
		if low == nil || e.Count < low.Count || (e.Count == low.Count && e.Key < low.Key) {
			low = e
		}
	}
	delete(t.entries, low.Key)
	c.Count, c.Err = low.Count+n, low.Count
	t.entries[key] = &c
}

// Top returns the n most frequent entries. When entries are left out,
// the summary counts as full for merging (see mergeCounted).
func (t *TopK) Top(n int) []Counted {
	l := t.List()
	return l[:min(n, len(l))]
}

// Len returns the number of entries.
func (t *TopK) Len() int { return len(t.entries) }

// List returns the entries by decreasing count (ties by key).
func (t *TopK) List() []Counted {
	out := make([]Counted, 0, len(t.entries))
	for _, e := range t.entries {
		out = append(out, *e)
	}
	sortCounted(out)
	return out
}

func sortCounted(c []Counted) {
	slices.SortFunc(c, func(a, b Counted) int {
		if x := cmp.Compare(b.Count, a.Count); x != 0 {
			return x
		}
		return cmp.Compare(a.Key, b.Key)
	})
}

// mergeCounted merges two summaries of capacity c (Agarwal et al.,
// Mergeable Summaries, 2012): counts of common keys add up; a key absent
// from one side may have been evicted there, so that side's smallest
// count is added to its error bound when the side is full.
func mergeCounted(a, b []Counted, c int) []Counted {
	minOf := func(x []Counted) int64 {
		if len(x) < c || len(x) == 0 {
			return 0
		}
		m := x[0].Count
		for _, e := range x {
			m = min(m, e.Count)
		}
		return m
	}
	ma, mb := minOf(a), minOf(b)
	byKey := make(map[string]*Counted, len(a)+len(b))
	for _, e := range a {
		e := e
		e.Refs = slices.Clone(e.Refs)
		byKey[e.Key] = &e
	}
	inA := make(map[string]bool, len(a))
	for _, e := range a {
		inA[e.Key] = true
	}
	inB := make(map[string]bool, len(b))
	for _, e := range b {
		inB[e.Key] = true
	}
	for _, e := range b {
		if x, ok := byKey[e.Key]; ok {
			x.Count += e.Count
			x.Err += e.Err
			x.Refs = addRefs(x.Refs, e.Refs...)
			continue
		}
		e := e
		e.Err += ma
		byKey[e.Key] = &e
	}
	out := make([]Counted, 0, len(byKey))
	for k, e := range byKey {
		if inA[k] && !inB[k] {
			e.Err += mb
		}
		out = append(out, *e)
	}
	sortCounted(out)
	return out[:min(c, len(out))]
}
