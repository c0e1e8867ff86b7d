package dynamobench_test

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/aurum-cdp/aurum/shared/adapter/dynamo"
	"github.com/aurum-cdp/aurum/shared/adapter/dynamo/dynamotest"
	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/core/pipeline"
	"github.com/aurum-cdp/aurum/shared/kit/clocktest"
	"github.com/aurum-cdp/aurum/shared/lambda/foldstream"
	"github.com/aurum-cdp/aurum/shared/model/profile"
	"github.com/aurum-cdp/aurum/shared/wire/app"
)

func TestMain(m *testing.M) { os.Exit(dynamotest.Main(m)) }

// source is the message source of aurum.yaml the records come from (a
// Segment-compatible API source: records are de-duplicated on their id).
const source = "web-api"

// configs returns the configurations measured: the root aurum.yaml
// (segments, aggregates, a trigger) and the same without segments,
// triggers and aggregates.
func configs(tb testing.TB) []struct {
	name string
	cfg  *config.Config
} {
	tb.Helper()
	full, err := config.Load(filepath.Join("..", "..", "..", "..", "aurum.yaml"))
	if err != nil {
		tb.Fatalf("config.Load(aurum.yaml) = %v", err)
	}
	minimal, err := config.Load(filepath.Join("..", "..", "..", "..", "aurum.yaml"))
	if err != nil {
		tb.Fatalf("config.Load(aurum.yaml) = %v", err)
	}
	minimal.Segments, minimal.Triggers, minimal.Golden.Aggregates = nil, nil, nil
	return []struct {
		name string
		cfg  *config.Config
	}{{"Full", full}, {"NoSegments", minimal}}
}

// rig is a platform on a fresh table whose requests are metered and
// classified.
type rig struct {
	meter    *dynamo.Meter
	kinds    *classifier
	ingester pipeline.Ingester
	// stream and fold are set with the AWS wiring: the fold function's
	// handler fed from the table's stream on DynamoDB Local, wired as
	// functions/fold is (its store defers the identity counters,
	// app.FoldCounters, on a clock that moves one batching window per
	// fold); setupFold folds what setups append, its counters sent at
	// once, so that the measured fold's pending counters are the measured
	// events' alone.
	stream    *dynamotest.Stream
	fold      func(ctx context.Context, payload []byte) ([]byte, error)
	setupFold func(ctx context.Context, payload []byte) ([]byte, error)
	foldStore *dynamo.Store
	clock     *clocktest.Clock
}

// foldWindow is the fold function's batching window (CdpProps.FoldWindow):
// the measured folds are this far apart on the fold's clock.
const foldWindow = 5 * time.Second

// wiring is how the functions are wired: the store's options and, with
// aws, the append path with its fold and the stream-published outbox, as
// app.AWS wires them.
type wiring struct {
	opts dynamo.Options
	aws  bool
}

// newRig wires app.New on a fresh DynamoDB Local table, deleted when
// owner ends.
func newRig(tb, owner testing.TB, cfg *config.Config, w wiring) *rig {
	tb.Helper()
	access := dynamotest.NewAccessKey()
	c := dynamotest.ClientFor(tb, access)
	table := dynamotest.TableName(tb)
	if err := dynamo.CreateTable(tb.Context(), c, table); err != nil {
		tb.Fatalf("CreateTable() = %v", err)
	}
	owner.Cleanup(func() {
		_, _ = c.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(table)})
	})
	m := dynamo.NewMeter(c)
	k := newClassifier(m)
	opts := w.opts
	opts.StreamOutbox = opts.StreamOutbox || w.aws
	st := dynamo.New(k, table, opts)
	parts := app.Parts{Config: cfg, Store: st}
	if w.aws {
		parts.Appender = st
	}
	pl, err := app.New(parts)
	if err != nil {
		tb.Fatalf("app.New() = %v", err)
	}
	r := &rig{meter: m, kinds: k, ingester: pl.Ingester}
	if w.aws {
		// The fold function's platform reads eventually consistently.
		fopts := opts
		fopts.EventualReads = true
		r.setupFold = foldHandler(tb, cfg, dynamo.New(k, table, fopts))
		r.clock = clocktest.New(time.Now())
		fopts.Counters, fopts.Now = app.FoldCounters(), r.clock.Now
		r.foldStore = dynamo.New(k, table, fopts)
		r.fold = foldHandler(tb, cfg, r.foldStore)
		r.stream = dynamotest.StreamFor(tb, access, table)
	}
	return r
}

