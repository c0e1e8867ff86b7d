package file_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aurum-cdp/aurum/shared/adapter/dir"
	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/core/pipeline"
	"github.com/aurum-cdp/aurum/shared/model/fault"
	"github.com/aurum-cdp/aurum/shared/model/profile"
	"github.com/aurum-cdp/aurum/shared/port/objects"
	"github.com/aurum-cdp/aurum/shared/source/file"
)

// testConfig has a CSV source, a JSON Lines source and an API source.
func testConfig() *config.Config {
	return &config.Config{
		Version: 1,
		Identifiers: []config.IdentifierType{
			{Name: "customer_id", Normalizer: "id"},
			{Name: "email", Normalizer: "email"},
		},
		Sources: []config.Source{
			{
				Name: "crm", Kind: "file", Format: "csv", DateFormats: []string{"dmy", "iso"},
				Mapping: config.Mapping{
					Identifiers: []config.IdentifierField{
						{Type: "customer_id", Field: config.Field{Field: "id"}},
						{Type: "email", Field: config.Field{Field: "email"}},
					},
					Attributes: map[string]config.Field{
						"city":       {Field: "city"},
						"birth_date": {Field: "born", Type: "date"},
					},
				},
			},
			{
				Name: "shop", Kind: "file", Format: "jsonl", DateFormats: []string{"iso"},
				Mapping: config.Mapping{
					RecordID:    &config.Field{Field: "order_id", Required: true},
					ObservedAt:  &config.Field{Field: "created_at", Type: "timestamp"},
					Identifiers: []config.IdentifierField{{Type: "email", Field: config.Field{Field: "customer.email"}}},
					Event:       &config.EventMapping{Name: config.Field{Const: "Order Completed"}},
				},
			},
			{Name: "web", Kind: "api"},
		},
	}
}

// capture is a fake pipeline: it keeps every record and counts a record
// key it saw before as a duplicate, as the real pipeline does.
type capture struct {
	mu      sync.Mutex
	recs    []profile.Record
	batches []int
	seen    map[string]bool
	err     error
}

func (c *capture) Ingest(ctx context.Context, recs []profile.Record) (pipeline.Result, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return pipeline.Result{}, c.err
	}
	if c.seen == nil {
		c.seen = map[string]bool{}
	}
	var res pipeline.Result
	c.batches = append(c.batches, len(recs))
	for _, r := range recs {
		c.recs = append(c.recs, r)
		if c.seen[r.Key()] {
			res.Duplicates++
			continue
		}
		c.seen[r.Key()] = true
		res.Accepted++
		res.Created++
	}
	return res, nil
}

var (
	received = time.Date(2024, 6, 1, 9, 0, 0, 0, time.UTC)
	modified = time.Date(2024, 6, 1, 6, 0, 0, 0, time.UTC)
)

// stepClock starts at received and moves one second per call.
func stepClock() func() time.Time {
	var mu sync.Mutex
	t := received.Add(-time.Second)
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t = t.Add(time.Second)
		return t
	}
}

type env struct {
	store *dir.Store
	pipe  *capture
	opts  file.LoaderOptions
	logs  *bytes.Buffer
}

func newEnv(t *testing.T) *env {
	t.Helper()
	s, err := dir.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	logs := &bytes.Buffer{}
	return &env{
		store: s,
		pipe:  &capture{},
		logs:  logs,
		opts: file.LoaderOptions{
			Clock:  stepClock(),
			Logger: slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		},
	}
}

// newLoader builds a loader of testConfig's sources.
func newLoader(store objects.Store, pipe file.Ingester, opts file.LoaderOptions) (*file.Loader, error) {
	c := testConfig()
	return file.NewLoader(c.Sources, c.Identifiers, store, pipe, opts)
}

func (e *env) loader(t *testing.T) *file.Loader {
	t.Helper()
	l, err := newLoader(e.store, e.pipe, e.opts)
	if err != nil {
		t.Fatalf("NewLoader: %v", err)
	}
	return l
}

