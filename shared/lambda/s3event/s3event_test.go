package s3event_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	objs3 "github.com/aurum-cdp/aurum/shared/adapter/s3"
	"github.com/aurum-cdp/aurum/shared/adapter/s3/s3fake"
	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/core/pipeline"
	"github.com/aurum-cdp/aurum/shared/lambda/s3event"
	"github.com/aurum-cdp/aurum/shared/model/fault"
	"github.com/aurum-cdp/aurum/shared/model/profile"
	"github.com/aurum-cdp/aurum/shared/source/file"
)

// fakeLoader records the keys it is asked to load and answers with the
// error configured for each.
type fakeLoader struct {
	keys []string
	errs map[string]error
}

func (f *fakeLoader) Load(ctx context.Context, key string) (file.Report, error) {
	f.keys = append(f.keys, key)
	return file.Report{Key: key}, f.errs[key]
}

func record(name, key string) events.S3EventRecord {
	var r events.S3EventRecord
	r.EventName = name
	r.S3.Bucket.Name = "aurum-drops"
	r.S3.Object.Key = key
	return r
}

func TestHandleKeys(t *testing.T) {
	e := events.S3Event{Records: []events.S3EventRecord{
		record("ObjectCreated:Put", "sources/crm/2024-06-01.csv"),
		record("ObjectCreated:Put", "sources/crm/June+export+%C3%A9t%C3%A9.csv"),
		record("ObjectCreated:CompleteMultipartUpload", "sources/shop/a%2Bb.jsonl"),
		record("ObjectRemoved:Delete", "sources/crm/gone.csv"),
		record("ObjectCreated:Put", "reports/sources/crm/2024-06-01.csv.json"),
		record("ObjectCreated:Put", "rejected/sources/crm/2024-06-01.csv.jsonl"),
		record("ObjectCreated:Put", "sources/crm/"),
		record("ObjectCreated:Put", "sources/crm/bad%zzkey.csv"),
	}}
	l := &fakeLoader{}
	if err := s3event.New(l, nil).Handle(context.Background(), e); err != nil {
		t.Fatalf("Handle error = %v", err)
	}
	want := []string{
		"sources/crm/2024-06-01.csv",
		"sources/crm/June export été.csv",
		"sources/shop/a+b.jsonl",
	}
	if !reflect.DeepEqual(l.keys, want) {
		t.Errorf("loaded keys = %q; want %q", l.keys, want)
	}
}

func TestHandleErrors(t *testing.T) {
	tests := []struct {
		name  string
		err   error
		retry bool
	}{
		{"loaded", nil, false},
		{"bad data", fault.Invalidf("ingest: csv header: column 2 has no name"), false},
		{"object deleted meanwhile", fault.ErrNotFound, false},
		{"storage failure", errors.New("objects/s3: open: connection reset"), true},
		{"timeout", context.DeadlineExceeded, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := "sources/crm/a.csv"
			l := &fakeLoader{errs: map[string]error{key: tt.err}}
			e := events.S3Event{Records: []events.S3EventRecord{
				record("ObjectCreated:Put", key),
				record("ObjectCreated:Put", "sources/crm/b.csv"),
			}}
			err := s3event.New(l, nil).Handle(context.Background(), e)
			if (err != nil) != tt.retry {
				t.Errorf("Handle with loader error %v = %v; want retry %v", tt.err, err, tt.retry)
			}
			if len(l.keys) != 2 {
				t.Errorf("loaded %q; want both records handled", l.keys)
			}
		})
	}
}

// capture is a fake pipeline keeping every record.
type capture struct {
	mu   sync.Mutex
	recs []profile.Record
}

func (c *capture) Ingest(ctx context.Context, recs []profile.Record) (pipeline.Result, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.recs = append(c.recs, recs...)
	return pipeline.Result{Accepted: len(recs), Created: len(recs)}, nil
}