// foldHandler is the fold function's handler on st, as Lambda invokes it.
func foldHandler(tb testing.TB, cfg *config.Config, st *dynamo.Store) func(ctx context.Context, payload []byte) ([]byte, error) {
	tb.Helper()
	fpl, err := app.New(app.Parts{Config: cfg, Store: st, Appender: st})
	if err != nil {
		tb.Fatalf("app.New() = %v", err)
	}
	return lambda.NewHandler(foldstream.New(fpl.Pipeline, nil).Handle).Invoke
}

func (r *rig) reset() {
	r.meter.Reset()
	r.kinds.reset()
}

func (r *rig) ingest(tb testing.TB, recs ...profile.Record) {
	tb.Helper()
	res, err := r.ingester.Ingest(tb.Context(), recs)
	if err != nil {
		tb.Fatalf("Ingest(%d records) = %v", len(recs), err)
	}
	if res.Accepted != len(recs) {
		tb.Fatalf("Ingest(%d records) accepted %d; want all", len(recs), res.Accepted)
	}
}

// settle folds what the stream holds (AWS wiring; a no-op otherwise) for
// a setup, its counters sent at once.
func (r *rig) settle(tb testing.TB) {
	tb.Helper()
	if r.stream == nil {
		return
	}
	if _, err := r.setupFold(tb.Context(), r.stream.Next(tb)); err != nil {
		tb.Fatalf("fold = %v", err)
	}
}

// foldMeasured runs the fold function over what the stream holds (AWS
// wiring; a no-op otherwise), as Lambda would after its batching window,
// one window after the last.
func (r *rig) foldMeasured(tb testing.TB) {
	tb.Helper()
	if r.stream == nil {
		return
	}
	r.clock.Advance(foldWindow)
	if _, err := r.fold(tb.Context(), r.stream.Next(tb)); err != nil {
		tb.Fatalf("fold = %v", err)
	}
}

// flush sends the counters the measured folds deferred, as the fold
// function does when they are due and at shutdown.
func (r *rig) flush(tb testing.TB) {
	tb.Helper()
	if r.foldStore == nil {
		return
	}
	if err := r.foldStore.FlushCounters(tb.Context()); err != nil {
		tb.Fatalf("FlushCounters() = %v", err)
	}
}

var base = time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)

func anon(v string) profile.Identifier { return profile.Identifier{Type: "anonymous_id", Value: v} }
func email(v string) profile.Identifier {
	return profile.Identifier{Type: "email", Value: v + "@example.com"}
}

// track is a Segment track message: one event.
func track(id string, at time.Time, ids ...profile.Identifier) profile.Record {
	return profile.Record{
		Source: source, ID: id, ObservedAt: at, ReceivedAt: at, Identifiers: ids,
		Events: []profile.Event{{ID: id, Source: source, Type: "track", Name: "Product Viewed", Timestamp: at,
			Properties: map[string]any{"product_id": "SKU-1234", "revenue": 19.99, "currency": "EUR", "path": "/products/sku-1234"}}},
	}
}

// seed ingests a profile of n track records with anonymous id id, in
// batches, and folds what was appended.
func seed(tb testing.TB, r *rig, id string, n int) {
	tb.Helper()
	const batch = 100
	for start := 0; start < n; start += batch {
		var recs []profile.Record
		for i := start; i < min(start+batch, n); i++ {
			recs = append(recs, track(fmt.Sprintf("%s-%05d", id, i), base.Add(time.Duration(i)*time.Second), anon(id)))
		}
		r.ingest(tb, recs...)
	}
	r.settle(tb)
}

