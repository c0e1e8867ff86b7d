package dynamo_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aurum-cdp/aurum/shared/adapter/dynamo"
	"github.com/aurum-cdp/aurum/shared/model/profile"
	"github.com/aurum-cdp/aurum/shared/port/store"
)

// overlappingRecords returns records of people identifiers, most records
// carrying two or three identifiers of one person, a few bridging two
// people (so their profiles must merge), and some delivered twice.
func overlappingRecords(seed uint64, people, perPerson, bridges, dupes int) []profile.Record {
	r := rand.New(rand.NewPCG(seed, 1))
	ids := func(p int) []profile.Identifier {
		return []profile.Identifier{
			{Type: "email", Value: fmt.Sprintf("person%02d@example.com", p)},
			{Type: "phone", Value: fmt.Sprintf("+4477009%05d", p)},
			{Type: "customer_id", Value: fmt.Sprintf("C-%03d", p)},
			{Type: "anonymous_id", Value: fmt.Sprintf("anon-%02d", p)},
		}
	}
	base := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	var recs []profile.Record
	add := func(idents []profile.Identifier) {
		n := len(recs)
		at := base.Add(time.Duration(n) * time.Second)
		recs = append(recs, profile.Record{
			Source: "web", ID: fmt.Sprintf("r%04d", n), ObservedAt: at, ReceivedAt: at,
			Identifiers: idents,
			Events:      []profile.Event{{ID: fmt.Sprintf("e%04d", n), Source: "web", Type: "track", Name: "Viewed", Timestamp: at}},
		})
	}
	for p := 0; p < people; p++ {
		all := ids(p)
		for i := 0; i < perPerson; i++ {
			r.Shuffle(len(all), func(a, b int) { all[a], all[b] = all[b], all[a] })
			add(slices.Clone(all[:2+r.IntN(2)]))
		}
	}
	for i := 0; i < bridges; i++ {
		a, b := r.IntN(people), r.IntN(people)
		add([]profile.Identifier{ids(a)[r.IntN(4)], ids(b)[r.IntN(4)]})
	}
	for i := 0; i < dupes; i++ {
		recs = append(recs, recs[r.IntN(len(recs))])
	}
	r.Shuffle(len(recs), func(a, b int) { recs[a], recs[b] = recs[b], recs[a] })
	return recs
}

// components returns, for each identifier, the smallest identifier (as a
// string) of its connected component: the clusters any correct run must
// end with.
func components(recs []profile.Record) map[profile.Identifier]string {
	parent := map[string]string{}
	var find func(string) string
	find = func(x string) string {
		if parent[x] == x {
			return x
		}
		parent[x] = find(parent[x])
		return parent[x]
	}
	for _, r := range recs {
		for _, id := range r.Identifiers {
			if _, ok := parent[id.String()]; !ok {
				parent[id.String()] = id.String()
			}
		}
		for _, id := range r.Identifiers[1:] {
			a, b := find(r.Identifiers[0].String()), find(id.String())
			if a != b {
				parent[max(a, b)] = min(a, b)
			}
		}
	}
	out := map[profile.Identifier]string{}
	for _, r := range recs {
		for _, id := range r.Identifiers {
			out[id] = find(id.String())
		}
	}
	return out
}