// TestEndToEnd feeds events/s3-put.json through the Lambda decode path to
// a loader reading from, and writing to, a fake S3 through the real SDK.
func TestEndToEnd(t *testing.T) {
	payload, err := os.ReadFile("../../../events/s3-put.json")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	store := objs3.New(s3fake.New(t, "aurum-drops"), "aurum-drops", objs3.Options{})
	key := "sources/crm/2024-06-01.csv"
	csv := "Customer ID,E-mail,Town\nC1,ann@example.com,Leeds\nC2,not-an-email,York\n,,\n"
	if err := store.Put(ctx, key, strings.NewReader(csv), "text/csv"); err != nil {
		t.Fatal(err)
	}
	cfg := &config.Config{
		Version:     1,
		Identifiers: []config.IdentifierType{{Name: "customer_id", Normalizer: "id"}, {Name: "email", Normalizer: "email"}},
		Sources: []config.Source{{
			Name: "crm", Kind: "file", Format: "csv",
			Mapping: config.Mapping{
				Identifiers: []config.IdentifierField{
					{Type: "customer_id", Field: config.Field{Field: "Customer ID"}},
					{Type: "email", Field: config.Field{Field: "E-mail"}},
				},
				Attributes: map[string]config.Field{"city": {Field: "Town"}},
			},
		}},
	}
	pipe := &capture{}
	loader, err := file.NewLoader(cfg.Sources, cfg.Identifiers, store, pipe, file.LoaderOptions{
		Clock: func() time.Time { return time.Date(2024, 6, 1, 9, 0, 0, 0, time.UTC) },
	})
	if err != nil {
		t.Fatal(err)
	}
	invoke := lambda.NewHandler(s3event.New(loader, nil).Handle).Invoke

	if _, err := invoke(ctx, payload); err != nil {
		t.Fatalf("Invoke(events/s3-put.json) error = %v", err)
	}
	if len(pipe.recs) != 2 {
		t.Fatalf("pipeline got %d records; want 2", len(pipe.recs))
	}
	if got := pipe.recs[1].Identifiers; len(got) != 1 || got[0].Type != "customer_id" {
		t.Errorf("record with an invalid e-mail has identifiers %v; want only customer_id", got)
	}

	r, _, err := store.Open(ctx, "reports/"+key+".json")
	if err != nil {
		t.Fatalf("report: %v", err)
	}
	var rep file.Report
	err = json.NewDecoder(r).Decode(&rep)
	r.Close()
	if err != nil {
		t.Fatal(err)
	}
	info, err := store.Stat(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Rows != 3 || rep.Accepted != 2 || rep.Rejected != 1 || rep.FieldsDropped != 1 || rep.ETag != info.ETag || rep.Size != int64(len(csv)) {
		t.Errorf("report = %+v; want 3 rows, 2 accepted, 1 rejected, 1 field dropped, etag %s", rep, info.ETag)
	}
	r, _, err = store.Open(ctx, rep.RejectedKey)
	if err != nil {
		t.Fatalf("rejected file: %v", err)
	}
	var buf bytes.Buffer
	buf.ReadFrom(r)
	r.Close()
	if lines := strings.Split(strings.TrimSpace(buf.String()), "\n"); len(lines) != 2 ||
		!strings.Contains(lines[0], `"line":3`) || !strings.Contains(lines[0], `"accepted":true`) ||
		!strings.Contains(lines[1], `"line":4`) {
		t.Errorf("rejected file = %s; want line 3 (accepted, e-mail dropped) and line 4 (rejected)", buf.String())
	}

	// Re-delivery of the same event changes nothing.
	if _, err := invoke(ctx, payload); err != nil {
		t.Fatalf("second Invoke error = %v", err)
	}
	if len(pipe.recs) != 2 {
		t.Errorf("pipeline got %d records after re-delivery; want still 2", len(pipe.recs))
	}
	again, err := loader.Load(ctx, key)
	if err != nil || !again.Skipped {
		t.Errorf("Load after re-delivery = %+v, %v; want Skipped", again, err)
	}
}
