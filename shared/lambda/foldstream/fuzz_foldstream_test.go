package foldstream_test

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/aurum-cdp/aurum/shared/core/pipeline"
	"github.com/aurum-cdp/aurum/shared/lambda/foldstream"
	"github.com/aurum-cdp/aurum/shared/port/store"
)

// appendRecorder is a Folder that keeps what it was given.
type appendRecorder struct{ got []store.Appended }

func (r *appendRecorder) Fold(_ context.Context, apps []store.Appended) (pipeline.FoldResult, error) {
	r.got = append(r.got, apps...)
	return pipeline.FoldResult{Folded: len(apps)}, nil
}

func foldSample(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("../../../events/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestFoldStreamSample: the sample stream batch of sam local invoke
// (events/dynamodb-fold-stream.json) decodes into its appended events.
func TestFoldStreamSample(t *testing.T) {
	rec := &appendRecorder{}
	if _, err := lambda.NewHandler(foldstream.New(rec, nil).Handle).Invoke(context.Background(), foldSample(t, "dynamodb-fold-stream.json")); err != nil {
		t.Fatalf("Invoke(dynamodb-fold-stream.json) error = %v; want nil", err)
	}
	want := []string{"200000000000000000000001", "200000000000000000000002"}
	if len(rec.got) != len(want) {
		t.Fatalf("folded %d appended events; want %d", len(rec.got), len(want))
	}
	for i, a := range rec.got {
		if a.Seq != want[i] || a.ProfileID != "p-0b7e9d4c2a1f4e8b" || len(a.Record.Events) != 1 || a.Record.Events[0].Name != "Product Viewed" {
			t.Errorf("appended %d = seq %s profile %s record %+v; want seq %s of p-0b7e9d4c2a1f4e8b, one Product Viewed", i, a.Seq, a.ProfileID, a.Record, want[i])
		}
	}
}

// FuzzFoldStream: any stream batch that decodes as JSON is handled
// without error (an item that does not decode is skipped, never blocks
// the shard), and what reaches the fold is well-formed.
func FuzzFoldStream(f *testing.F) {
	for _, name := range []string{"dynamodb-fold-stream.json", "dynamodb-outbox-stream.json"} {
		b := foldSample(f, name)
		f.Add(b)
		f.Add([]byte(strings.Replace(string(b), `"200000000000000000000001"`, `"1x"`, 1)))
		f.Add([]byte(strings.Replace(string(b), `\"source\":\"web-api\"`, `\"source\":\"\"`, 1)))
	}
	f.Add([]byte(`{"Records":[{"eventName":"INSERT","dynamodb":{"NewImage":{"pk":{"S":"P#p"},"sk":{"S":"E#x"},"app":{"S":"{"}}}}]}`))
	f.Add([]byte(`{"Records":[{"eventName":"INSERT","dynamodb":{"NewImage":{"pk":{"N":"1"},"sk":{"L":[]},"app":{"M":{}}}}}]}`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		var e events.DynamoDBEvent
		decodes := json.Unmarshal(payload, &e) == nil
		rec := &appendRecorder{}
		_, err := lambda.NewHandler(foldstream.New(rec, nil).Handle).Invoke(context.Background(), payload)
		if decodes && err != nil {
			t.Fatalf("Invoke(%q) error = %v; want nil for a batch that decodes", payload, err)
		}
		for _, a := range rec.got {
			if a.Record.Source == "" || a.Record.ID == "" || len(a.Record.Events) != 1 {
				t.Errorf("folded %+v from %q; want a record with source, id and one event", a, payload)
			}
			if strings.Trim(a.Seq, "0123456789") != "" || a.Seq == "" {
				t.Errorf("folded sequence %q; want decimal digits", a.Seq)
			}
		}
	})
}