// run ingests recs with the given number of concurrent writers and returns
// how many ingests committed (not duplicates) and the conflicts retried.
func run(ctx context.Context, st store.Store, recs []profile.Record, writers int) (committed, retries int, err error) {
	var next, n, seq atomic.Int64
	var nRetries atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			newID := func() string { return fmt.Sprintf("p%05d", seq.Add(1)) }
			for {
				i := int(next.Add(1)) - 1
				if i >= len(recs) {
					return
				}
				res, err := ingest(ctx, st, recs[i], newID)
				if err != nil {
					errs <- err
					return
				}
				nRetries.Add(int64(res.Attempts - 1))
				if !res.Duplicate {
					n.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		return 0, 0, e
	}
	return int(n.Load()), int(nRetries.Load()), nil
}

// clusters reads the final state: for each identifier, the live profile
// its claimant resolves to; it fails the test on an orphan identifier.
func clusters(t *testing.T, st store.Store, recs []profile.Record) map[profile.Identifier]string {
	t.Helper()
	var ids []profile.Identifier
	for id := range components(recs) {
		ids = append(ids, id)
	}
	owners, err := st.Owners(t.Context(), ids)
	if err != nil {
		t.Fatalf("Owners(%d identifiers) = %v", len(ids), err)
	}
	out := map[profile.Identifier]string{}
	for _, id := range ids {
		o, ok := owners[id]
		if !ok {
			t.Errorf("identifier %v is unclaimed (orphan); want claimed", id)
			continue
		}
		live, err := st.Resolve(t.Context(), o.ProfileID)
		if err != nil || live != o.ProfileID {
			t.Errorf("Resolve(%q) = %q, %v; want the live profile %q", o.ProfileID, live, err, o.ProfileID)
		}
		out[id] = o.ProfileID
	}
	return out
}

// samePartition reports whether two labelings of the identifiers group them
// the same way.
func samePartition(a map[profile.Identifier]string, b map[profile.Identifier]string) bool {
	if len(a) != len(b) {
		return false
	}
	ab, ba := map[string]string{}, map[string]string{}
	for id, x := range a {
		y, ok := b[id]
		if !ok {
			return false
		}
		if v, ok := ab[x]; ok && v != y {
			return false
		}
		if v, ok := ba[y]; ok && v != x {
			return false
		}
		ab[x], ba[y] = y, x
	}
	return true
}

// describe renders a partition for failure messages.
func describe(p map[profile.Identifier]string) string {
	groups := map[string][]string{}
	for id, g := range p {
		groups[g] = append(groups[g], id.String())
	}
	var out []string
	for _, g := range groups {
		sort.Strings(g)
		out = append(out, "{"+strings.Join(g, " ")+"}")
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

func TestDynamoConcurrentMerges(t *testing.T) {
	recs := overlappingRecords(7, 12, 10, 5, 16)
	want := components(recs)
	unique := map[string]profile.Record{}
	for _, r := range recs {
		unique[r.Key()] = r
	}

	seq := newFixture(t, dynamo.Options{})
	conc := newFixture(t, dynamo.Options{})
	var wg sync.WaitGroup
	var seqN, concN, retries int
	var seqErr, concErr error
	wg.Add(2)
	go func() { defer wg.Done(); seqN, _, seqErr = run(t.Context(), seq.store, recs, 1) }()
	go func() { defer wg.Done(); concN, retries, concErr = run(t.Context(), conc.store, recs, 8) }()
	wg.Wait()
	if seqErr != nil || concErr != nil {
		t.Fatalf("ingest: sequential %v, concurrent %v; want nil", seqErr, concErr)
	}
	clusterIDs := map[string]bool{}
	for _, c := range want {
		clusterIDs[c] = true
	}
	t.Logf("%d records (%d unique) in %d clusters, %d conflicts retried by 8 writers", len(recs), len(unique), len(clusterIDs), retries)

	seqClusters := clusters(t, seq.store, recs)
	if !samePartition(seqClusters, want) {
		t.Errorf("sequential clusters = %s; want %s", describe(seqClusters), describe(want))
	}
	got := clusters(t, conc.store, recs)
	if !samePartition(got, seqClusters) {
		t.Errorf("concurrent clusters = %s; want the sequential %s", describe(got), describe(seqClusters))
	}

	for name, f := range map[string]*fixture{"sequential": seq, "concurrent": conc} {
		n := map[string]int{"sequential": seqN, "concurrent": concN}[name]
		if n != len(unique) {
			t.Errorf("%s: %d ingests committed; want %d (one per unique record)", name, n, len(unique))
		}
		checkNoLostRecord(t, name, f.store, unique, want)
		if out, err := f.store.Outbox(t.Context(), 10*len(recs)); err != nil || len(out) != len(unique) {
			t.Errorf("%s: Outbox() = %d events, %v; want %d (one per committed change)", name, len(out), err, len(unique))
		}
	}
}

// checkNoLostRecord checks that every record is stored, attached to a
// profile of its cluster, and counted once by the live profile, whose
// identifiers are exactly its cluster's.
func checkNoLostRecord(t *testing.T, name string, st store.Store, recs map[string]profile.Record, comp map[profile.Identifier]string) {
	t.Helper()
	ctx := t.Context()
	records := map[string]int{}                 // live profile -> records
	idents := map[string][]profile.Identifier{} // live profile -> identifiers
	compOf := map[string]string{}               // live profile -> component
	for _, r := range recs {
		_, pid, err := st.Record(ctx, r.Source, r.ID)
		if err != nil {
			t.Errorf("%s: Record(%q, %q) = %v; want stored", name, r.Source, r.ID, err)
			continue
		}
		live, err := st.Resolve(ctx, pid)
		if err != nil {
			t.Fatalf("%s: Resolve(%q) = %v", name, pid, err)
		}
		c := comp[r.Identifiers[0]]
		if prev, ok := compOf[live]; ok && prev != c {
			t.Errorf("%s: profile %s holds records of clusters %s and %s", name, live, prev, c)
		}
		compOf[live] = c
		records[live]++
	}
	for id, c := range comp {
		for live, lc := range compOf {
			if lc == c {
				idents[live] = append(idents[live], id)
			}
		}
	}
	for live, n := range records {
		p, err := st.Profile(ctx, live)
		if err != nil {
			t.Errorf("%s: Profile(%q) = %v", name, live, err)
			continue
		}
		if p.RecordCount != n {
			t.Errorf("%s: Profile(%q).RecordCount = %d; want %d (records attached to it)", name, live, p.RecordCount, n)
		}
		if got, want := idSet(p.Identifiers), idSet(idents[live]); !slices.Equal(got, want) {
			t.Errorf("%s: Profile(%q).Identifiers = %v; want %v", name, live, got, want)
		}
		evs, _, err := st.Events(ctx, live, 10*len(recs), "")
		if err != nil || len(evs) != n {
			t.Errorf("%s: Events(%q) = %d events, %v; want %d", name, live, len(evs), err, n)
		}
	}
}

func idSet(ids []profile.Identifier) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = id.String()
	}
	sort.Strings(out)
	return out
}
