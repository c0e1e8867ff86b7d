package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aurum-cdp/aurum/shared/adapter/embedded"
	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/core/pipeline"
	"github.com/aurum-cdp/aurum/shared/model/events"
	"github.com/aurum-cdp/aurum/shared/model/fault"
	"github.com/aurum-cdp/aurum/shared/model/profile"
	"github.com/aurum-cdp/aurum/shared/port/store"
)

var testConfig = &config.Config{
	Version: 1,
	Identifiers: []config.IdentifierType{
		{Name: "customer_id", Normalizer: "id"},
		{Name: "email", Normalizer: "email"},
		{Name: "phone", Normalizer: "phone"},
	},
	Sources: []config.Source{
		{Name: "crm", Kind: config.KindFile, Format: "csv", Priority: 10},
		{Name: "shop", Kind: config.KindFile, Format: "jsonl"},
		{Name: "web", Kind: config.KindAPI},
	},
}

var t0 = time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)

func openStore(t testing.TB) store.Store {
	t.Helper()
	st, err := embedded.Open(filepath.Join(t.TempDir(), "aurum.db"), embedded.Options{NoSync: true})
	if err != nil {
		t.Fatalf("embedded.Open: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func newPipeline(st store.Store) *pipeline.Pipeline {
	return pipeline.New(pipeline.ConfigOf(testConfig), st, pipeline.Options{Clock: func() time.Time { return t0 }})
}

func rec(source, id string, at time.Time, ids ...string) profile.Record {
	r := profile.Record{Source: source, ID: id, ObservedAt: at, Attributes: map[string]any{}}
	for _, s := range ids {
		id, err := profile.ParseIdentifier(s)
		if err != nil {
			panic(err)
		}
		r.Identifiers = append(r.Identifiers, id)
	}
	return r
}

func ingest(t *testing.T, p *pipeline.Pipeline, recs ...profile.Record) pipeline.Result {
	t.Helper()
	res, err := p.Ingest(context.Background(), recs)
	if err != nil {
		t.Fatalf("Ingest: %v", err)
	}
	return res
}

func outbox(t *testing.T, st store.Store) []events.Envelope {
	t.Helper()
	evs, err := st.Outbox(context.Background(), 1000)
	if err != nil {
		t.Fatalf("Outbox: %v", err)
	}
	return evs
}

func TestIngestLinksAndMerges(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	p := newPipeline(st)

	a := rec("crm", "1", t0, "customer_id:C1", "email:ann@example.com")
	b := rec("shop", "o1", t0, "phone:+447700900123")
	res := ingest(t, p, a, b)
	if res.Created != 2 || res.Accepted != 2 {
		t.Fatalf("Ingest(a, b) = %+v; want 2 accepted, 2 created", res)
	}
	if res.ProfileIDs[0] == res.ProfileIDs[1] {
		t.Fatalf("unrelated records share profile %s", res.ProfileIDs[0])
	}
	// c links both profiles: email of a, phone of b.
	c := rec("web", "m1", t0.Add(time.Hour), "email:ann@example.com", "phone:+447700900123")
	res = ingest(t, p, c)
	if res.Merges != 1 {
		t.Fatalf("Ingest(c).Merges = %d; want 1", res.Merges)
	}
	got, err := st.Profile(ctx, res.ProfileIDs[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"customer_id:C1", "email:ann@example.com", "phone:+447700900123"} {
		pid, _ := profile.ParseIdentifier(id)
		if !got.HasIdentifier(pid) {
			t.Errorf("merged profile lacks %s; has %v", id, got.Identifiers)
		}
	}
	if got.RecordCount != 3 {
		t.Errorf("RecordCount = %d; want 3", got.RecordCount)
	}
	// Both original profile ids resolve to the survivor.
	first := pipeline.NewProfileID(pipeline.ContentKey(a))
	second := pipeline.NewProfileID(pipeline.ContentKey(b))
	for _, id := range []string{first, second} {
		pr, err := st.Profile(ctx, id)
		if err != nil {
			t.Fatalf("Profile(%s): %v", id, err)
		}
		if pr.ID != got.ID {
			t.Errorf("Profile(%s).ID = %s; want survivor %s", id, pr.ID, got.ID)
		}
	}
	var merged int
	for _, e := range outbox(t, st) {
		if e.DetailType == events.TypeProfilesMerged {
			merged++
		}
	}
	if merged != 1 {
		t.Errorf("outbox holds %d ProfilesMerged; want 1", merged)
	}
}

func TestIngestIsIdempotent(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	p := newPipeline(st)
	recs := []profile.Record{
		rec("crm", "1", t0, "email:ann@example.com"),
		rec("web", "msg-1", t0, "email:ann@example.com"),
	}
	recs[1].Events = []profile.Event{{ID: "msg-1", Source: "web", Type: "track", Name: "Order Completed", Timestamp: t0}}
	first := ingest(t, p, recs...)
	before := outbox(t, st)
	pr1, _ := st.Profile(ctx, first.ProfileIDs[0])

	// Re-delivery, and a retried message whose receive time differs.
	again := slices.Clone(recs)
	again[1].ReceivedAt = t0.Add(time.Minute)
	second := ingest(t, p, again...)
	if second.Duplicates != 2 || second.Accepted != 0 {
		t.Errorf("re-delivery result = %+v; want 2 duplicates, 0 accepted", second)
	}
	after := outbox(t, st)
	if len(after) != len(before) {
		t.Errorf("outbox grew from %d to %d on re-delivery", len(before), len(after))
	}
	pr2, _ := st.Profile(ctx, first.ProfileIDs[0])
	if pr2.Version != pr1.Version || pr2.EventCount != 1 {
		t.Errorf("profile after re-delivery: version %d events %d; want version %d events 1", pr2.Version, pr2.EventCount, pr1.Version)
	}
	// Duplicates inside one batch are also counted once.
	res := ingest(t, p, rec("crm", "2", t0, "email:bob@example.com"), rec("crm", "2", t0, "email:bob@example.com"))
	if res.Accepted != 1 || res.Duplicates != 1 {
		t.Errorf("batch with a duplicate = %+v; want 1 accepted, 1 duplicate", res)
	}
}

func TestSurvivorshipIgnoresArrivalOrder(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name  string
		order []int
	}{
		{"in order", []int{0, 1}},
		{"late data last", []int{1, 0}},
	}
	recs := []profile.Record{
		rec("crm", "old", t0, "email:ann@example.com"),
		rec("shop", "new", t0.Add(24*time.Hour), "email:ann@example.com"),
	}
	recs[0].Attributes["city"] = "Leeds"
	recs[1].Attributes["city"] = "York"
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := openStore(t)
			p := newPipeline(st)
			var id string
			for _, i := range tt.order {
				id = ingest(t, p, recs[i]).ProfileIDs[0]
			}
			pr, err := st.Profile(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			got := pr.Attributes["city"]
			if got.Value != "York" || got.Source != "shop" || got.RecordID != "new" {
				t.Errorf("city = %+v; want York from shop/new", got)
			}
		})
	}
}

