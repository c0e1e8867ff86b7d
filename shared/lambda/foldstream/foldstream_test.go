package foldstream_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/aurum-cdp/aurum/shared/adapter/dynamo"
	"github.com/aurum-cdp/aurum/shared/adapter/dynamo/dynamotest"
	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/core/pipeline"
	"github.com/aurum-cdp/aurum/shared/lambda/foldstream"
	"github.com/aurum-cdp/aurum/shared/lambda/outboxstream"
	aevents "github.com/aurum-cdp/aurum/shared/model/events"
	"github.com/aurum-cdp/aurum/shared/model/profile"
	"github.com/aurum-cdp/aurum/shared/pattern"
	"github.com/aurum-cdp/aurum/shared/port/store"
	"github.com/aurum-cdp/aurum/shared/wire/app"
)

func TestMain(m *testing.M) { os.Exit(dynamotest.Main(m)) }

const source = "web-api"

var base = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

func anon(v string) profile.Identifier { return profile.Identifier{Type: "anonymous_id", Value: v} }

func track(id, name string, at time.Time, ids ...profile.Identifier) profile.Record {
	return profile.Record{
		Source: source, ID: id, ObservedAt: at, ReceivedAt: at, Identifiers: ids,
		Events: []profile.Event{{ID: id, Source: source, Type: "track", Name: name, Timestamp: at,
			Properties: map[string]any{"revenue": 10.0}}},
	}
}

// rig is a platform on a fresh DynamoDB Local table as the AWS functions
// wire it (stream outbox, appender), with readers of the table's stream.
type rig struct {
	client *dynamodb.Client
	table  string
	st     *dynamo.Store
	plat   *app.Platform
	stream *dynamotest.Stream
	fold   func(ctx context.Context, payload []byte) ([]byte, error)
}

