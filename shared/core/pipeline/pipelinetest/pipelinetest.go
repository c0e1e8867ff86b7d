// Package pipelinetest checks, on a real store, what the pipeline promises
// to concurrent clients, in the style of the store conformance suite
// (storetest): every store implementation runs it from its own tests.
//
//	func TestPipelineDelivery(t *testing.T) {
//		pipelinetest.Run(t, func(t *testing.T) pipelinetest.Target {
//			return pipelinetest.Target{Store: newTestStore(t)}
//		})
//	}
//
// Redelivery: Writers goroutines ingest the same messages (same ids, each
// writer in its own order and batches) at once. Every message must be
// accepted by exactly one call and a duplicate for every other (the sums of
// Result.Accepted and Result.Duplicates are exact), the store must hold
// each message once, and the identity statistics must count each record
// once. HotProfile: Writers goroutines ingest distinct messages of one
// person at once; no call may fail on the contention, and every message is
// stored once.
//
// The checks are bounded loops over the results, never timings.
package pipelinetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/core/identity"
	"github.com/aurum-cdp/aurum/shared/core/pipeline"
	"github.com/aurum-cdp/aurum/shared/model/fault"
	"github.com/aurum-cdp/aurum/shared/model/profile"
	"github.com/aurum-cdp/aurum/shared/port/store"
)

// Writers is the number of concurrent writers of every scenario.
const Writers = 8

// Source is the message source the records come from: an API source,
// de-duplicated on the message id like Segment's messageId.
const Source = "web"

// Target is a fresh, empty store to run a scenario on.
type Target struct {
	// Store is the store; its maker registers its Close with t.Cleanup.
	Store store.Store
	// Appender, when not nil, is given to the pipelines (the append path
	// of tracked events).
	Appender store.Appender
	// Settle applies what the store defers once the writers are done,
	// with p: the fold of appended events from the change stream
	// (DynamoDB). Optional.
	Settle func(t *testing.T, p *pipeline.Pipeline)
}

// Run runs every scenario, each on a fresh target from newTarget.
func Run(t *testing.T, newTarget func(t *testing.T) Target) {
	for _, grouped := range []bool{false, true} {
		name := ""
		if grouped {
			name = "GroupCommit"
		}
		t.Run("Redelivery"+name, func(t *testing.T) { testRedelivery(t, newTarget(t), grouped) })
		t.Run("HotProfile"+name, func(t *testing.T) { testHotProfile(t, newTarget(t), grouped) })
	}
}

// Config is the configuration of the suite's pipelines: three identifier
// types, each its own exact rule, and the API source.
func Config() pipeline.Config {
	return pipeline.Config{
		Identifiers: []config.IdentifierType{
			{Name: "user_id", Normalizer: "id"},
			{Name: "email", Normalizer: "email"},
			{Name: "anonymous_id", Normalizer: "id"},
		},
		Sources: []config.Source{{Name: Source, Kind: config.KindAPI}},
	}
}

var epoch = time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)

// Messages returns perPerson messages for each of people people, as
// Segment calls map them: an identify (user id, e-mail and a trait, no
// event), then tracks (user id and one event), then an alias (user id and
// an anonymous id, one event), in that order per person. Ids and times are
// fixed, so every delivery of a message is the same record.
func Messages(prefix string, people, perPerson int) []profile.Record {
	var out []profile.Record
	for p := range people {
		user := profile.Identifier{Type: "user_id", Value: fmt.Sprintf("%s-u%03d", prefix, p)}
		for k := range perPerson {
			n := len(out)
			at := epoch.Add(time.Duration(n) * time.Second)
			r := profile.Record{
				Source: Source, ID: fmt.Sprintf("%s-m%04d", prefix, n), ObservedAt: at, ReceivedAt: at,
				Identifiers: []profile.Identifier{user}, Attributes: map[string]any{},
			}
			switch {
			case k == 0:
				r.Identifiers = append(r.Identifiers, profile.Identifier{Type: "email", Value: fmt.Sprintf("%s-%03d@example.com", prefix, p)})
				r.Attributes["plan"] = "pro"
			case k == perPerson-1 && perPerson > 2:
				r.Identifiers = append(r.Identifiers, profile.Identifier{Type: "anonymous_id", Value: fmt.Sprintf("%s-a%04d", prefix, n)})
				r.Events = []profile.Event{{ID: r.ID, Source: Source, Type: "alias", Name: "alias", Timestamp: at}}
			default:
				r.Events = []profile.Event{{ID: r.ID, Source: Source, Type: "track", Name: "Viewed", Timestamp: at}}
			}
			out = append(out, r)
		}
	}
	return out
}

