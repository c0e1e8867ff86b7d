package s3event_test

import (
	"context"
	"encoding/json"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/aurum-cdp/aurum/shared/lambda/s3event"
	"github.com/aurum-cdp/aurum/shared/source/file"
)

// FuzzS3Key: any event name and (URL-encoded) object key is handled
// without panic or error; only ObjectCreated keys under sources/ that
// name an object are loaded, decoded once; and the key loaded, encoded
// again as S3 does, loads the same key (round trip).
func FuzzS3Key(f *testing.F) {
	b, err := os.ReadFile("../../../events/s3-put.json")
	if err != nil {
		f.Fatal(err)
	}
	var sample events.S3Event
	if err := json.Unmarshal(b, &sample); err != nil {
		f.Fatal(err)
	}
	for _, r := range sample.Records {
		f.Add(r.EventName, r.S3.Object.Key)
	}
	for _, k := range []string{"sources/crm/June+export+%C3%A9t%C3%A9.csv", "sources/shop/a%2Bb.jsonl", "sources/crm/", "sources/crm/bad%zzkey.csv",
		"rejected/sources/crm/x.csv.jsonl", "sources%2Fcrm%2Fx.csv", "sources/../reports/x", "%"} {
		f.Add("ObjectCreated:Put", k)
	}
	f.Add("ObjectRemoved:Delete", "sources/crm/gone.csv")
	f.Add("", "sources/crm/x.csv")
	f.Fuzz(func(t *testing.T, name, key string) {
		l := &fakeLoader{}
		if err := s3event.New(l, nil).Handle(context.Background(), events.S3Event{Records: []events.S3EventRecord{record(name, key)}}); err != nil {
			t.Fatalf("Handle(%q, %q) = %v; want nil (the loader succeeded)", name, key, err)
		}
		if len(l.keys) == 0 {
			return
		}
		got := l.keys[0]
		if len(l.keys) != 1 || !strings.HasPrefix(got, file.SourcesPrefix) || strings.HasSuffix(got, "/") {
			t.Fatalf("Handle(%q, %q) loaded %q; want at most one key under %s naming an object", name, key, l.keys, file.SourcesPrefix)
		}
		if name != "" && !strings.HasPrefix(name, "ObjectCreated:") {
			t.Fatalf("Handle(%q, %q) loaded %q; want nothing for a non-creation event", name, key, got)
		}
		again := &fakeLoader{}
		if err := s3event.New(again, nil).Handle(context.Background(), events.S3Event{Records: []events.S3EventRecord{record(name, url.QueryEscape(got))}}); err != nil || len(again.keys) != 1 || again.keys[0] != got {
			t.Errorf("key %q encoded again loads %q (%v); want the same key", got, again.keys, err)
		}
	})
}
