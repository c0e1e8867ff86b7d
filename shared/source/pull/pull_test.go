package pull_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aurum-cdp/aurum/shared/adapter/dir"
	"github.com/aurum-cdp/aurum/shared/adapter/dynamo"
	"github.com/aurum-cdp/aurum/shared/adapter/dynamo/dynamotest"
	"github.com/aurum-cdp/aurum/shared/adapter/embedded"
	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/core/mapping"
	"github.com/aurum-cdp/aurum/shared/core/pipeline"
	"github.com/aurum-cdp/aurum/shared/model/fault"
	"github.com/aurum-cdp/aurum/shared/port/store"
	"github.com/aurum-cdp/aurum/shared/source"
	"github.com/aurum-cdp/aurum/shared/source/pull"
)

func TestMain(m *testing.M) { os.Exit(dynamotest.Main(m)) }

const srcName = "crm-db"

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// testConfig is a configuration with one pull source read by the "rows"
// connector in batches of batch rows every 5 minutes.
func testConfig(t *testing.T, batch int) *config.Config {
	t.Helper()
	yaml := fmt.Sprintf(`version: 1
identifiers:
  - {name: email, normalizer: email}
sources:
  - name: %s
    kind: pull
    pull: {connector: rows, schedule: 5m, batch: %d, options: {feed: crm}}
    mapping:
      record_id: id
      identifiers: [{type: email, field: email}]
      attributes:
        first_name: {field: name, type: name}
        birth_date: {field: born, type: date}
identity:
  rules: [{name: email, kind: exact, identifiers: [email]}]
`, srcName, batch)
	cfg, err := config.Parse("test.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// feed is the test's connector: rows from a slice, the checkpoint being
// the index of the next row.
type feed struct {
	mu    sync.Mutex
	rows  []source.Row
	fail  error
	reads []string
}

func (f *feed) Read(_ context.Context, checkpoint string, limit int) (source.Batch, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads = append(f.reads, checkpoint)
	if f.fail != nil {
		return source.Batch{}, f.fail
	}
	i := 0
	if checkpoint != "" {
		var err error
		if i, err = strconv.Atoi(checkpoint); err != nil {
			return source.Batch{}, err
		}
	}
	j := min(i+limit, len(f.rows))
	rows := make([]source.Row, 0, j-i)
	for _, r := range f.rows[i:j] {
		cp := source.Row{}
		for k, v := range r {
			cp[k] = v
		}
		rows = append(rows, cp)
	}
	return source.Batch{Rows: rows, Checkpoint: strconv.Itoa(j), More: j < len(f.rows)}, nil
}

func (f *feed) add(rows ...source.Row) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rows = append(f.rows, rows...)
}

func (f *feed) takeReads() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.reads
	f.reads = nil
	return r
}

func row(id, email, name string) source.Row {
	return source.Row{"id": id, "email": email, "name": name}
}

// env is one store with a runner over it.
type env struct {
	st     store.Store
	runner *pull.Runner
	rejDir string
}