// newPipeline returns a pipeline of the suite's configuration over st.
func newPipeline(st store.Store, app store.Appender) *pipeline.Pipeline {
	return pipeline.New(Config(), st, pipeline.Options{Appender: app})
}

// outcome is what the writers' calls returned, summed.
type outcome struct {
	accepted, duplicates, calls int
	errs                        []error
}

// ingestAll runs Writers writers at once, each ingesting its own list of
// records (lists[w]) in batches of 1 to maxBatch records, and sums their
// results. Grouped, they all call one GroupCommit over one pipeline.
func ingestAll(st store.Store, app store.Appender, lists [][]profile.Record, maxBatch int, grouped bool) outcome {
	var (
		mu    sync.Mutex
		out   outcome
		wg    sync.WaitGroup
		start = make(chan struct{})
	)
	shared := pipeline.NewGroupCommit(newPipeline(st, app), 0)
	for w, mine := range lists {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 17))
			var p pipeline.Ingester = newPipeline(st, app)
			if grouped {
				p = shared
			}
			<-start
			for len(mine) > 0 {
				n := min(len(mine), 1+r.IntN(maxBatch))
				res, err := p.Ingest(context.Background(), mine[:n])
				mu.Lock()
				out.calls++
				out.accepted += res.Accepted
				out.duplicates += res.Duplicates
				if err != nil {
					out.errs = append(out.errs, err)
				}
				mu.Unlock()
				mine = mine[n:]
			}
		})
	}
	close(start)
	wg.Wait()
	return out
}

// shuffled returns Writers copies of recs, each in its own order.
func shuffled(recs []profile.Record) [][]profile.Record {
	lists := make([][]profile.Record, Writers)
	for w := range lists {
		lists[w] = slices.Clone(recs)
		r := rand.New(rand.NewPCG(uint64(w), 5))
		r.Shuffle(len(recs), func(i, j int) { lists[w][i], lists[w][j] = lists[w][j], lists[w][i] })
	}
	return lists
}

func testRedelivery(t *testing.T, tg Target, grouped bool) {
	const people, perPerson = 20, 3
	recs := Messages("rd", people, perPerson)
	st, app := tg.Store, tg.Appender
	got := ingestAll(st, app, shuffled(recs), 10, grouped)
	for _, err := range got.errs {
		t.Errorf("Ingest() = %v; want nil (no call fails on a concurrent duplicate)", err)
	}
	n := len(recs)
	if got.accepted != n || got.duplicates != (Writers-1)*n {
		t.Errorf("%d writers delivering the same %d messages: accepted %d, duplicates %d; want %d, %d",
			Writers, n, got.accepted, got.duplicates, n, (Writers-1)*n)
	}
	if tg.Settle != nil {
		tg.Settle(t, newPipeline(st, app))
	}
	checkStored(t, st, app, recs, people)
	checkStats(t, st, wantStats{records: n, clusters: people, links: n - people, size: perPerson})
}

func testHotProfile(t *testing.T, tg Target, grouped bool) {
	// One person, many devices: each writer sends messages of its own
	// (distinct ids) for the same user at once, so every commit races
	// the others' on the one profile.
	const perWriter = 4
	st, app := tg.Store, tg.Appender
	all := Messages("hot", 1, Writers*perWriter)
	lists := make([][]profile.Record, Writers)
	for i, r := range all {
		lists[i%Writers] = append(lists[i%Writers], r)
	}
	got := ingestAll(st, app, lists, 2, grouped)
	for _, err := range got.errs {
		kind := "another failure"
		if fault.Is(err, fault.ErrConflict) || fault.Is(err, fault.ErrRetryable) {
			kind = "the contention"
		}
		t.Errorf("Ingest() = %v; want nil (%s must not fail a valid message)", err, kind)
	}
	if n := len(all); got.accepted != n || got.duplicates != 0 {
		t.Errorf("%d writers of distinct messages of one person: accepted %d, duplicates %d; want %d, 0", Writers, got.accepted, got.duplicates, n)
	}
	if tg.Settle != nil {
		tg.Settle(t, newPipeline(st, app))
	}
	checkStored(t, st, app, all, 1)
	checkStats(t, st, wantStats{records: len(all), clusters: 1, links: len(all) - 1, size: len(all)})
}