type scenario struct {
	name  string
	setup func(tb testing.TB, r *rig) // once per rig
	// prepare runs unmetered before record i; the record it returns is
	// ingested and metered.
	prepare func(tb testing.TB, r *rig, i int) profile.Record
}

func scenarios() []scenario {
	at := func(i int) time.Time { return base.Add(24*time.Hour + time.Duration(i)*time.Second) }
	return []scenario{
		{name: "KnownProfile", setup: func(tb testing.TB, r *rig) {
			r.ingest(tb, track("known-0", base, anon("known")))
		}, prepare: func(tb testing.TB, r *rig, i int) profile.Record {
			return track(fmt.Sprint("known-msg-", i), at(i), anon("known"))
		}},
		{name: "KnownProfileEntersSegment", prepare: func(tb testing.TB, r *rig, i int) profile.Record {
			// An order puts a known profile into recent-buyers (Full).
			r.ingest(tb, track(fmt.Sprint("buyer-msg-", i), at(i), anon(fmt.Sprint("buyer-", i))))
			rec := track(fmt.Sprint("order-msg-", i), time.Now().UTC(), anon(fmt.Sprint("buyer-", i)))
			rec.Events[0].Name = "Order Completed"
			return rec
		}},
		{name: "NewProfile", prepare: func(tb testing.TB, r *rig, i int) profile.Record {
			return track(fmt.Sprint("new-msg-", i), at(i), anon(fmt.Sprint("new-", i)))
		}},
		{name: "MergeSmall", prepare: func(tb testing.TB, r *rig, i int) profile.Record {
			r.ingest(tb, track(fmt.Sprint("a-msg-", i), at(i), anon(fmt.Sprint("a-", i)), email(fmt.Sprint("a-", i))))
			r.ingest(tb, track(fmt.Sprint("b-msg-", i), at(i), anon(fmt.Sprint("b-", i)), email(fmt.Sprint("b-", i))))
			return track(fmt.Sprint("ab-msg-", i), at(i), email(fmt.Sprint("a-", i)), email(fmt.Sprint("b-", i)))
		}},
		{name: "Merge10Into10000", setup: func(tb testing.TB, r *rig) {
			seed(tb, r, "large", 10000)
		}, prepare: func(tb testing.TB, r *rig, i int) profile.Record {
			small := fmt.Sprint("small-", i)
			seed(tb, r, small, 10)
			// Linked by anonymous ids, which have no cap: every run merges.
			return track(fmt.Sprint("link-msg-", i), at(i), anon("large"), anon(small))
		}},
	}
}

// BenchmarkDynamoPipeline reports the DynamoDB request units one record
// of one event costs through the real pipeline (app.New: identity
// resolution, golden record, segments, identity counters and indexes,
// record index) on DynamoDB Local, counted by dynamo.Meter from the
// requests sent: WCU/event, RCU/event, items written per event and the
// on-demand cost in USD per million events at us-east-1 list prices. The
// log lists the items by kind.
//
// Variants: AWS is the root aurum.yaml wired as the Lambda functions are
// (app.AWS: the append path for tracked events of known profiles, folded
// by the fold function from the table's stream, whose units are counted
// too; the outbox published from the stream); Direct the same without the
// append path (every record committed with its profile, the outbox index
// written), Direct+EventualOwners with dynamo.Options.EventualOwners;
// NoSegments the direct path on aurum.yaml without segments, triggers and
// aggregates (without Merge10Into10000, whose seeding takes minutes).
func BenchmarkDynamoPipeline(b *testing.B) {
	cs := configs(b)
	for _, v := range []struct {
		name string
		cfg  *config.Config
		w    wiring
	}{
		{"AWS", cs[0].cfg, wiring{aws: true}},
		{"Direct", cs[0].cfg, wiring{}},
		{"Direct+EventualOwners", cs[0].cfg, wiring{opts: dynamo.Options{EventualOwners: true}}},
		{"NoSegments", cs[1].cfg, wiring{}},
	} {
		b.Run(v.name, func(b *testing.B) {
			for _, sc := range scenarios() {
				if v.name == "NoSegments" && sc.name == "Merge10Into10000" {
					continue
				}
				benchScenario(b, v.cfg, sc, v.w, 1)
			}
		})
	}
}