// newEmbedded opens a fresh embedded store.
func newEmbedded(t *testing.T) store.Store {
	t.Helper()
	st, err := embedded.Open(filepath.Join(t.TempDir(), "aurum.db"), embedded.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// newDynamo creates a fresh table in DynamoDB Local (skips without it).
func newDynamo(t *testing.T) store.Store {
	t.Helper()
	c := dynamotest.Client(t)
	return dynamo.New(c, dynamotest.NewTable(t, c), dynamo.Options{})
}

// newEnv builds the runner of the test source over st (state) and ingest
// (the pipeline's store, st when nil), registering the rows connector in a
// registry of the test's own.
func newEnv(t *testing.T, st, ingest store.Store, f *feed, batch int, o pull.Options) *env {
	t.Helper()
	if ingest == nil {
		ingest = st
	}
	cfg := testConfig(t, batch)
	reg := source.NewRegistry()
	reg.MustRegister("rows", func(p config.Pull, _ source.Secrets) (source.Source, error) {
		var opts struct {
			Feed string `json:"feed"`
		}
		if err := source.DecodeOptions(p.Options, &opts); err != nil {
			return nil, err
		}
		if opts.Feed != "crm" {
			return nil, fault.Invalidf("unknown feed %q", opts.Feed)
		}
		return f, nil
	})
	src, _ := cfg.Source(srcName)
	conn, err := reg.New(src, nil)
	if err != nil {
		t.Fatal(err)
	}
	m, err := mapping.New(src, cfg.Identifiers)
	if err != nil {
		t.Fatal(err)
	}
	rejDir := t.TempDir()
	objs, err := dir.New(rejDir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { objs.Close() })
	pl := pipeline.New(pipeline.ConfigOf(cfg), ingest, pipeline.Options{Clock: func() time.Time { return t0 }})
	r, err := pull.New(srcName, *src.Pull, conn, m, pull.Deps{State: st, Ingester: pl, Rejects: objs}, o)
	if err != nil {
		t.Fatal(err)
	}
	return &env{st: st, runner: r, rejDir: rejDir}
}

func state(t *testing.T, st store.Store) pull.State {
	t.Helper()
	s, _, err := pull.LoadState(context.Background(), st, srcName)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// counts are what a store holds of the source's records: how many of the
// ids exist and how many live profiles they belong to.
type counts struct{ Records, Profiles int }

func storeCounts(t *testing.T, st store.Store, ids ...string) counts {
	t.Helper()
	ctx := context.Background()
	var c counts
	live := map[string]bool{}
	for _, id := range ids {
		_, pid, err := st.Record(ctx, srcName, id)
		if errors.Is(err, fault.ErrNotFound) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		c.Records++
		l, err := st.Resolve(ctx, pid)
		if err != nil {
			t.Fatal(err)
		}
		live[l] = true
	}
	c.Profiles = len(live)
	return c
}

func checkRun(t *testing.T, what string, got pull.Result, want pull.Counts, ran bool) {
	t.Helper()
	if got.Err != nil {
		t.Fatalf("%s: Err = %v; want nil", what, got.Err)
	}
	if got.Ran != ran {
		t.Errorf("%s: Ran = %v; want %v", what, got.Ran, ran)
	}
	if got.Counts != want {
		t.Errorf("%s: counts = %+v; want %+v", what, got.Counts, want)
	}
}

func TestIncrementalRuns(t *testing.T) {
	ctx := context.Background()
	f := &feed{rows: []source.Row{row("1", "ann@example.com", "Ann"), row("2", "bob@example.com", "Bob"), row("3", "ANN@example.com", "Annie")}}
	e := newEnv(t, newEmbedded(t), nil, f, 2, pull.Options{})

	res := e.runner.Tick(ctx, t0)
	checkRun(t, "first run", res, pull.Counts{Batches: 2, Rows: 3, Accepted: 3, Created: 2}, true)
	if got, want := strings.Join(f.takeReads(), ","), ",2"; got != want {
		t.Errorf("first run read after checkpoints %q; want %q", got, want)
	}
	if res.Checkpoint != "3" || res.More {
		t.Errorf("first run: checkpoint %q, more %v; want 3, false", res.Checkpoint, res.More)
	}

	f.add(row("4", "cy@example.com", "Cy"), row("5", "bob@example.com", "Bobby"))
	checkRun(t, "tick before the schedule", e.runner.Tick(ctx, t0.Add(4*time.Minute)), pull.Counts{}, false)
	if r := f.takeReads(); len(r) != 0 {
		t.Errorf("tick before the schedule read %v; want no read", r)
	}
	res = e.runner.Tick(ctx, t0.Add(5*time.Minute))
	checkRun(t, "second run", res, pull.Counts{Batches: 1, Rows: 2, Accepted: 2, Created: 1}, true)
	if got, want := strings.Join(f.takeReads(), ","), "3"; got != want {
		t.Errorf("second run read after checkpoints %q; want %q", got, want)
	}

	// A row changed at the source comes back after the checkpoint: the
	// same record is updated, not skipped as a duplicate.
	f.add(row("1", "ann@example.com", "Anna"))
	res = e.runner.Tick(ctx, t0.Add(10*time.Minute))
	checkRun(t, "changed row", res, pull.Counts{Batches: 1, Rows: 1, Accepted: 1}, true)
	rec, _, err := e.st.Record(ctx, srcName, "1")
	if err != nil {
		t.Fatal(err)
	}
	if got := rec.Attributes["first_name"]; got != "Anna" {
		t.Errorf("record 1 first_name = %v; want Anna", got)
	}
	if got, want := storeCounts(t, e.st, "1", "2", "3", "4", "5"), (counts{Records: 5, Profiles: 3}); got != want {
		t.Errorf("store holds %+v; want %+v", got, want)
	}
	s := state(t, e.st)
	want := pull.Counts{Batches: 4, Rows: 6, Accepted: 6, Created: 3}
	if s.Checkpoint != "6" || s.Totals != want || !s.LastOK.Equal(t0.Add(10*time.Minute)) || !s.Lease.IsZero() {
		t.Errorf("state = %+v; want checkpoint 6, totals %+v, last_ok t0+10m, no lease", s, want)
	}
}

func TestDrainIsBounded(t *testing.T) {
	ctx := context.Background()
	f := &feed{}
	for i := range 5 {
		f.add(row(strconv.Itoa(i), fmt.Sprintf("p%d@example.com", i), "P"))
	}
	e := newEnv(t, newEmbedded(t), nil, f, 1, pull.Options{MaxBatches: 2})
	steps := []struct {
		name    string
		at      time.Duration
		ran     bool
		batches int
		more    bool
	}{
		{"first run stops at max_batches", 0, true, 2, true},
		{"rows waiting: due at once", time.Second, true, 2, true},
		{"last row", 2 * time.Second, true, 1, false},
		{"drained: waits for the schedule", 3 * time.Second, false, 0, false},
	}
	for _, st := range steps {
		res := e.runner.Tick(ctx, t0.Add(st.at))
		if res.Err != nil || res.Ran != st.ran || res.Batches != st.batches || res.More != st.more {
			t.Errorf("%s: ran %v, %d batches, more %v, err %v; want ran %v, %d batches, more %v",
				st.name, res.Ran, res.Batches, res.More, res.Err, st.ran, st.batches, st.more)
		}
	}
	if got := storeCounts(t, e.st, "0", "1", "2", "3", "4"); got.Records != 5 {
		t.Errorf("store holds %d records; want 5", got.Records)
	}
}

// crashingStore fails every write of the pull state after the first
// allowed ones, as if the process died: the writes that would record the
// checkpoint or the failure never land.
type crashingStore struct {
	store.Store
	mu      sync.Mutex
	allowed int
}

var errCrash = errors.New("process died")

func (c *crashingStore) Commit(ctx context.Context, changes ...store.Change) error {
	for _, ch := range changes {
		for _, w := range ch.Items {
			if w.Item.Kind != pull.KindState {
				continue
			}
			c.mu.Lock()
			ok := c.allowed > 0
			c.allowed--
			c.mu.Unlock()
			if !ok {
				return errCrash
			}
		}
	}
	return c.Store.Commit(ctx, changes...)
}

func TestCrashBetweenIngestAndCheckpoint(t *testing.T) {
	stores := []struct {
		name string
		open func(*testing.T) store.Store
	}{
		{"embedded", newEmbedded},
		{"dynamodb", newDynamo},
	}
	rows := []source.Row{
		row("1", "ann@example.com", "Ann"), row("2", "bob@example.com", "Bob"),
		row("3", "ann@example.com", "Annie"), row("4", "cy@example.com", "Cy"), row("5", "bad", "NoEmail"),
	}
	ids := []string{"1", "2", "3", "4", "5"}
	for _, sc := range stores {
		t.Run(sc.name, func(t *testing.T) {
			ctx := context.Background()
			clean := newEnv(t, sc.open(t), nil, &feed{rows: rows}, 2, pull.Options{})
			want := clean.runner.Tick(ctx, t0)
			if want.Err != nil || want.Accepted != 4 || want.Rejected != 1 {
				t.Fatalf("clean run = %+v, %v; want 4 accepted, 1 rejected", want.Counts, want.Err)
			}

			st := sc.open(t)
			crash := &crashingStore{Store: st, allowed: 1} // the claim lands, nothing after it
			f := &feed{rows: rows}
			crashed := newEnv(t, crash, st, f, 2, pull.Options{})
			res := crashed.runner.Tick(ctx, t0)
			if !errors.Is(res.Err, errCrash) || res.Accepted != 0 {
				t.Fatalf("crashed run: err %v, counts %+v; want %v and no committed batch", res.Err, res.Counts, errCrash)
			}
			if got := storeCounts(t, st, ids...); got.Records != 2 {
				t.Fatalf("after the crash the store holds %d records; want the first batch's 2", got.Records)
			}
			if s := state(t, st); s.Checkpoint != "" || !s.Lease.After(t0) {
				t.Fatalf("after the crash state = %+v; want no checkpoint and the run's lease", s)
			}

			restarted := newEnv(t, st, nil, f, 2, pull.Options{})
			if res := restarted.runner.Tick(ctx, t0.Add(time.Minute)); !res.Busy || res.Ran {
				t.Errorf("tick within the crashed run's lease: busy %v, ran %v; want busy, not run", res.Busy, res.Ran)
			}
			f.takeReads()
			res = restarted.runner.Tick(ctx, t0.Add(pull.DefaultLease+time.Second))
			if res.Err != nil || res.Duplicates != 2 || res.Accepted != 4 {
				t.Errorf("run after the lease: counts %+v, err %v; want the first batch again as 2 duplicates, 4 accepted", res.Counts, res.Err)
			}
			if got := f.takeReads(); len(got) == 0 || got[0] != "" {
				t.Errorf("run after the lease read after %q; want the batch after \"\" again", got)
			}
			if got, want := storeCounts(t, st, ids...), storeCounts(t, clean.st, ids...); got != want || want.Records != 4 || want.Profiles != 3 {
				t.Errorf("store after crash and re-read holds %+v; clean run %+v (want 4 records, 3 profiles)", got, want)
			}
			if got, want := state(t, st).Checkpoint, state(t, clean.st).Checkpoint; got != want {
				t.Errorf("checkpoint after crash and re-read = %q; clean run %q", got, want)
			}
		})
	}
}

func TestFailingConnectorIsRetried(t *testing.T) {
	ctx := context.Background()
	f := &feed{rows: []source.Row{row("1", "ann@example.com", "Ann")}, fail: errors.New("connection refused")}
	e := newEnv(t, newEmbedded(t), nil, f, 10, pull.Options{})

	res := e.runner.Tick(ctx, t0)
	if !res.Ran || res.Err == nil || !strings.Contains(res.Err.Error(), "connection refused") {
		t.Fatalf("failing run: ran %v, err %v; want ran with the connector's error", res.Ran, res.Err)
	}
	s := state(t, e.st)
	if s.Failures != 1 || !strings.Contains(s.Error, "connection refused") || s.Checkpoint != "" || !s.Lease.IsZero() {
		t.Errorf("state after the failure = %+v; want 1 failure with its error, no checkpoint, no lease", s)
	}
	if res := e.runner.Tick(ctx, t0.Add(30*time.Second)); res.Ran {
		t.Errorf("tick 30s after the failure ran; want it to wait RetryAfter (%v)", pull.DefaultRetryAfter)
	}
	f.mu.Lock()
	f.fail = nil
	f.mu.Unlock()
	res = e.runner.Tick(ctx, t0.Add(time.Minute))
	checkRun(t, "next tick", res, pull.Counts{Batches: 1, Rows: 1, Accepted: 1, Created: 1}, true)
	if s := state(t, e.st); s.Failures != 0 || s.Error != "" || s.Checkpoint != "1" {
		t.Errorf("state after the retry = %+v; want no failure, checkpoint 1", s)
	}
}

func TestRejectedRows(t *testing.T) {
	ctx := context.Background()
	f := &feed{rows: []source.Row{
		row("1", "ann@example.com", "Ann"),
		row("2", "not an email", "Bob"),
		{"email": "cy@example.com", "name": "Cy"},
		{"id": "4", "email": "dee@example.com", "name": "Dee", "born": "yesterday"},
	}}
	e := newEnv(t, newEmbedded(t), nil, f, 10, pull.Options{})
	res := e.runner.Tick(ctx, t0)
	checkRun(t, "run", res, pull.Counts{Batches: 1, Rows: 4, Accepted: 2, Rejected: 2, FieldsDropped: 1, Created: 2}, true)

	file, err := os.Open(filepath.Join(e.rejDir, filepath.FromSlash(pull.RejectedKey(srcName, ""))))
	if err != nil {
		t.Fatalf("rejected file: %v", err)
	}
	defer file.Close()
	type line struct {
		index    int
		accepted bool
		field    string
		reason   string
	}
	want := []line{
		{1, false, mapping.FieldIdentifiers, mapping.ReasonNoIdentifier},
		{2, false, pull.FieldRecordID, mapping.ReasonRequired},
		{3, true, "born", ""},
	}
	var got []line
	sc := bufio.NewScanner(file)
	for sc.Scan() {
		var rj pull.Reject
		if err := json.Unmarshal(sc.Bytes(), &rj); err != nil {
			t.Fatal(err)
		}
		last := rj.Errors[len(rj.Errors)-1]
		l := line{rj.Index, rj.Accepted, last.Field, last.Reason}
		if l.field == "born" {
			l.reason = ""
		}
		got = append(got, l)
		if rj.Row["name"] == nil {
			t.Errorf("reject %d lacks the row", rj.Index)
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("rejected lines = %v; want %v", got, want)
	}
}

// badConnector returns a fixed batch.
type badConnector source.Batch

func (b badConnector) Read(context.Context, string, int) (source.Batch, error) {
	return source.Batch(b), nil
}

func TestConnectorContract(t *testing.T) {
	cfg := testConfig(t, 2)
	src, _ := cfg.Source(srcName)
	m, err := mapping.New(src, cfg.Identifiers)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		batch source.Batch
		want  string
	}{
		{"more without advancing", source.Batch{More: true}, "did not advance"},
		{"too many rows", source.Batch{Rows: make([]source.Row, 3), Checkpoint: "3"}, "returned 3 rows"},
		{"checkpoint too large", source.Batch{Checkpoint: strings.Repeat("x", source.MaxCheckpoint+1)}, "checkpoint of"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := newEmbedded(t)
			r, err := pull.New(srcName, *src.Pull, badConnector(tt.batch), m,
				pull.Deps{State: st, Ingester: pipeline.New(pipeline.ConfigOf(cfg), st, pipeline.Options{})}, pull.Options{})
			if err != nil {
				t.Fatal(err)
			}
			res := r.Run(context.Background(), t0)
			if res.Err == nil || !strings.Contains(res.Err.Error(), tt.want) {
				t.Errorf("Run() error = %v; want one containing %q", res.Err, tt.want)
			}
			if s := state(t, st); s.Checkpoint != "" || s.Failures != 1 {
				t.Errorf("state = %+v; want no checkpoint and 1 failure", s)
			}
		})
	}
}

func TestSetTick(t *testing.T) {
	ctx := context.Background()
	f := &feed{rows: []source.Row{row("1", "ann@example.com", "Ann")}}
	e := newEnv(t, newEmbedded(t), nil, f, 10, pull.Options{})
	set := pull.NewSet(nil, e.runner)
	if got := set.Tick(ctx, t0); len(got) != 1 || !got[0].Ran || got[0].Accepted != 1 {
		t.Errorf("Tick(t0) = %+v; want one run with 1 accepted", got)
	}
	past, cancel := context.WithDeadline(ctx, time.Now().Add(time.Second))
	defer cancel()
	if got := set.Tick(past, t0.Add(time.Hour)); len(got) != 0 {
		t.Errorf("Tick with 1s left = %+v; want no run (Reserve %v)", got, pull.DefaultReserve)
	}
	if err := set.Close(); err != nil {
		t.Errorf("Close() = %v", err)
	}
}

// cancelling stops the process (cancels the run's context) during Read.
type cancelling struct{ cancel context.CancelFunc }

func (c cancelling) Read(ctx context.Context, _ string, _ int) (source.Batch, error) {
	c.cancel()
	return source.Batch{}, ctx.Err()
}

func TestShutdownReleasesTheSource(t *testing.T) {
	cfg := testConfig(t, 2)
	src, _ := cfg.Source(srcName)
	m, err := mapping.New(src, cfg.Identifiers)
	if err != nil {
		t.Fatal(err)
	}
	st := newEmbedded(t)
	ctx, cancel := context.WithCancel(context.Background())
	r, err := pull.New(srcName, *src.Pull, cancelling{cancel}, m,
		pull.Deps{State: st, Ingester: pipeline.New(pipeline.ConfigOf(cfg), st, pipeline.Options{})}, pull.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res := r.Tick(ctx, t0); !errors.Is(res.Err, context.Canceled) {
		t.Fatalf("Tick() error = %v; want context.Canceled", res.Err)
	}
	if s := state(t, st); !s.Lease.IsZero() || s.Failures != 1 {
		t.Errorf("state after shutdown = %+v; want the lease released and the failure recorded", s)
	}
}