func newRig(t *testing.T, appender bool) *rig {
	t.Helper()
	key := dynamotest.NewAccessKey()
	c := dynamotest.ClientFor(t, key)
	table := dynamotest.NewTable(t, c)
	cfg, err := config.Load(filepath.Join("..", "..", "..", "aurum.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	st := dynamo.New(c, table, dynamo.Options{StreamOutbox: true})
	parts := app.Parts{Config: cfg, Store: st}
	if appender {
		parts.Appender = st
	}
	pl, err := app.New(parts)
	if err != nil {
		t.Fatal(err)
	}
	return &rig{client: c, table: table, st: st, plat: pl, stream: dynamotest.StreamFor(t, key, table),
		fold: lambda.NewHandler(foldstream.New(pl.Pipeline, nil).Handle).Invoke}
}

func (r *rig) ingest(t *testing.T, recs ...profile.Record) (res struct{ Accepted, Duplicates, Appended, Created int }) {
	t.Helper()
	got, err := r.plat.Ingester.Ingest(t.Context(), recs)
	if err != nil {
		t.Fatalf("Ingest(%d records) = %v", len(recs), err)
	}
	res.Accepted, res.Duplicates, res.Appended, res.Created = got.Accepted, got.Duplicates, got.Appended, got.Created
	return res
}

// drain feeds the stream's new records to the fold function, as Lambda
// does, and returns them.
func (r *rig) drain(t *testing.T) []byte {
	t.Helper()
	payload := r.stream.Next(t)
	if _, err := r.fold(t.Context(), payload); err != nil {
		t.Fatalf("fold handler = %v", err)
	}
	return payload
}

func (r *rig) profile(t *testing.T, id string) profile.Profile {
	t.Helper()
	p, err := r.st.Profile(t.Context(), id)
	if err != nil {
		t.Fatalf("Profile(%s) = %v", id, err)
	}
	return p
}

// published runs the outbox function over a stream payload and returns
// the detail types it published.
func published(t *testing.T, payload []byte) []aevents.Envelope {
	t.Helper()
	pub := &recorder{}
	if _, err := lambda.NewHandler(outboxstream.New(pub, nil).Handle).Invoke(t.Context(), payload); err != nil {
		t.Fatalf("outbox handler = %v", err)
	}
	return pub.got
}

type recorder struct{ got []aevents.Envelope }

func (p *recorder) Publish(_ context.Context, envs ...aevents.Envelope) error {
	p.got = append(p.got, envs...)
	return nil
}

func TestDynamoFoldTrackedEvents(t *testing.T) {
	r := newRig(t, true)
	if res := r.ingest(t, track("m-0", "Page Viewed", base, anon("a1"))); res.Created != 1 || res.Appended != 0 {
		t.Fatalf("first message: %+v; want a new profile, nothing appended", res)
	}
	r.drain(t)
	var recs []profile.Record
	for i := 1; i <= 5; i++ {
		recs = append(recs, track(fmt.Sprint("m-", i), "Product Viewed", base.Add(time.Duration(i)*time.Minute), anon("a1")))
	}
	res := r.ingest(t, append(recs, recs[0])...)
	if res.Appended != 5 || res.Accepted != 5 || res.Duplicates != 1 {
		t.Fatalf("5 tracked events of a known profile and a re-delivery: %+v; want 5 appended, 1 duplicate", res)
	}
	owner, err := r.st.Owners(t.Context(), []profile.Identifier{anon("a1")})
	if err != nil {
		t.Fatal(err)
	}
	id := owner[anon("a1")].ProfileID
	before := r.profile(t, id)
	if before.EventCount != 1 {
		t.Fatalf("before the fold: %d events; want 1 (appends are folded later)", before.EventCount)
	}
	evs, _, err := r.st.Events(t.Context(), id, 10, "")
	if err != nil || len(evs) != 6 {
		t.Fatalf("Events before the fold = %d, %v; want the 6 stored events", len(evs), err)
	}

	payload := r.drain(t)
	after := r.profile(t, id)
	if after.Version != before.Version+1 {
		t.Errorf("fold wrote version %d after %d; want one profile write for 5 events", after.Version, before.Version)
	}
	if after.EventCount != 6 || after.RecordCount != 6 || len(after.RecentEvents) != 6 {
		t.Errorf("after the fold: %d events, %d records, %d recent; want 6, 6, 6", after.EventCount, after.RecordCount, len(after.RecentEvents))
	}
	if after.Sources[source] != 6 {
		t.Errorf("after the fold: source count %d; want 6", after.Sources[source])
	}

	// The fold's ProfileUpdated rides in the profile item and the outbox
	// function publishes it from the stream.
	out := r.drain(t)
	var names []string
	for _, e := range published(t, out) {
		if e.DetailType != aevents.TypeProfileUpdated {
			continue
		}
		var d aevents.ProfileUpdated
		if err := json.Unmarshal(e.Detail, &d); err != nil {
			t.Fatal(err)
		}
		if d.ProfileVersion == after.Version {
			names = d.EventNames
		}
	}
	if len(names) != 5 {
		t.Errorf("published ProfileUpdated of version %d names events %v; want the 5 folded", after.Version, names)
	}

	// The same stream batch again (Lambda's retry) changes nothing.
	if _, err := r.fold(t.Context(), payload); err != nil {
		t.Fatal(err)
	}
	if again := r.profile(t, id); again.Version != after.Version || again.EventCount != 6 {
		t.Errorf("retried batch: version %d, %d events; want %d, 6", again.Version, again.EventCount, after.Version)
	}
	// Re-delivered messages change nothing either.
	if res := r.ingest(t, recs...); res.Duplicates != 5 || res.Accepted != 0 {
		t.Errorf("re-delivery of 5 appended messages: %+v; want 5 duplicates", res)
	}
	r.drain(t)
	if again := r.profile(t, id); again.Version != after.Version {
		t.Errorf("after re-delivery: version %d; want %d", again.Version, after.Version)
	}
	// A file row (source web) keeps the direct path: files are
	// de-duplicated on their content, not on the event.
	row := track("row-1", "Product Viewed", base.Add(time.Hour), anon("a1"))
	row.Source, row.Events[0].Source = "web", "web"
	if res := r.ingest(t, row); res.Accepted != 1 || res.Appended != 0 {
		t.Errorf("file row of a known profile: %+v; want accepted on the direct path", res)
	}
	stats, err := r.plat.Identity.StreamStats(t.Context(), r.st)
	if err != nil {
		t.Fatal(err)
	}
	if stats.Records != 7 || len(stats.Largest) != 1 || stats.Largest[0].Records != 7 {
		t.Errorf("identity stats: %d records, largest %v; want 7 records in one cluster of 7", stats.Records, stats.Largest)
	}
}

// TestDynamoFoldMatchesDirectPath ingests the same messages with and
// without the appender and checks that, once folded, the profiles agree:
// the append path changes the cost, not the result. The messages include
// orders (aggregates, a segment entered), a merge of a profile that has
// appended events still unfolded, and a message appended under the
// merged-away profile.
func TestDynamoFoldMatchesDirectPath(t *testing.T) {
	at := func(m int) time.Time { return base.Add(time.Duration(m) * time.Minute) }
	order := func(id string, m int, ids ...profile.Identifier) profile.Record {
		return track(id, "Order Completed", at(m), ids...)
	}
	email := profile.Identifier{Type: "email", Value: "ada@example.com"}
	batches := [][]profile.Record{
		{track("x-0", "Page Viewed", at(0), anon("x"))},
		{track("y-0", "Page Viewed", at(1), anon("y"))},
		{order("x-1", 2, anon("x")), order("x-2", 3, anon("x")), track("y-1", "Product Viewed", at(4), anon("y"))},
		// y (appended event above, not folded yet) merges into x.
		{track("xy", "Signed Up", at(5), anon("x"), anon("y"), email)},
		{order("x-3", 6, anon("x")), track("y-2", "Product Viewed", at(7), anon("y"))},
	}
	direct := newRig(t, false)
	appended := newRig(t, true)
	totalAppended := 0
	for i, b := range batches {
		direct.ingest(t, b...)
		totalAppended += appended.ingest(t, b...).Appended
		if i == 2 {
			continue // the merge comes before this batch's fold
		}
		appended.drain(t)
	}
	appended.drain(t)
	if totalAppended < 5 {
		t.Errorf("appended %d messages; want at least the 5 of known profiles", totalAppended)
	}
	owner := func(r *rig) profile.Profile {
		o, err := r.st.Owners(t.Context(), []profile.Identifier{email})
		if err != nil {
			t.Fatal(err)
		}
		return r.profile(t, o[email].ProfileID)
	}
	want, got := owner(direct), owner(appended)
	if got.ID != want.ID {
		t.Errorf("survivor %s; direct path %s", got.ID, want.ID)
	}
	if got.RecordCount != want.RecordCount || got.EventCount != want.EventCount {
		t.Errorf("folded: %d records, %d events; direct path %d, %d", got.RecordCount, got.EventCount, want.RecordCount, want.EventCount)
	}
	if fmt.Sprint(got.Aggregates) != fmt.Sprint(want.Aggregates) {
		t.Errorf("folded aggregates %v; direct path %v", got.Aggregates, want.Aggregates)
	}
	if fmt.Sprint(slices.Sorted(maps.Keys(got.Segments))) != fmt.Sprint(slices.Sorted(maps.Keys(want.Segments))) {
		t.Errorf("folded segments %v; direct path %v", got.Segments, want.Segments)
	}
	ids := func(p profile.Profile) []string {
		var out []string
		for _, e := range p.RecentEvents {
			out = append(out, e.ID)
		}
		slices.Sort(out)
		return out
	}
	if !slices.Equal(ids(got), ids(want)) {
		t.Errorf("folded recent events %v; direct path %v", ids(got), ids(want))
	}
	// The message of y after the merge re-claimed y for the survivor on
	// both paths (lazy compaction of the redirect).
	for name, r := range map[string]*rig{"direct": direct, "appended": appended} {
		o, err := r.st.Owners(t.Context(), []profile.Identifier{anon("y")})
		if err != nil {
			t.Fatal(err)
		}
		if c := o[anon("y")]; c.Claimant != c.ProfileID {
			t.Errorf("%s: anonymous id y claimed by %s, live %s; want the survivor to have re-claimed it", name, c.Claimant, c.ProfileID)
		}
	}
	if _, ok := got.Segments["repeat-buyers"]; !ok {
		t.Errorf("segments %v; want repeat-buyers after three orders", got.Segments)
	}
}

// TestDynamoAppendItem checks the appended item's shape on the table: the
// event item the direct path writes, plus the record for the fold, within
// one write unit for a typical tracked event.
func TestDynamoAppendItem(t *testing.T) {
	r := newRig(t, true)
	r.ingest(t, track("m-0", "Page Viewed", base, anon("a1")))
	rec := track("m-1", "Product Viewed", base.Add(time.Minute), anon("a1"))
	if res := r.ingest(t, rec); res.Appended != 1 {
		t.Fatalf("Ingest = %+v; want 1 appended", res)
	}
	owner, _ := r.st.Owners(t.Context(), []profile.Identifier{anon("a1")})
	out, err := r.client.Query(t.Context(), &dynamodb.QueryInput{
		TableName:              aws.String(r.table),
		KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :e)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": &types.AttributeValueMemberS{Value: "P#" + owner[anon("a1")].ProfileID},
			":e":  &types.AttributeValueMemberS{Value: "E#"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	var app map[string]types.AttributeValue
	for _, it := range out.Items {
		if _, ok := it[dynamo.AppendAttribute]; ok {
			app = it
		}
	}
	if app == nil {
		t.Fatalf("no item with %q among %d event items", dynamo.AppendAttribute, len(out.Items))
	}
	if n := dynamo.ItemSize(app); n > 1024 {
		t.Errorf("appended item of a tracked event: %d bytes; want at most 1 KB (one write unit)", n)
	}
	strs := map[string]string{}
	for k, v := range app {
		if s, ok := v.(*types.AttributeValueMemberS); ok {
			strs[k] = s.Value
		}
	}
	got, ok, err := dynamo.AppendedFromImage(strs, "42")
	if !ok || err != nil {
		t.Fatalf("AppendedFromImage = %v, %v", ok, err)
	}
	if got.Record.Key() != rec.Key() || !got.Record.ObservedAt.Equal(rec.ObservedAt) || got.Record.Events[0].ID != "m-1" || got.Seq != "42" {
		t.Errorf("AppendedFromImage = %+v; want record %s with its event", got, rec.Key())
	}
}

// TestHandleSkipsOtherRecords feeds the sample outbox stream (no appended
// items) through the fold handler: nothing to fold, no error.
func TestHandleSkipsOtherRecords(t *testing.T) {
	payload, err := os.ReadFile("../../../events/dynamodb-outbox-stream.json")
	if err != nil {
		t.Fatal(err)
	}
	f := &folder{}
	if _, err := lambda.NewHandler(foldstream.New(f, nil).Handle).Invoke(context.Background(), payload); err != nil {
		t.Fatalf("Invoke = %v", err)
	}
	if f.calls != 0 {
		t.Errorf("Fold called %d times; want none for a batch without appended items", f.calls)
	}
	var ev events.DynamoDBEvent
	if err := json.Unmarshal(payload, &ev); err != nil || len(ev.Records) == 0 {
		t.Fatalf("sample stream event: %d records, %v", len(ev.Records), err)
	}
}

type folder struct{ calls int }

func (f *folder) Fold(context.Context, []store.Appended) (pipeline.FoldResult, error) {
	f.calls++
	return pipeline.FoldResult{}, nil
}

// TestDynamoFoldRetriedBatch replays a batch of more appended events than
// a profile keeps recent (profile.MaxRecentEvents): only the fold
// positions can tell which were folded.
func TestDynamoFoldRetriedBatch(t *testing.T) {
	r := newRig(t, true)
	r.ingest(t, track("m-0", "Page Viewed", base, anon("a1")))
	r.drain(t)
	n := profile.MaxRecentEvents + 10
	var recs []profile.Record
	for i := 1; i <= n; i++ {
		recs = append(recs, track(fmt.Sprint("m-", i), "Product Viewed", base.Add(time.Duration(i)*time.Second), anon("a1")))
	}
	if res := r.ingest(t, recs...); res.Appended != n {
		t.Fatalf("Ingest = %+v; want %d appended", res, n)
	}
	payload := r.drain(t)
	owner, _ := r.st.Owners(t.Context(), []profile.Identifier{anon("a1")})
	first := r.profile(t, owner[anon("a1")].ProfileID)
	if first.EventCount != n+1 {
		t.Fatalf("after the fold: %d events; want %d", first.EventCount, n+1)
	}
	if _, err := r.fold(t.Context(), payload); err != nil {
		t.Fatal(err)
	}
	if again := r.profile(t, first.ID); again.EventCount != first.EventCount || again.Version != first.Version {
		t.Errorf("retried batch: %d events at version %d; want %d at %d", again.EventCount, again.Version, first.EventCount, first.Version)
	}
}

// TestDynamoFoldDiscardsOrphans appends an event under a profile erased
// meanwhile (the race of an eventually consistent claim read with an
// erasure): the fold deletes the event item instead of keeping data of
// an erased person.
func TestDynamoFoldDiscardsOrphans(t *testing.T) {
	r := newRig(t, true)
	r.ingest(t, track("m-0", "Page Viewed", base, anon("a1")))
	r.drain(t)
	owner, _ := r.st.Owners(t.Context(), []profile.Identifier{anon("a1")})
	id := owner[anon("a1")].ProfileID
	svc, err := r.plat.Privacy(r.st)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Erase(t.Context(), id); err != nil {
		t.Fatalf("Erase = %v", err)
	}
	late := track("m-late", "Product Viewed", base.Add(time.Minute), anon("a1"))
	if w, err := r.st.Append(t.Context(), []store.Append{{ProfileID: id, Record: late}}); err != nil || !w[0] {
		t.Fatalf("Append = %v, %v", w, err)
	}
	if evs, _, err := r.st.Events(t.Context(), id, 10, ""); err == nil && len(evs) > 0 {
		t.Logf("before the fold: %d events under the erased id", len(evs))
	}
	r.drain(t)
	out, err := r.client.Query(t.Context(), &dynamodb.QueryInput{
		TableName:              aws.String(r.table),
		KeyConditionExpression: aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": &types.AttributeValueMemberS{Value: "P#" + id},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Items) != 0 {
		t.Errorf("after the fold: %d items under the erased profile's partition; want none", len(out.Items))
	}
}

// TestDynamoUnmergeKeepsAppendedRecords unmerges a profile whose orders
// were appended and folded: the appended records are re-clustered with
// the others, so no order and no event is lost across the parts.
func TestDynamoUnmergeKeepsAppendedRecords(t *testing.T) {
	r := newRig(t, true)
	email := profile.Identifier{Type: "email", Value: "ada@example.com"}
	r.ingest(t, track("signup", "Signed Up", base, anon("a"), email))
	r.ingest(t, track("login", "Logged In", base.Add(time.Minute), anon("b"), email))
	var orders []profile.Record
	for i := range 3 {
		orders = append(orders, track(fmt.Sprint("order-", i), "Order Completed", base.Add(time.Duration(2+i)*time.Minute), anon("b")))
	}
	if res := r.ingest(t, orders...); res.Appended != 3 {
		t.Fatalf("orders: %+v; want 3 appended", res)
	}
	r.drain(t)
	o, _ := r.st.Owners(t.Context(), []profile.Identifier{email})
	before := r.profile(t, o[email].ProfileID)
	if before.EventCount != 5 || fmt.Sprint(before.Aggregates["orders_count"]) != "3" {
		t.Fatalf("before the unmerge: %d events, orders_count %v; want 5 and 3", before.EventCount, before.Aggregates["orders_count"])
	}
	sp, err := r.plat.Pipeline.Unmerge(t.Context(), before.ID, pipeline.Withdrawal{Record: source + "/login", Reason: "test"})
	if err != nil {
		t.Fatalf("Unmerge = %v", err)
	}
	events, records := 0, 0
	orderCount := 0.0
	for _, part := range sp.Parts {
		p := r.profile(t, part.ProfileID)
		events += p.EventCount
		records += p.RecordCount
		if n, ok := p.Aggregates["orders_count"].(float64); ok {
			orderCount += n
		}
	}
	if events != 5 || records != 5 || orderCount != 3 {
		t.Errorf("after the unmerge into %d parts: %d events, %d records, %v orders; want 5, 5, 3", len(sp.Parts), events, records, orderCount)
	}
	// Each event is listed once, under the part that holds its record
	// (moved records leave no event behind).
	listed, orderEvents := 0, 0
	for _, part := range sp.Parts {
		evs, _, err := r.st.Events(t.Context(), part.ProfileID, 100, "")
		if err != nil {
			t.Fatal(err)
		}
		listed += len(evs)
		for _, e := range evs {
			if e.Name == "Order Completed" {
				orderEvents++
			}
		}
	}
	if listed != 5 || orderEvents != 3 {
		t.Errorf("events listed across the parts: %d, %d orders; want 5, 3", listed, orderEvents)
	}
}

// TestDynamoFoldConcurrentWriters runs 8 writers over overlapping people:
// each person's two devices start profiles of their own (their tracked
// events go to whichever profile their device belongs to at that moment,
// appended or not) until messages carrying the person's email merge them.
// Once the stream is folded, every person is one profile holding every
// record and event exactly once.
func TestDynamoFoldConcurrentWriters(t *testing.T) {
	r := newRig(t, true)
	const people, tracks = 6, 8
	var msgs []profile.Record
	for p := range people {
		a, b := anon(fmt.Sprint("a", p)), anon(fmt.Sprint("b", p))
		email := profile.Identifier{Type: "email", Value: fmt.Sprintf("person%d@example.com", p)}
		msgs = append(msgs,
			track(fmt.Sprint("link-a-", p), "Signed In", base, a, email),
			track(fmt.Sprint("link-b-", p), "Signed In", base.Add(time.Second), b, email))
		for i := range tracks {
			at := base.Add(time.Duration(2+i) * time.Minute)
			msgs = append(msgs,
				track(fmt.Sprintf("a-%d-%d", p, i), "Product Viewed", at, a),
				track(fmt.Sprintf("b-%d-%d", p, i), "Product Viewed", at.Add(time.Second), b))
		}
	}
	rng := rand.New(rand.NewPCG(7, 11))
	rng.Shuffle(len(msgs), func(i, j int) { msgs[i], msgs[j] = msgs[j], msgs[i] })
	var wg sync.WaitGroup
	errs := make(chan error, len(msgs))
	appended := make(chan int, len(msgs))
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(msgs); i += 8 {
				res, err := r.plat.Ingester.Ingest(t.Context(), []profile.Record{msgs[i]})
				if err != nil {
					errs <- err
					return
				}
				appended <- res.Appended
			}
		}()
	}
	wg.Wait()
	close(errs)
	close(appended)
	for err := range errs {
		t.Fatalf("Ingest = %v", err)
	}
	total := 0
	for n := range appended {
		total += n
	}
	if total == 0 {
		t.Fatalf("no message took the append path; the test proves nothing")
	}
	t.Logf("%d of %d messages appended", total, len(msgs))
	r.drain(t)
	want := 2 + 2*tracks
	for p := range people {
		email := profile.Identifier{Type: "email", Value: fmt.Sprintf("person%d@example.com", p)}
		ids := []profile.Identifier{email, anon(fmt.Sprint("a", p)), anon(fmt.Sprint("b", p))}
		o, err := r.st.Owners(t.Context(), ids)
		if err != nil {
			t.Fatal(err)
		}
		live := o[email].ProfileID
		for _, id := range ids {
			if o[id].ProfileID != live {
				t.Errorf("person %d: %s in profile %s, email in %s; want one profile", p, id.Type, o[id].ProfileID, live)
			}
		}
		pr := r.profile(t, live)
		evs, _, err := r.st.Events(t.Context(), live, 100, "")
		if err != nil {
			t.Fatal(err)
		}
		if pr.RecordCount != want || pr.EventCount != want || len(evs) != want {
			t.Errorf("person %d: %d records, %d events, %d listed; want %d each (%d messages appended in all)",
				p, pr.RecordCount, pr.EventCount, len(evs), want, total)
		}
	}
}

// TestDynamoStreamFilters matches the event filters the CDK stack deploys
// (dynamo.FoldFilter, OutboxItemFilter, OutboxEmbeddedFilter) against the
// real stream records of a session — new profiles, appends, a merge,
// folds — with the EventBridge pattern matcher: the fold filter selects
// exactly the records the fold decodes, the outbox filters exactly those
// carrying outbox events.
func TestDynamoStreamFilters(t *testing.T) {
	r := newRig(t, true)
	email := profile.Identifier{Type: "email", Value: "ada@example.com"}
	r.ingest(t, track("x-0", "Page Viewed", base, anon("x")))
	r.ingest(t, track("y-0", "Page Viewed", base.Add(time.Second), anon("y")))
	r.ingest(t, track("x-1", "Product Viewed", base.Add(time.Minute), anon("x")), track("y-1", "Product Viewed", base.Add(time.Minute), anon("y")))
	first := r.drain(t)
	r.ingest(t, track("xy", "Signed Up", base.Add(2*time.Minute), anon("x"), anon("y"), email))
	r.ingest(t, track("y-2", "Order Completed", base.Add(3*time.Minute), anon("y")))
	second := r.drain(t)
	third := r.stream.Next(t) // the second fold's writes
	pattern := func(s string) *pattern.Pattern {
		p, err := pattern.Parse([]byte(s))
		if err != nil {
			t.Fatalf("ParsePattern(%s) = %v", s, err)
		}
		return p
	}
	fold, items, embedded := pattern(dynamo.FoldFilter), pattern(dynamo.OutboxItemFilter), pattern(dynamo.OutboxEmbeddedFilter)
	var seen struct{ fold, outbox, embedded, other int }
	for _, payload := range [][]byte{first, second, third} {
		var ev struct{ Records []json.RawMessage }
		if err := json.Unmarshal(payload, &ev); err != nil {
			t.Fatal(err)
		}
		for _, raw := range ev.Records {
			var rec events.DynamoDBEventRecord
			if err := json.Unmarshal(raw, &rec); err != nil {
				t.Fatal(err)
			}
			strs := outboxstream.StringAttributes(rec.Change.NewImage)
			insert := rec.EventName == string(events.DynamoDBOperationTypeInsert)
			_, isApp, _ := dynamo.AppendedFromImage(strs, rec.Change.SequenceNumber)
			envs, hasOut, _ := dynamo.OutboxEventsFromImage(strs)
			matchFold, err := fold.Match(raw)
			if err != nil {
				t.Fatal(err)
			}
			matchItem, _ := items.Match(raw)
			matchEmbedded, _ := embedded.Match(raw)
			what := fmt.Sprintf("%s %s %s", rec.EventName, strs[dynamo.PartitionKey], strs[dynamo.SortKey])
			if want := isApp && insert; matchFold != want {
				t.Errorf("fold filter on %s = %v; want %v", what, matchFold, want)
			}
			wantOutbox := hasOut && len(envs) > 0 && rec.EventName != string(events.DynamoDBOperationTypeRemove)
			if got := matchItem || matchEmbedded; got != wantOutbox {
				t.Errorf("outbox filters on %s = %v; want %v", what, got, wantOutbox)
			}
			switch {
			case matchFold:
				seen.fold++
			case matchItem:
				seen.outbox++
			case matchEmbedded:
				seen.embedded++
			default:
				seen.other++
			}
		}
	}
	if seen.fold == 0 || seen.outbox == 0 || seen.embedded == 0 || seen.other == 0 {
		t.Errorf("records selected: %+v; want some of each kind (the session proves nothing otherwise)", seen)
	}
}

// TestDynamoFoldDeferredCounters folds with the fold function's counter
// policy (app.FoldCounters): the batches' identity statistics wait in the
// instance until it shuts down, are then counted exactly once, and a
// batch delivered again adds nothing, before or after the flush.
func TestDynamoFoldDeferredCounters(t *testing.T) {
	r := newRig(t, true)
	now := time.Now()
	fst := dynamo.New(r.client, r.table, dynamo.Options{StreamOutbox: true, EventualReads: true,
		Counters: app.FoldCounters(), Now: func() time.Time { return now }})
	fpl, err := app.New(app.Parts{Config: r.plat.Config, Store: fst, Appender: fst})
	if err != nil {
		t.Fatal(err)
	}
	fold := lambda.NewHandler(foldstream.New(fpl.Pipeline, nil).Handle).Invoke
	stats := func(when string, records, inSixToTen int) {
		t.Helper()
		s, err := r.plat.Identity.StreamStats(t.Context(), r.st)
		if err != nil {
			t.Fatal(err)
		}
		six := 0
		for _, b := range s.Histogram {
			if b.Label == "6-10" {
				six = b.Clusters
			}
		}
		if s.Records != records || six != inSixToTen {
			t.Errorf("%s: %d records, %d clusters of 6-10; want %d, %d", when, s.Records, six, records, inSixToTen)
		}
	}
	r.ingest(t, track("m-0", "Page Viewed", base, anon("a1")))
	if _, err := fold(t.Context(), r.stream.Next(t)); err != nil {
		t.Fatal(err)
	}
	var recs []profile.Record
	for i := 1; i <= 5; i++ {
		recs = append(recs, track(fmt.Sprint("m-", i), "Product Viewed", base.Add(time.Duration(i)*time.Minute), anon("a1")))
	}
	if res := r.ingest(t, recs...); res.Appended != 5 {
		t.Fatalf("Ingest = %+v; want 5 appended", res)
	}
	payload := r.stream.Next(t)
	for range 2 { // the batch, then Lambda's retry of it
		if _, err := fold(t.Context(), payload); err != nil {
			t.Fatal(err)
		}
	}
	stats("folded, not flushed", 1, 0)
	flush := foldstream.OnShutdown(fst, nil)
	flush()
	stats("flushed at shutdown", 6, 1)
	if _, err := fold(t.Context(), payload); err != nil {
		t.Fatal(err)
	}
	flush()
	stats("batch delivered again after the flush", 6, 1)
}

// TestOnShutdown checks the shutdown hook: a deadline within Lambda's
// grace period, a failure logged.
func TestOnShutdown(t *testing.T) {
	for _, tc := range []struct {
		name    string
		err     error
		wantLog bool
	}{
		{"flushed", nil, false},
		{"failed", fmt.Errorf("throttled"), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			f := &flusher{err: tc.err}
			foldstream.OnShutdown(f, slog.New(slog.NewTextHandler(&logs, nil)))()
			if f.calls != 1 || f.deadline <= 0 || f.deadline > foldstream.ShutdownTimeout {
				t.Errorf("FlushCounters called %d times, %v before its deadline; want once, within %v", f.calls, f.deadline, foldstream.ShutdownTimeout)
			}
			if got := strings.Contains(logs.String(), "not flushed"); got != tc.wantLog {
				t.Errorf("logged %q; want a failure logged: %v", logs.String(), tc.wantLog)
			}
		})
	}
}

type flusher struct {
	err      error
	calls    int
	deadline time.Duration
}

func (f *flusher) FlushCounters(ctx context.Context) error {
	f.calls++
	if d, ok := ctx.Deadline(); ok {
		f.deadline = time.Until(d)
	}
	return f.err
}