// BenchmarkDynamoTracked reports what a tracked event of a known profile
// costs with the AWS wiring when the fold function's batch holds k events
// of the profile (k = 1: the profile's only event within the batching
// window; 5 and 20: a browsing session). Every event is its own Ingest
// call, as the tracking API receives it; the fold runs once per
// iteration. Besides the totals per event it reports the request path's
// and the fold's shares.
//
// Profiles=n runs the same with n known profiles sharing each fold batch
// (the fold function's batches hold up to 1,000 records of many people),
// over which the batch's statistics writes spread.
func BenchmarkDynamoTracked(b *testing.B) {
	cfg := configs(b)[0].cfg
	sc := scenarios()[0] // KnownProfile
	for _, k := range []int{1, 5, 20} {
		b.Run(fmt.Sprintf("Profiles=1/PerBatch=%d", k), func(b *testing.B) {
			benchScenario(b, cfg, sc, wiring{aws: true}, k)
		})
	}
	// A profile that holds profile.MaxRecentEvents recent events: its body,
	// and so its write, is as large as a profile's gets.
	full := scenario{name: "KnownFullProfile", setup: func(tb testing.TB, r *rig) {
		seed(tb, r, "full", profile.MaxRecentEvents+10)
	}, prepare: func(tb testing.TB, r *rig, i int) profile.Record {
		return track(fmt.Sprint("full-msg-", i), base.Add(24*time.Hour+time.Duration(i)*time.Second), anon("full"))
	}}
	for _, k := range []int{1, 5} {
		b.Run(fmt.Sprintf("Profiles=1/PerBatch=%d", k), func(b *testing.B) {
			benchScenario(b, cfg, full, wiring{aws: true}, k)
		})
	}
	for _, v := range []struct{ profiles, per int }{{100, 1}, {20, 5}} {
		b.Run(fmt.Sprintf("Profiles=%d/PerBatch=%d", v.profiles, v.per), func(b *testing.B) {
			benchScenario(b, cfg, manyProfiles(v.profiles, v.per), wiring{aws: true}, v.profiles*v.per)
		})
	}
}

// manyProfiles is a scenario of n known profiles (seeded with one event
// each) whose tracked events come per events at a time, each profile in
// turn.
func manyProfiles(n, per int) scenario {
	return scenario{
		name: "KnownProfiles",
		setup: func(tb testing.TB, r *rig) {
			var recs []profile.Record
			for p := range n {
				recs = append(recs, track(fmt.Sprint("seed-", p), base, anon(fmt.Sprint("user-", p))))
			}
			r.ingest(tb, recs...)
		},
		prepare: func(tb testing.TB, r *rig, i int) profile.Record {
			p := (i / per) % n
			return track(fmt.Sprint("many-msg-", i), base.Add(time.Hour+time.Duration(i)*time.Second), anon(fmt.Sprint("user-", p)))
		},
	}
}

