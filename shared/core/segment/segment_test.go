package segment_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aurum-cdp/aurum/shared/adapter/embedded"
	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/core/pipeline"
	"github.com/aurum-cdp/aurum/shared/core/segment"
	"github.com/aurum-cdp/aurum/shared/kit/clocktest"
	"github.com/aurum-cdp/aurum/shared/model/events"
	"github.com/aurum-cdp/aurum/shared/model/profile"
	"github.com/aurum-cdp/aurum/shared/port/store"
)

var t0 = time.Date(2025, 1, 10, 9, 0, 0, 0, time.UTC)

func testConfig() *config.Config {
	return &config.Config{
		Version:     1,
		Identifiers: []config.IdentifierType{{Name: "email", Normalizer: "email"}},
		Sources:     []config.Source{{Name: "web", Kind: config.KindAPI}},
		Segments: []config.Segment{
			{ID: "gb", Name: "UK customers", Expr: `has(profile.attributes.country) && profile.attributes.country == "GB"`},
			{ID: "buyers", Name: "Bought in the last 30 days", Expr: `events.count("Order Completed", days(30)) >= 1`},
			{ID: "gb_buyers", Expr: `"gb" in profile.segments && "buyers" in profile.segments`},
		},
	}
}

type env struct {
	st    *embedded.Store
	eval  *segment.Evaluator
	pl    *pipeline.Pipeline
	sched *segment.Scheduler
	clock *clocktest.Clock
}