// put stores content at key with the modification time modified.
func (e *env) put(t *testing.T, key, content string) {
	t.Helper()
	if err := e.store.Put(context.Background(), key, strings.NewReader(content), ""); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(filepath.Join(e.store.Path(), filepath.FromSlash(key)), modified, modified); err != nil {
		t.Fatal(err)
	}
}

func (e *env) read(t *testing.T, key string) []byte {
	t.Helper()
	r, _, err := e.store.Open(context.Background(), key)
	if err != nil {
		t.Fatalf("Open(%s): %v", key, err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type rejectLine struct {
	Line     int  `json:"line"`
	Accepted bool `json:"accepted"`
	Errors   []struct {
		Field  string `json:"field"`
		Reason string `json:"reason"`
		Fatal  bool   `json:"fatal"`
	} `json:"errors"`
	Row any `json:"row"`
}

func (e *env) rejects(t *testing.T, key string) []rejectLine {
	t.Helper()
	var out []rejectLine
	sc := bufio.NewScanner(bytes.NewReader(e.read(t, file.RejectedKey(key))))
	for sc.Scan() {
		var r rejectLine
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("rejected line %q: %v", sc.Text(), err)
		}
		out = append(out, r)
	}
	return out
}

const crmKey = "sources/crm/2024-06-01.csv"

const crmCSV = "id,email,city,born\n" +
	"C1,ann@example.com,Leeds,01/02/1980\n" + // line 2: good
	",,Paris,\n" + // line 3: no identifier: rejected
	"C3,carl@example.com,York,31/31/1990\n" + // line 4: bad date: accepted without it
	"C4,dora@example.com\n" + // line 5: too few fields: rejected
	"C5,\"eve@example.com\",\"New\nYork\",\n" // line 6: good, spans two lines

func TestLoadCSV(t *testing.T) {
	e := newEnv(t)
	e.put(t, crmKey, crmCSV)
	ctx := context.Background()

	rep, err := e.loader(t).Load(ctx, crmKey)
	if err != nil {
		t.Fatalf("Load error = %v", err)
	}
	info, err := e.store.Stat(ctx, crmKey)
	if err != nil {
		t.Fatal(err)
	}
	want := file.Report{
		Source: "crm", Key: crmKey, ETag: info.ETag, Size: int64(len(crmCSV)), Format: "csv",
		Rows: 5, Accepted: 3, Rejected: 2, FieldsDropped: 1, ProfilesCreated: 3,
		StartedAt: received, FinishedAt: received.Add(time.Second), DurationMS: 1000, RowsPerSecond: 5,
		RejectedKey: "rejected/" + crmKey + ".jsonl",
	}
	if !reflect.DeepEqual(rep, want) {
		t.Errorf("Load report =\n%+v\nwant\n%+v", rep, want)
	}
	var stored file.Report
	if err := json.Unmarshal(e.read(t, "reports/"+crmKey+".json"), &stored); err != nil {
		t.Fatalf("stored report: %v", err)
	}
	if !reflect.DeepEqual(stored, want) {
		t.Errorf("stored report =\n%+v\nwant\n%+v", stored, want)
	}

	// Records: ids, locations and times filled by the loader.
	var ids, locs []string
	for _, r := range e.pipe.recs {
		ids = append(ids, r.ID)
		locs = append(locs, r.Location)
		// No observed_at: the pipeline takes ReceivedAt, the object's
		// time, after the content key (which must not depend on it).
		if !r.ReceivedAt.Equal(modified) || !r.ObservedAt.IsZero() {
			t.Errorf("record %s: ReceivedAt, ObservedAt = %v, %v; want %v (object time), zero", r.ID, r.ReceivedAt, r.ObservedAt, modified)
		}
		if r.Source != "crm" {
			t.Errorf("record %s: Source = %q; want crm", r.ID, r.Source)
		}
	}
	wantIDs := []string{crmKey + "#2", crmKey + "#4", crmKey + "#6"}
	wantLocs := []string{crmKey + ":2", crmKey + ":4", crmKey + ":6"}
	if !reflect.DeepEqual(ids, wantIDs) || !reflect.DeepEqual(locs, wantLocs) {
		t.Errorf("record ids, locations = %v, %v; want %v, %v", ids, locs, wantIDs, wantLocs)
	}
	if got := e.pipe.recs[2].Attributes["city"]; got != "New\nYork" {
		t.Errorf("city of the multi-line row = %q; want %q", got, "New\nYork")
	}
	if _, ok := e.pipe.recs[1].Attributes["birth_date"]; ok {
		t.Errorf("record with an invalid birth date kept it: %v", e.pipe.recs[1].Attributes)
	}

	// Rejected file: every bad row and every dropped value.
	rej := e.rejects(t, crmKey)
	if len(rej) != 3 {
		t.Fatalf("rejected lines = %+v; want 3", rej)
	}
	checks := []struct {
		line     int
		accepted bool
		field    string
	}{{3, false, "identifiers"}, {4, true, "born"}, {5, false, ""}}
	for i, c := range checks {
		r := rej[i]
		if r.Line != c.line || r.Accepted != c.accepted || len(r.Errors) == 0 || r.Errors[0].Field != c.field || r.Row == nil {
			t.Errorf("rejected[%d] = %+v; want line %d, accepted %v, first error on field %q, and the row", i, r, c.line, c.accepted, c.field)
		}
	}

	// Logs carry counts and keys, never values.
	for _, pii := range []string{"ann@", "carl@", "Leeds", "1980"} {
		if strings.Contains(e.logs.String(), pii) {
			t.Errorf("logs contain %q:\n%s", pii, e.logs)
		}
	}
	if !strings.Contains(e.logs.String(), `"rows":5`) {
		t.Errorf("logs = %s; want the row count", e.logs)
	}
}

func TestLoadTwiceIsSkipped(t *testing.T) {
	e := newEnv(t)
	e.put(t, crmKey, crmCSV)
	ctx := context.Background()
	l := e.loader(t)
	first, err := l.Load(ctx, crmKey)
	if err != nil {
		t.Fatal(err)
	}
	n := len(e.pipe.recs)
	second, err := l.Load(ctx, crmKey)
	if err != nil {
		t.Fatalf("second Load error = %v", err)
	}
	if !second.Skipped {
		t.Errorf("second Load Skipped = false; want true")
	}
	second.Skipped = false
	if !reflect.DeepEqual(second, first) {
		t.Errorf("second Load report = %+v; want the stored %+v", second, first)
	}
	if len(e.pipe.recs) != n {
		t.Errorf("pipeline got %d more records on the second Load; want none", len(e.pipe.recs)-n)
	}

	// A new version of the object is loaded.
	e.put(t, crmKey, crmCSV+"C7,gil@example.com,Bath,\n")
	third, err := l.Load(ctx, crmKey)
	if err != nil {
		t.Fatal(err)
	}
	if third.Skipped || third.Rows != 6 || third.Duplicates != 3 {
		t.Errorf("Load of a new version = %+v; want loaded, 6 rows, 3 duplicates", third)
	}
}

func TestReloadGivesIdenticalRecords(t *testing.T) {
	// A load that crashed before its report is retried: the records must
	// be the same, so the pipeline sees duplicates, not new facts.
	e := newEnv(t)
	e.opts.Clock = func() time.Time { return received }
	e.put(t, crmKey, crmCSV)
	ctx := context.Background()
	if _, err := e.loader(t).Load(ctx, crmKey); err != nil {
		t.Fatal(err)
	}
	first := e.pipe.recs
	if err := os.Remove(filepath.Join(e.store.Path(), "reports", filepath.FromSlash(crmKey)+".json")); err != nil {
		t.Fatal(err)
	}
	e.pipe = &capture{}
	if _, err := e.loader(t).Load(ctx, crmKey); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(e.pipe.recs, first) {
		t.Errorf("records of the second load differ:\n%+v\nwant\n%+v", e.pipe.recs, first)
	}
}

func TestLoadJSONL(t *testing.T) {
	e := newEnv(t)
	key := "sources/shop/orders.jsonl.gz"
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	io.WriteString(zw, `{"order_id":"O-1","created_at":"2024-05-30T10:00:00Z","customer":{"email":"ann@example.com"}}`+"\n")
	io.WriteString(zw, `{"order_id":"O-2","customer":{"email":"bob@example.com"}}`+"\n")
	io.WriteString(zw, `not json`+"\n")
	io.WriteString(zw, `{"customer":{"email":"carl@example.com"}}`+"\n")
	zw.Close()
	e.put(t, key, b.String())

	rep, err := e.loader(t).Load(context.Background(), key)
	if err != nil {
		t.Fatalf("Load error = %v", err)
	}
	if rep.Rows != 4 || rep.Accepted != 2 || rep.Rejected != 2 || rep.Format != "jsonl" {
		t.Errorf("report = %+v; want 4 rows, 2 accepted, 2 rejected, format jsonl", rep)
	}
	if len(e.pipe.recs) != 2 {
		t.Fatalf("records = %+v; want 2", e.pipe.recs)
	}
	o1, o2 := e.pipe.recs[0], e.pipe.recs[1]
	observed := time.Date(2024, 5, 30, 10, 0, 0, 0, time.UTC)
	if o1.ID != "O-1" || !o1.ObservedAt.Equal(observed) {
		t.Errorf("O-1: ID, ObservedAt = %q, %v; want O-1, %v (mapped)", o1.ID, o1.ObservedAt, observed)
	}
	if o2.ID != "O-2" || !o2.ObservedAt.IsZero() || !o2.ReceivedAt.Equal(modified) {
		t.Errorf("O-2: ID, ObservedAt, ReceivedAt = %q, %v, %v; want O-2, zero (left to the pipeline), %v (object time)", o2.ID, o2.ObservedAt, o2.ReceivedAt, modified)
	}
	if len(o2.Events) != 1 {
		t.Fatalf("O-2 events = %+v; want one", o2.Events)
	}
	ev := o2.Events[0]
	if ev.ID != "O-2" || ev.Source != "shop" || ev.Name != "Order Completed" || !ev.Timestamp.Equal(modified) {
		t.Errorf("O-2 event = %+v; want id O-2, source shop, Order Completed at %v", ev, modified)
	}
	rej := e.rejects(t, key)
	if len(rej) != 2 || rej[0].Line != 3 || rej[0].Row != "not json" || rej[1].Line != 4 || rej[1].Errors[0].Field != "order_id" {
		t.Errorf("rejected = %+v; want line 3 (not JSON, raw text) and line 4 (order_id required)", rej)
	}
}

func TestLoadKeyErrors(t *testing.T) {
	e := newEnv(t)
	e.put(t, "sources/web/x.csv", "a\n1\n")
	e.put(t, "sources/nosuch/x.csv", "a\n1\n")
	e.put(t, "sources/crm/x.xml", "<a/>")
	tests := []struct {
		key  string
		kind error
		want string
	}{
		{"uploads/crm/x.csv", fault.ErrInvalid, "want sources/<source>/<file>"},
		{"sources/crm/", fault.ErrInvalid, "want sources/<source>/<file>"},
		{"sources/nosuch/x.csv", fault.ErrInvalid, "no source nosuch"},
		{"sources/web/x.csv", fault.ErrInvalid, "kind api, not file"},
		{"sources/crm/missing.csv", fault.ErrNotFound, "missing.csv"},
	}
	l := e.loader(t)
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			_, err := l.Load(context.Background(), tt.key)
			if !errors.Is(err, tt.kind) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Load(%q) error = %v; want %v containing %q", tt.key, err, tt.kind, tt.want)
			}
		})
	}
	if len(e.pipe.recs) != 0 {
		t.Errorf("pipeline got %d records; want none", len(e.pipe.recs))
	}
}