// checkStored checks that each of recs is stored once: as a record of its
// own or (with an Appender) as an appended record of its profile; that each
// person's live profile counts exactly its records; and that each event is
// listed once.
func checkStored(t *testing.T, st store.Store, app store.Appender, recs []profile.Record, people int) {
	t.Helper()
	ctx := t.Context()
	byUser := map[profile.Identifier][]profile.Record{}
	for _, r := range recs {
		byUser[r.Identifiers[0]] = append(byUser[r.Identifiers[0]], r)
	}
	if len(byUser) != people {
		t.Fatalf("pipelinetest: %d people in the messages; want %d", len(byUser), people)
	}
	for user, mine := range byUser {
		owners, err := st.Owners(ctx, []profile.Identifier{user})
		if err != nil {
			t.Fatalf("Owners(%v) = %v", user, err)
		}
		o, ok := owners[user]
		if !ok {
			t.Errorf("Owners(%v): unclaimed; want claimed by its profile", user)
			continue
		}
		pr, err := st.Profile(ctx, o.ProfileID)
		if err != nil {
			t.Errorf("Profile(%q) = %v", o.ProfileID, err)
			continue
		}
		if pr.RecordCount != len(mine) {
			t.Errorf("Profile(%q).RecordCount = %d; want %d (the messages of %s)", pr.ID, pr.RecordCount, len(mine), user.Value)
		}
		appended := appendedIDs(t, app, pr)
		wantEvents := 0
		for _, r := range mine {
			wantEvents += len(r.Events)
			_, _, err := st.Record(ctx, r.Source, r.ID)
			switch {
			case err == nil && appended[r.ID] > 0:
				t.Errorf("message %s: stored as a record and appended; want once", r.ID)
			case err == nil, fault.Is(err, fault.ErrNotFound) && appended[r.ID] == 1:
			case fault.Is(err, fault.ErrNotFound):
				t.Errorf("message %s: Record() not found, appended %d times; want stored once", r.ID, appended[r.ID])
			default:
				t.Errorf("Record(%q, %q) = %v", r.Source, r.ID, err)
			}
		}
		checkEvents(t, st, pr.ID, wantEvents)
	}
}

// appendedIDs counts the appended records of pr and the profiles merged
// into it, by id.
func appendedIDs(t *testing.T, app store.Appender, pr profile.Profile) map[string]int {
	t.Helper()
	out := map[string]int{}
	if app == nil {
		return out
	}
	for _, id := range append([]string{pr.ID}, pr.MergedFrom...) {
		recs, err := app.AppendedRecords(t.Context(), id)
		if err != nil {
			t.Fatalf("AppendedRecords(%q) = %v", id, err)
		}
		for _, r := range recs {
			out[r.ID]++
		}
	}
	return out
}

// checkEvents checks that profile id lists want events, each once.
func checkEvents(t *testing.T, st store.Store, id string, want int) {
	t.Helper()
	seen := map[string]int{}
	cursor := ""
	for range 100 {
		evs, next, err := st.Events(t.Context(), id, 100, cursor)
		if err != nil {
			t.Fatalf("Events(%q) = %v", id, err)
		}
		for _, e := range evs {
			seen[e.ID]++
		}
		if cursor = next; cursor == "" {
			break
		}
	}
	total := 0
	for eid, n := range seen {
		total += n
		if n != 1 {
			t.Errorf("Events(%q): event %s listed %d times; want once", id, eid, n)
		}
	}
	if total != want {
		t.Errorf("Events(%q) = %d events; want %d", id, total, want)
	}
}

// wantStats are the identity statistics a scenario must end with: every
// person one cluster of size records, each record after a person's first
// one link.
type wantStats struct {
	records, clusters, links, size int
}

func checkStats(t *testing.T, st store.Store, want wantStats) {
	t.Helper()
	c := Config()
	eng, err := identity.New(c.Identifiers, &c.Identity)
	if err != nil {
		t.Fatalf("identity.New() = %v", err)
	}
	s, err := eng.StreamStats(t.Context(), st)
	if err != nil {
		t.Fatalf("StreamStats() = %v", err)
	}
	links, merges := 0, 0
	for _, r := range s.Rules {
		links += r.Links
		merges += r.Merges
	}
	if s.Records != want.records || s.Clusters != want.clusters || links != want.links || merges != 0 {
		t.Errorf("StreamStats() = %d records, %d clusters, %d links, %d merges; want %d, %d, %d, 0 (each committed record counted once)",
			s.Records, s.Clusters, links, merges, want.records, want.clusters, want.links)
	}
	bucket := identity.HistogramBuckets()[identity.BucketOf(want.size)].Label
	for _, b := range s.Histogram {
		w := 0
		if b.Label == bucket {
			w = want.clusters
		}
		if b.Clusters != w {
			t.Errorf("StreamStats().Histogram[%s] = %d clusters; want %d", b.Label, b.Clusters, w)
		}
	}
}
