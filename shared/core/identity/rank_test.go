package identity

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/aurum-cdp/aurum/shared/model/fault"
	"github.com/aurum-cdp/aurum/shared/model/profile"
	"github.com/aurum-cdp/aurum/shared/port/store"
)

func TestTopSorts(t *testing.T) {
	for _, tt := range []struct{ size, want int }{{1, 0}, {2, 1}, {3, 1}, {4, 2}, {9, 3}, {1024, 10}} {
		got := TopSorts(tt.size, "p")
		if len(got) != tt.want {
			t.Errorf("TopSorts(%d) = %v; want %d entries", tt.size, got, tt.want)
		}
		if len(got) > 0 && got[len(got)-1] != TopSort(tt.size, "p") {
			t.Errorf("TopSorts(%d) ends with %s; want TopSort's %s", tt.size, got[len(got)-1], TopSort(tt.size, "p"))
		}
	}
}

func TestRankStep(t *testing.T) {
	for _, tt := range []struct{ n, want int }{
		{0, 0}, {1, 1}, {2, 2}, {3, 2}, {4, 4}, {7, 4}, {8, 8}, {15, 8}, {16, 16}, {1000, 512}, {10000, 8192},
	} {
		if got := RankStep(tt.n); got != tt.want {
			t.Errorf("RankStep(%d) = %d; want %d", tt.n, got, tt.want)
		}
	}
	prev := 0
	for n := 1; n < 5000; n++ {
		s := RankStep(n)
		if s < prev || s > n || 2*s <= n {
			t.Fatalf("RankStep(%d) = %d after %d; want monotonic, at most n, more than n/2", n, s, prev)
		}
		prev = s
	}
}

// ranking is an ItemReader and ProfileReader over ranking entries
// written at some past size and the profiles' current sizes.
type ranking struct {
	items []store.Item
	sizes map[string]int
}

func (r *ranking) Items(_ context.Context, kind, key, from, to string, limit int, cursor string) ([]store.Item, string, error) {
	start := 0
	if cursor != "" {
		fmt.Sscan(cursor, &start)
	}
	end := min(start+limit, len(r.items))
	next := ""
	if end < len(r.items) {
		next = fmt.Sprint(end)
	}
	return r.items[start:end], next, nil
}

func (r *ranking) Profile(_ context.Context, id string) (profile.Profile, error) {
	n, ok := r.sizes[id]
	if !ok {
		return profile.Profile{}, fault.ErrNotFound
	}
	return profile.Profile{ID: id, RecordCount: n}, nil
}

// TestLargestFromSteps checks that the largest clusters read from a
// ranking by steps are the true largest, with exact sizes, whatever
// sizes within a step the entries were written at.
func TestLargestFromSteps(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 50 {
		r := &ranking{sizes: map[string]int{}}
		n := 5 + rng.IntN(60)
		for i := range n {
			id := fmt.Sprintf("p%03d", i)
			size := MinRanked + rng.IntN(1+rng.IntN(300))
			r.sizes[id] = size
			// Entries were written when the size reached each step; those
			// of smaller steps stay.
			for i, sort := range TopSorts(size, id) {
				r.items = append(r.items, store.Item{Kind: ItemTop, Key: TopKey, Sort: sort, N: int64(MinRanked << i)})
			}
		}
		slices.SortFunc(r.items, func(a, b store.Item) int { return strings.Compare(a.Sort, b.Sort) })
		var want []ClusterSize
		for id, s := range r.sizes {
			want = append(want, ClusterSize{ProfileID: id, Records: s})
		}
		slices.SortFunc(want, func(a, b ClusterSize) int {
			if a.Records != b.Records {
				return b.Records - a.Records
			}
			return strings.Compare(a.ProfileID, b.ProfileID)
		})
		want = want[:min(len(want), MaxLargest)]
		got, err := largest(context.Background(), r)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("round %d: largest = %v; want %v", round, got, want)
		}
	}
}