func TestLoadBadFileIsReported(t *testing.T) {
	e := newEnv(t)
	key := "sources/crm/dup.csv"
	e.put(t, key, "id,email,id\nC1,ann@example.com,C1\n")
	l := e.loader(t)
	rep, err := l.Load(context.Background(), key)
	if !errors.Is(err, fault.ErrInvalid) {
		t.Fatalf("Load error = %v; want fault.ErrInvalid", err)
	}
	if !strings.Contains(rep.Error, "columns 1 and 3") {
		t.Errorf("report Error = %q; want the header problem", rep.Error)
	}
	var stored file.Report
	if err := json.Unmarshal(e.read(t, file.ReportKey(key)), &stored); err != nil || stored.Error != rep.Error {
		t.Errorf("stored report = %+v, %v; want one with Error %q", stored, err, rep.Error)
	}
	// The same bad file is not read again.
	again, err := l.Load(context.Background(), key)
	if err != nil || !again.Skipped {
		t.Errorf("second Load = %+v, %v; want Skipped", again, err)
	}
}

func TestLoadBatchesAndProgress(t *testing.T) {
	e := newEnv(t)
	var progress []file.Progress
	e.opts.BatchSize = 2
	e.opts.Progress = func(p file.Progress) { progress = append(progress, p) }
	var b strings.Builder
	b.WriteString("id,email,city,born\n")
	for _, id := range []string{"C1", "C2", "C3", "C4", "C5"} {
		b.WriteString(id + "," + strings.ToLower(id) + "@example.com,,\n")
	}
	b.WriteString(",,,\n")
	e.put(t, crmKey, b.String())
	if _, err := e.loader(t).Load(context.Background(), crmKey); err != nil {
		t.Fatal(err)
	}
	if want := []int{2, 2, 1}; !reflect.DeepEqual(e.pipe.batches, want) {
		t.Errorf("batch sizes = %v; want %v", e.pipe.batches, want)
	}
	want := []file.Progress{
		{Key: crmKey, Rows: 2},
		{Key: crmKey, Rows: 4},
		{Key: crmKey, Rows: 6, Rejected: 1, Done: true},
	}
	if !reflect.DeepEqual(progress, want) {
		t.Errorf("progress = %+v; want %+v", progress, want)
	}
}

