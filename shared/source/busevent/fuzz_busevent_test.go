package busevent_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/source/busevent"
)

// FuzzEnvelope: any EventBridge envelope is ingested or dropped, never
// an error while the pipeline works (retrying cannot fix bad data); at
// most one record comes out, of a configured bus source, with an id
// (EventBridge always sets the envelope's; without one, the record has
// none either) and the receive time.
func FuzzEnvelope(f *testing.F) {
	cfg, err := config.Parse("aurum.yaml", []byte(yaml))
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range []string{"bus-order-placed.json", "bus-cart-partner.json", "bus-profile-updated.json", "scheduled-tick.json"} {
		b := loadSample(f, name)
		f.Add(b)
		f.Add([]byte(strings.Replace(string(b), `"detail": {`, `"detail": [{`, 1)))
	}
	for _, s := range []string{`{"source":"com.shop","detail-type":"Order Placed","detail":null}`, `{"source":"com.shop","detail-type":"Order Placed","detail":"x"}`,
		`{"source":"com.shop","detail-type":"Order Placed","time":"0001-01-01T00:00:00Z","detail":{"customer":{"email":"a@b.co"},"total":"1e400"}}`,
		`{"source":"aws.partner/shopify.com/123456/aurum-events","detail":{"email":["a@b.co"]}}`} {
		f.Add([]byte(s))
	}
	now := time.Date(2026, 3, 1, 10, 16, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, payload []byte) {
		ing := &ingester{}
		h, err := busevent.New(cfg.Sources, cfg.Identifiers, ing, nil, func() time.Time { return now })
		if err != nil {
			t.Fatal(err)
		}
		var e events.CloudWatchEvent
		decodes := json.Unmarshal(payload, &e) == nil
		_, err = lambda.NewHandler(h.Handle).Invoke(context.Background(), payload)
		if decodes && err != nil {
			t.Fatalf("Invoke(%q) = %v; want nil (bad events are dropped, not retried)", payload, err)
		}
		if len(ing.recs) > 1 {
			t.Fatalf("Invoke(%q) ingested %d records; want at most 1", payload, len(ing.recs))
		}
		for _, r := range ing.recs {
			if r.Source != "shop-orders" && r.Source != "shopify" || r.ID == "" && e.ID != "" || !r.ReceivedAt.Equal(now) || !strings.HasPrefix(r.Location, "bus:") {
				t.Errorf("record %s/%s received %v at %q; want a configured source, an id, received now, a bus: location", r.Source, r.ID, r.ReceivedAt, r.Location)
			}
		}
	})
}

func loadSample(f *testing.F, name string) []byte {
	f.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "events", name))
	if err != nil {
		f.Fatal(err)
	}
	return b
}
