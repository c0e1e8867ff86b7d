package outboxstream_test

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/aurum-cdp/aurum/shared/lambda/outboxstream"
)

// FuzzOutboxStream: any stream batch that decodes as JSON is handled
// without error while publishing works (a corrupt item is skipped, never
// blocks the shard); every event published has an id, a detail-type and a
// JSON detail, and no event id is published twice in one batch.
func FuzzOutboxStream(f *testing.F) {
	for _, name := range []string{"dynamodb-outbox-stream.json", "dynamodb-fold-stream.json"} {
		b, err := os.ReadFile("../../../events/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add([]byte(strings.Replace(string(b), `"INSERT"`, `"MODIFY"`, 1)))
		f.Add([]byte(strings.Replace(string(b), `"S": "[`, `"S": "[{},`, 1)))
	}
	f.Add([]byte(`{"Records":[{"eventName":"INSERT","dynamodb":{"NewImage":{"pk":{"S":"O#1"},"sk":{"S":"O#1"},"out":{"S":"[null]"}}}}]}`))
	f.Add([]byte(`{"Records":[{"eventName":"INSERT","dynamodb":{"NewImage":{"pk":{"B":"AA=="},"out":{"NULL":true}}}}]}`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		var e events.DynamoDBEvent
		decodes := json.Unmarshal(payload, &e) == nil
		pub := &publisher{}
		_, err := lambda.NewHandler(outboxstream.New(pub, nil).Handle).Invoke(context.Background(), payload)
		if decodes && err != nil {
			t.Fatalf("Invoke(%q) error = %v; want nil for a batch that decodes", payload, err)
		}
		seen := map[string]bool{}
		for _, env := range pub.got {
			if env.ID == "" || env.DetailType == "" || !json.Valid(env.Detail) {
				t.Errorf("published %+v from %q; want an id, a detail-type and a JSON detail", env, payload)
			}
			if seen[env.ID] {
				t.Errorf("published event %s twice from %q; want each once", env.ID, payload)
			}
			seen[env.ID] = true
		}
	})
}