func TestLoadRetryableFailuresLeaveNoReport(t *testing.T) {
	tests := []struct {
		name  string
		setup func(e *env)
	}{
		{"pipeline fails", func(e *env) { e.pipe.err = errors.New("store throttled") }},
		{"object read fails midway", func(e *env) {}},
		{"object read fails at once", func(e *env) {}},
		{"gzip object read fails midway", func(e *env) {}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.put(t, crmKey, crmCSV)
			tt.setup(e)
			var store objects.Store = e.store
			switch tt.name {
			case "object read fails midway":
				store = failingStore{e.store, 40}
			case "object read fails at once":
				store = failingStore{e.store, 0}
			case "gzip object read fails midway":
				var b bytes.Buffer
				zw := gzip.NewWriter(&b)
				io.WriteString(zw, crmCSV)
				zw.Close()
				e.put(t, crmKey, b.String())
				store = failingStore{e.store, int64(b.Len() / 2)}
			}
			l, err := newLoader(store, e.pipe, e.opts)
			if err != nil {
				t.Fatal(err)
			}
			_, err = l.Load(context.Background(), crmKey)
			if err == nil || errors.Is(err, fault.ErrInvalid) || errors.Is(err, fault.ErrNotFound) {
				t.Fatalf("Load error = %v; want a retryable error (neither invalid nor not found)", err)
			}
			if _, err := e.store.Stat(context.Background(), file.ReportKey(crmKey)); !errors.Is(err, fault.ErrNotFound) {
				t.Errorf("report after a failed load: Stat error = %v; want fault.ErrNotFound", err)
			}
		})
	}
}

// failingStore's objects under sources/ fail after n bytes.
type failingStore struct {
	*dir.Store
	n int64
}

func (f failingStore) Open(ctx context.Context, key string) (io.ReadCloser, objects.Info, error) {
	r, info, err := f.Store.Open(ctx, key)
	if err != nil || !strings.HasPrefix(key, "sources/") {
		return r, info, err
	}
	return struct {
		io.Reader
		io.Closer
	}{io.MultiReader(io.LimitReader(r, f.n), errReader{}), r}, info, nil
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("connection reset") }