// benchScenario meters sc: per iteration k records prepared by sc, each
// ingested on its own, then the fold (AWS wiring); units are reported per
// record.
func benchScenario(parent *testing.B, cfg *config.Config, sc scenario, w wiring, k int) {
	// The testing package runs a sub-benchmark several times (b.N = 1
	// first): the rig and its setup are made once, and record numbers go
	// on across runs.
	var r *rig
	next := 0
	parent.Run(sc.name, func(b *testing.B) {
		if r == nil {
			r = newRig(b, parent, cfg, w)
			if sc.setup != nil {
				sc.setup(b, r)
			}
			r.settle(b)
		}
		var sum, path dynamo.Units
		kinds := map[string]tally{}
		// collect adds what was metered since the last reset.
		collect := func() {
			u := r.meter.Units()
			sum.Read += u.Read
			sum.Write += u.Write
			sum.ReportedRead += u.ReportedRead
			sum.ReportedWrite += u.ReportedWrite
			sum.WriteItems += u.WriteItems
			for kind, t := range r.kinds.snapshot() {
				acc := kinds[kind]
				acc.Writes += t.Writes
				acc.Reads += t.Reads
				acc.WCU += t.WCU
				acc.RCU += t.RCU
				kinds[kind] = acc
			}
		}
		b.ResetTimer()
		for range b.N {
			b.StopTimer()
			recs := make([]profile.Record, k)
			for j := range recs {
				recs[j] = sc.prepare(b, r, next)
				next++
			}
			r.settle(b)
			r.reset()
			b.StartTimer()
			for _, rec := range recs {
				r.ingest(b, rec)
			}
			b.StopTimer()
			p := r.meter.Units()
			path.Read += p.Read
			path.Write += p.Write
			b.StartTimer()
			r.foldMeasured(b)
			b.StopTimer()
			collect()
			b.StartTimer()
		}
		// The counters the run's folds deferred are sent as the instance
		// would send them (when due, or at its shutdown), and counted:
		// their units are shared by the run's b.N×k events.
		b.StopTimer()
		r.reset()
		r.flush(b)
		collect()
		n := float64(b.N * k)
		b.ReportMetric(sum.Write/n, "WCU/event")
		b.ReportMetric(sum.Read/n, "RCU/event")
		b.ReportMetric(float64(sum.WriteItems)/n, "items/event")
		b.ReportMetric((sum.Write*dynamo.PriceWriteUnit+sum.Read*dynamo.PriceReadUnit)/n*1e6, "USD/Mevents")
		if w.aws {
			b.ReportMetric(path.Write/n, "path-WCU/event")
			b.ReportMetric(path.Read/n, "path-RCU/event")
		}
		if b.N == 1 {
			// The testing package's probe run (or -benchtime 1x): no
			// table, since benchmark logs are cut at ten lines and the
			// final run's table needs them.
			return
		}
		b.Logf("per event (N=%d, %d per batch; DynamoDB Local reported WCU %.2f, RCU %.2f):%s", b.N, k,
			sum.ReportedWrite/n, sum.ReportedRead/n, table(kinds, n))
	})
}

// TestPipelineUnitsByKind checks that the breakdown by kind adds up to
// what dynamo.Meter counts, for each scenario's first metered record.
func TestPipelineUnitsByKind(t *testing.T) {
	cfg := configs(t)[0].cfg
	for _, sc := range scenarios() {
		if sc.name == "Merge10Into10000" {
			continue // the seeding is for benchmarks
		}
		for _, w := range []struct {
			name string
			w    wiring
		}{{"Direct", wiring{}}, {"AWS", wiring{aws: true}}} {
			t.Run(w.name+"/"+sc.name, func(t *testing.T) {
				unitsByKind(t, cfg, sc, w.w)
			})
		}
	}
}

func unitsByKind(t *testing.T, cfg *config.Config, sc scenario, wr wiring) {
	r := newRig(t, t, cfg, wr)
	if sc.setup != nil {
		sc.setup(t, r)
	}
	rec := sc.prepare(t, r, 0)
	r.settle(t)
	r.reset()
	r.ingest(t, rec)
	r.foldMeasured(t)
	r.flush(t)
	u := r.meter.Units()
	var w, rd float64
	items := 0
	for _, k := range r.kinds.snapshot() {
		w += k.WCU
		rd += k.RCU
		items += k.Writes
	}
	if math.Abs(w-u.Write) > 1e-9 || math.Abs(rd-u.Read) > 1e-9 || items != u.WriteItems {
		t.Errorf("by kind: WCU %v, RCU %v, items %d; want the meter's %v, %v, %d",
			w, rd, items, u.Write, u.Read, u.WriteItems)
	}
	if u.Write == 0 || u.Read == 0 {
		t.Errorf("meter counted WCU %v, RCU %v; want both > 0", u.Write, u.Read)
	}
}