func newEnv(t testing.TB, cfg *config.Config) *env {
	t.Helper()
	st, err := embedded.Open(filepath.Join(t.TempDir(), "aurum.db"), embedded.Options{NoSync: true})
	if err != nil {
		t.Fatalf("embedded.Open: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	ev, err := segment.New(cfg.Segments, cfg.RFM, segment.Options{})
	if err != nil {
		t.Fatalf("segment.New: %v", err)
	}
	clock := clocktest.New(t0)
	pl := pipeline.New(pipeline.ConfigOf(cfg), st, pipeline.Options{Clock: clock.Now, Extensions: []pipeline.Extension{segment.NewExtension(ev, st, nil)}})
	return &env{st: st, eval: ev, pl: pl, sched: segment.NewScheduler(st, ev, nil), clock: clock}
}

var recSeq atomic.Int64

func rec(email string, attrs map[string]any, evs ...profile.Event) profile.Record {
	id := fmt.Sprint("m", recSeq.Add(1))
	return profile.Record{
		Source: "web", ID: id,
		Identifiers: []profile.Identifier{{Type: "email", Value: email}},
		Attributes:  attrs, Events: evs,
	}
}

func order(id string, at time.Time) profile.Event {
	return profile.Event{ID: id, Source: "web", Type: "track", Name: "Order Completed", Timestamp: at, Properties: map[string]any{"total": 42.0}}
}

func (e *env) ingest(t testing.TB, recs ...profile.Record) string {
	t.Helper()
	res, err := e.pl.Ingest(context.Background(), recs)
	if err != nil {
		t.Fatalf("Ingest: %v", err)
	}
	return res.ProfileIDs[len(res.ProfileIDs)-1]
}

func (e *env) profile(t testing.TB, id string) profile.Profile {
	t.Helper()
	p, err := e.st.Profile(context.Background(), id)
	if err != nil {
		t.Fatalf("Profile(%s): %v", id, err)
	}
	return p
}

// drain returns and acknowledges the segment events in the outbox.
func (e *env) drain(t testing.TB) []string {
	t.Helper()
	ctx := context.Background()
	var out []string
	for {
		envs, err := e.st.Outbox(ctx, 100)
		if err != nil {
			t.Fatalf("Outbox: %v", err)
		}
		if len(envs) == 0 {
			return out
		}
		var ids []string
		for _, en := range envs {
			ids = append(ids, en.ID)
			if en.DetailType != events.TypeSegmentEntered && en.DetailType != events.TypeSegmentExited {
				continue
			}
			var d struct {
				Seg   string `json:"segment_id"`
				Cause string `json:"cause"`
			}
			if err := json.Unmarshal(en.Detail, &d); err != nil {
				t.Fatalf("decode detail: %v", err)
			}
			out = append(out, en.DetailType+":"+d.Seg+":"+d.Cause)
		}
		if err := e.st.Ack(ctx, ids); err != nil {
			t.Fatalf("Ack: %v", err)
		}
	}
}

func (e *env) counts(t testing.TB) map[string]int64 {
	t.Helper()
	c, err := e.eval.Counts(context.Background(), e.st)
	if err != nil {
		t.Fatalf("Counts: %v", err)
	}
	return c
}

func (e *env) reconcile(t testing.TB) segment.ReconcileReport {
	t.Helper()
	ctx := context.Background()
	rep, err := e.eval.Reconcile(ctx, e.st, segment.ScanProfiles(ctx, e.st))
	if err != nil {
		t.Fatalf("Reconcile: %v", err)
	}
	return rep
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestEntryAndExitOnChange(t *testing.T) {
	e := newEnv(t, testConfig())
	id := e.ingest(t, rec("ann@example.com", map[string]any{"country": "GB"}))
	if got, want := e.drain(t), []string{"SegmentEntered:gb:change"}; !equal(got, want) {
		t.Errorf("events after GB = %v; want %v", got, want)
	}
	p := e.profile(t, id)
	if since, ok := p.Segments["gb"]; !ok || !since.Equal(t0) {
		t.Errorf("Segments = %v; want gb since %v", p.Segments, t0)
	}
	e.clock.Set(t0.Add(2 * time.Hour))
	e.ingest(t, rec("ann@example.com", map[string]any{"country": "FR"}))
	if got, want := e.drain(t), []string{"SegmentExited:gb:change"}; !equal(got, want) {
		t.Errorf("events after FR = %v; want %v", got, want)
	}
	if p := e.profile(t, id); len(p.Segments) != 0 {
		t.Errorf("Segments after FR = %v; want none", p.Segments)
	}
	hist, _, err := segment.History(context.Background(), e.st, id, 10, "")
	if err != nil {
		t.Fatalf("History: %v", err)
	}
	if len(hist) != 2 || hist[0].Kind != "entered" || hist[1].Kind != "exited" {
		t.Fatalf("History = %+v; want entered then exited", hist)
	}
	if got := hist[1].DurationSeconds; got != 7200 {
		t.Errorf("time in segment = %vs; want 7200", got)
	}
	if c := e.counts(t); c["gb"] != 0 {
		t.Errorf("count gb = %d; want 0", c["gb"])
	}
}

func TestDependentSegmentsAndCounts(t *testing.T) {
	e := newEnv(t, testConfig())
	e.ingest(t, rec("ann@example.com", map[string]any{"country": "GB"}, order("o1", t0.Add(-time.Hour))))
	e.ingest(t, rec("bob@example.com", map[string]any{"country": "GB"}))
	e.ingest(t, rec("cyd@example.com", map[string]any{"country": "FR"}, order("o2", t0.Add(-time.Hour))))
	want := map[string]int64{"gb": 2, "buyers": 2, "gb_buyers": 1}
	for k, n := range want {
		if got := e.counts(t)[k]; got != n {
			t.Errorf("count %s = %d; want %d", k, got, n)
		}
	}
	if rep := e.reconcile(t); !rep.OK {
		t.Errorf("Reconcile = %+v; want OK", rep)
	}
	sample, err := segment.Sample(context.Background(), e.st, "gb", 10)
	if err != nil {
		t.Fatalf("Sample: %v", err)
	}
	if len(sample) != 2 {
		t.Errorf("Sample(gb) = %v; want 2 members", sample)
	}
}

func TestExitOnTime(t *testing.T) {
	e := newEnv(t, testConfig())
	ctx := context.Background()
	bought := t0.Add(-10 * 24 * time.Hour)
	id := e.ingest(t, rec("ann@example.com", nil, order("o1", bought)))
	if got, want := e.drain(t), []string{"SegmentEntered:buyers:change"}; !equal(got, want) {
		t.Fatalf("events = %v; want %v", got, want)
	}
	closes := bought.Add(30 * 24 * time.Hour)
	if p := e.profile(t, id); !p.NextEvalAt.Equal(closes) {
		t.Fatalf("NextEvalAt = %v; want %v (order + 30 days)", p.NextEvalAt, closes)
	}
	due, err := e.sched.NextDue(ctx)
	if err != nil || !due.Equal(closes) {
		t.Fatalf("NextDue = %v, %v; want %v", due, err, closes)
	}
	// One nanosecond early: nothing is due.
	res, err := e.sched.Sweep(ctx, closes.Add(-time.Nanosecond))
	if err != nil {
		t.Fatalf("Sweep: %v", err)
	}
	if res.Profiles != 0 || len(e.drain(t)) != 0 {
		t.Errorf("Sweep before the window closes = %+v; want nothing", res)
	}
	res, err = e.sched.Sweep(ctx, closes)
	if err != nil {
		t.Fatalf("Sweep: %v", err)
	}
	if res.Profiles != 1 || res.Exited != 1 {
		t.Errorf("Sweep at the close = %+v; want 1 profile, 1 exit", res)
	}
	if got, want := e.drain(t), []string{"SegmentExited:buyers:time"}; !equal(got, want) {
		t.Errorf("events = %v; want %v", got, want)
	}
	p := e.profile(t, id)
	if len(p.Segments) != 0 || !p.NextEvalAt.IsZero() {
		t.Errorf("after sweep: Segments = %v, NextEvalAt = %v; want none, zero", p.Segments, p.NextEvalAt)
	}
	if due, _ := e.sched.NextDue(ctx); !due.IsZero() {
		t.Errorf("NextDue after sweep = %v; want none", due)
	}
	if c := e.counts(t); c["buyers"] != 0 {
		t.Errorf("count buyers = %d; want 0", c["buyers"])
	}
}

func TestLateEventReschedules(t *testing.T) {
	e := newEnv(t, testConfig())
	id := e.ingest(t, rec("ann@example.com", nil, order("o1", t0.Add(-20*24*time.Hour))))
	// A later-arriving but more recent order moves the window's end.
	e.ingest(t, rec("ann@example.com", nil, order("o2", t0.Add(-5*24*time.Hour))))
	if got, want := e.profile(t, id).NextEvalAt, t0.Add(25*24*time.Hour); !got.Equal(want) {
		t.Errorf("NextEvalAt = %v; want %v", got, want)
	}
	// A late event older than the window changes nothing.
	e.ingest(t, rec("ann@example.com", nil, order("o0", t0.Add(-90*24*time.Hour))))
	if got, want := e.profile(t, id).NextEvalAt, t0.Add(25*24*time.Hour); !got.Equal(want) {
		t.Errorf("NextEvalAt after old late event = %v; want %v", got, want)
	}
}

func TestMergeExitsMergedProfile(t *testing.T) {
	cfg := testConfig()
	cfg.Identifiers = append(cfg.Identifiers, config.IdentifierType{Name: "customer_id", Normalizer: "id"})
	e := newEnv(t, cfg)
	a := e.ingest(t, rec("ann@example.com", map[string]any{"country": "GB"}))
	r := rec("ann2@example.com", map[string]any{"country": "GB"})
	r.Identifiers = append(r.Identifiers, profile.Identifier{Type: "customer_id", Value: "C1"})
	b := e.ingest(t, r)
	if a == b {
		t.Fatalf("setup: both records landed in %s", a)
	}
	if c := e.counts(t); c["gb"] != 2 {
		t.Fatalf("count gb = %d; want 2", c["gb"])
	}
	e.drain(t)
	// A record carrying both emails merges the two profiles.
	m := rec("ann@example.com", nil)
	m.Identifiers = append(m.Identifiers, profile.Identifier{Type: "email", Value: "ann2@example.com"})
	e.ingest(t, m)
	if c := e.counts(t); c["gb"] != 1 {
		t.Errorf("count gb after merge = %d; want 1", c["gb"])
	}
	if got := e.drain(t); !equal(got, []string{"SegmentExited:gb:merged"}) {
		t.Errorf("events after merge = %v; want one merged exit", got)
	}
	if rep := e.reconcile(t); !rep.OK {
		t.Errorf("Reconcile after merge = %+v; want OK", rep)
	}
}

func TestCountsUnderConcurrency(t *testing.T) {
	e := newEnv(t, testConfig())
	const workers, per, people = 8, 40, 25
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			for i := range per {
				country := []string{"GB", "FR", "DE"}[rng.IntN(3)]
				var evs []profile.Event
				if rng.IntN(3) == 0 {
					evs = append(evs, order(fmt.Sprintf("o%d-%d", w, i), t0.Add(-time.Duration(rng.IntN(60*24))*time.Hour)))
				}
				r := rec(fmt.Sprintf("p%d@example.com", rng.IntN(people)), map[string]any{"country": country}, evs...)
				r.ObservedAt = t0.Add(time.Duration(w*per+i) * time.Second)
				if _, err := e.pl.Ingest(context.Background(), []profile.Record{r}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("Ingest: %v", err)
	}
	rep := e.reconcile(t)
	if !rep.OK || rep.Profiles != people {
		t.Errorf("Reconcile = %+v; want OK over %d profiles", rep, people)
	}
	var members int64
	for _, r := range rep.Rows {
		members += r.Members
	}
	if members == 0 {
		t.Errorf("no memberships at all; the test proves nothing")
	}
}

func TestPreview(t *testing.T) {
	e := newEnv(t, testConfig())
	for i, c := range []string{"GB", "GB", "FR", "GB"} {
		e.ingest(t, rec(fmt.Sprintf("u%d@example.com", i), map[string]any{"country": c, "age": float64(20 + 10*i)}))
	}
	e.drain(t)
	ctx := context.Background()
	tests := []struct {
		name, expr string
		sample     int
		count      int
	}{
		{"attribute", `profile.attributes.country == "GB"`, 2, 3},
		{"numeric", `profile.attributes.age >= 30.0`, 5, 3},
		{"segments", `"gb" in profile.segments`, 1, 3},
		{"none", `false`, 5, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := e.eval.Preview(ctx, tt.expr, segment.ScanProfiles(ctx, e.st), tt.sample, e.clock.Now())
			if err != nil {
				t.Fatalf("Preview(%s): %v", tt.expr, err)
			}
			if res.Count != tt.count || res.Scanned != 4 || len(res.Sample) != min(tt.sample, tt.count) {
				t.Errorf("Preview(%s) = %+v; want count %d of 4, sample %d", tt.expr, res, tt.count, min(tt.sample, tt.count))
			}
		})
	}
	if _, err := e.eval.Preview(ctx, `profile.nope`, segment.ScanProfiles(ctx, e.st), 1, t0); err == nil {
		t.Errorf("Preview(profile.nope) = nil error; want a compile error")
	}
	if len(e.drain(t)) != 0 {
		t.Errorf("Preview wrote events")
	}
}

// TestSweepRetriesOnConflict checks that a profile changed between the
// sweep's read and commit is re-read, not lost.
func TestStaleDueItem(t *testing.T) {
	e := newEnv(t, testConfig())
	ctx := context.Background()
	// A due item whose profile does not exist is removed.
	err := e.st.Commit(ctx, store.Change{Items: []store.ItemWrite{{Op: store.ItemPut, Item: store.Item{
		Kind: segment.KindDue, Key: segment.Shard("p_ghost"), Sort: segment.SortTime(t0) + "|p_ghost"}}}})
	if err != nil {
		t.Fatalf("Commit: %v", err)
	}
	res, err := e.sched.Sweep(ctx, t0.Add(time.Hour))
	if err != nil {
		t.Fatalf("Sweep: %v", err)
	}
	if res.Stale != 1 {
		t.Errorf("Sweep = %+v; want 1 stale item", res)
	}
	if due, _ := e.sched.NextDue(ctx); !due.IsZero() {
		t.Errorf("NextDue = %v; want none", due)
	}
}

// TestMergeOfProfilesInOneShard merges two profiles of the same counter
// shard that both leave a segment in the same change: the two decrements
// of one counter item must fold into one write (a store refuses an item
// named twice in a change).
func TestMergeOfProfilesInOneShard(t *testing.T) {
	cfg := testConfig()
	e := newEnv(t, cfg)
	// Find two record ids whose profiles fall in the same shard.
	idOf := func(recID string) string { return pipeline.NewProfileID("msg/web/" + recID) }
	a, b := "same-shard-a", ""
	for i := 0; b == ""; i++ {
		if c := fmt.Sprint("same-shard-b", i); segment.Shard(idOf(c)) == segment.Shard(idOf(a)) {
			b = c
		}
	}
	ra := rec("ann@example.com", map[string]any{"country": "GB"})
	ra.ID, ra.ObservedAt = a, t0
	rb := rec("bob@example.com", map[string]any{"country": "GB"})
	rb.ID, rb.ObservedAt = b, t0
	pa, pb := e.ingest(t, ra), e.ingest(t, rb)
	if pa == pb || segment.Shard(pa) != segment.Shard(pb) {
		t.Fatalf("setup: profiles %s and %s; want two profiles in one shard", pa, pb)
	}
	if c := e.counts(t); c["gb"] != 2 {
		t.Fatalf("count gb = %d; want 2", c["gb"])
	}
	// One record links both and moves the person to France: the survivor
	// exits gb by change, the merged profile by merge.
	m := rec("ann@example.com", map[string]any{"country": "FR"})
	m.ObservedAt = t0.Add(time.Hour)
	m.Identifiers = append(m.Identifiers, profile.Identifier{Type: "email", Value: "bob@example.com"})
	e.ingest(t, m)
	if c := e.counts(t); c["gb"] != 0 {
		t.Errorf("count gb after the merge = %d; want 0", c["gb"])
	}
	if rep := e.reconcile(t); !rep.OK {
		t.Errorf("Reconcile after merge = %+v; want OK", rep)
	}
}

// TestLateSweepRecordsTheCloseTime sweeps 45 seconds after a window
// closed (AWS sweeps once a minute): the exit is recorded at the instant
// the window closed, not at the sweep.
func TestLateSweepRecordsTheCloseTime(t *testing.T) {
	e := newEnv(t, testConfig())
	ctx := context.Background()
	bought := t0.Add(-10 * 24 * time.Hour)
	e.ingest(t, rec("ann@example.com", nil, order("o1", bought)))
	e.drain(t)
	closes := bought.Add(30 * 24 * time.Hour)
	if _, err := e.sched.Sweep(ctx, closes.Add(45*time.Second)); err != nil {
		t.Fatalf("Sweep: %v", err)
	}
	envs, err := e.st.Outbox(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	var exits int
	for _, en := range envs {
		if en.DetailType != events.TypeSegmentExited {
			continue
		}
		exits++
		var d struct {
			At time.Time `json:"at"`
		}
		if err := json.Unmarshal(en.Detail, &d); err != nil {
			t.Fatal(err)
		}
		if !d.At.Equal(closes) {
			t.Errorf("SegmentExited at %v; want the close of the window %v", d.At, closes)
		}
	}
	if exits != 1 {
		t.Errorf("%d SegmentExited events; want 1", exits)
	}
}