// people generates records of n people, each seen by several sources with
// overlapping identifiers, so that clusters form only through chains.
func people(n int, seed uint64) []profile.Record {
	r := rand.New(rand.NewPCG(seed, 1))
	var recs []profile.Record
	for i := range n {
		email := fmt.Sprintf("email:p%d@example.com", i)
		phone := fmt.Sprintf("phone:+4477009%05d", i)
		cust := fmt.Sprintf("customer_id:C%d", i)
		recs = append(recs,
			rec("crm", fmt.Sprintf("c%d", i), t0, cust, email),
			rec("shop", fmt.Sprintf("s%d", i), t0.Add(time.Duration(r.IntN(100))*time.Hour), phone),
			rec("web", fmt.Sprintf("w%d", i), t0, email, phone),
		)
	}
	return recs
}

// partition maps each record to the sorted keys of the records it shares a
// profile with, so two runs can be compared regardless of profile ids.
func partition(t *testing.T, st store.Store, recs []profile.Record) map[string]string {
	t.Helper()
	ctx := context.Background()
	byProfile := map[string][]string{}
	of := map[string]string{}
	for _, r := range recs {
		_, pid, err := st.Record(ctx, r.Source, r.ID)
		if err != nil {
			t.Fatalf("Record(%s): %v", r.Key(), err)
		}
		live, err := st.Resolve(ctx, pid)
		if err != nil {
			t.Fatalf("Resolve(%s): %v", pid, err)
		}
		byProfile[live] = append(byProfile[live], r.Key())
		of[r.Key()] = live
	}
	out := map[string]string{}
	for k, pid := range of {
		members := byProfile[pid]
		sort.Strings(members)
		out[k] = strings.Join(members, ",")
	}
	return out
}

func TestClustersDoNotDependOnOrder(t *testing.T) {
	recs := people(30, 7)
	st := openStore(t)
	ingest(t, newPipeline(st), recs...)
	want := partition(t, st, recs)
	// Each person is one cluster of 3 records.
	for k, members := range want {
		if n := strings.Count(members, ",") + 1; n != 3 {
			t.Fatalf("record %s is in a cluster of %d; want 3 (%s)", k, n, members)
		}
	}
	for seed := uint64(1); seed <= 5; seed++ {
		t.Run(fmt.Sprintf("permutation %d", seed), func(t *testing.T) {
			shuffled := slices.Clone(recs)
			r := rand.New(rand.NewPCG(seed, 2))
			r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
			st := openStore(t)
			p := newPipeline(st)
			// Varying batch sizes exercise the in-batch view too.
			for len(shuffled) > 0 {
				n := min(len(shuffled), 1+r.IntN(7))
				ingest(t, p, shuffled[:n]...)
				shuffled = shuffled[n:]
			}
			got := partition(t, st, recs)
			for k, w := range want {
				if got[k] != w {
					t.Errorf("cluster of %s = %s; want %s", k, got[k], w)
				}
			}
		})
	}
}

func TestConcurrentWritersConverge(t *testing.T) {
	recs := people(40, 11)
	seq := openStore(t)
	ingest(t, newPipeline(seq), recs...)
	want := partition(t, seq, recs)

	st := openStore(t)
	const writers = 8
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mine := slices.Clone(recs)
			r := rand.New(rand.NewPCG(uint64(w), 3))
			r.Shuffle(len(mine), func(i, j int) { mine[i], mine[j] = mine[j], mine[i] })
			p := newPipeline(st)
			for len(mine) > 0 {
				n := min(len(mine), 1+r.IntN(5))
				if _, err := p.Ingest(context.Background(), mine[:n]); err != nil {
					errs <- err
					return
				}
				mine = mine[n:]
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent Ingest: %v", err)
	}
	got := partition(t, st, recs)
	for k, w := range want {
		if got[k] != w {
			t.Errorf("cluster of %s = %s; want %s", k, got[k], w)
		}
	}
	// No orphan: every identifier resolves to the profile of its records.
	ctx := context.Background()
	for _, r := range recs {
		owners, err := st.Owners(ctx, r.Identifiers)
		if err != nil {
			t.Fatal(err)
		}
		_, pid, _ := st.Record(ctx, r.Source, r.ID)
		live, _ := st.Resolve(ctx, pid)
		for _, id := range r.Identifiers {
			if owners[id].ProfileID != live {
				t.Errorf("identifier %s resolves to %q; its record %s is in %s", id, owners[id].ProfileID, r.Key(), live)
			}
		}
	}
}

// TestFoldInput checks what Fold accepts without a store stream: nothing
// to fold is no work, and a malformed append is refused before anything
// is written.
func TestFoldInput(t *testing.T) {
	p := newPipeline(openStore(t))
	res, err := p.Fold(t.Context(), nil)
	if err != nil || res != (pipeline.FoldResult{}) {
		t.Errorf("Fold(nil) = %+v, %v; want nothing done", res, err)
	}
	bad := store.Appended{ProfileID: "p-1", Record: profile.Record{Source: "web", ID: "m-1"}, Seq: "1"}
	if _, err := p.Fold(t.Context(), []store.Appended{bad}); !errors.Is(err, fault.ErrInvalid) {
		t.Errorf("Fold(append without its event) = %v; want %v", err, fault.ErrInvalid)
	}
}
