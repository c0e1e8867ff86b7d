package busevent_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/core/pipeline"
	"github.com/aurum-cdp/aurum/shared/model/profile"
	"github.com/aurum-cdp/aurum/shared/source/busevent"
)

const yaml = `version: 1
identifiers:
  - name: email
    normalizer: email
sources:
  - name: shop-orders
    kind: bus
    bus: {source: com.shop, detail_types: [Order Placed]}
    mapping:
      identifiers:
        - {type: email, field: customer.email, required: true}
      attributes:
        first_name: {field: customer.first_name, type: name}
      event:
        name: {const: Order Completed}
        id: order_id
        timestamp: {field: $event.time, type: timestamp}
        properties:
          total: {field: total, type: number}
          via: $event.source
  - name: shopify
    kind: bus
    bus: {source: aws.partner/shopify.com/123456/aurum-events}
    mapping:
      identifiers:
        - {type: email, field: email}
      event:
        name: {field: $event.detail-type}
`

// ingester records what it is given.
type ingester struct {
	recs []profile.Record
	err  error
}

func (i *ingester) Ingest(_ context.Context, recs []profile.Record) (pipeline.Result, error) {
	if i.err != nil {
		return pipeline.Result{}, i.err
	}
	i.recs = append(i.recs, recs...)
	return pipeline.Result{Accepted: len(recs)}, nil
}

func load(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "events", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestHandle(t *testing.T) {
	cfg, err := config.Parse("aurum.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 1, 10, 16, 0, 0, time.UTC)
	tests := []struct {
		name    string
		payload []byte
		check   func(t *testing.T, recs []profile.Record)
	}{
		{"order from an application", load(t, "bus-order-placed.json"), func(t *testing.T, recs []profile.Record) {
			if len(recs) != 1 {
				t.Fatalf("records = %d; want 1", len(recs))
			}
			r := recs[0]
			if r.Source != "shop-orders" || r.ID != "0f9e8d7c-6b5a-4f3e-9d2c-1b0a9f8e7d6c" {
				t.Errorf("record %s/%s; want shop-orders and the event id", r.Source, r.ID)
			}
			if len(r.Identifiers) != 1 || r.Identifiers[0] != (profile.Identifier{Type: "email", Value: "ann.lee@example.com"}) {
				t.Errorf("identifiers = %v; want the normalized email", r.Identifiers)
			}
			if r.Attributes["first_name"] != "Ann" {
				t.Errorf("first_name = %v; want Ann", r.Attributes["first_name"])
			}
			wantAt := time.Date(2026, 3, 1, 10, 15, 0, 0, time.UTC)
			if len(r.Events) != 1 || r.Events[0].Name != "Order Completed" || r.Events[0].ID != "ORD-1001" || !r.Events[0].Timestamp.Equal(wantAt) {
				t.Fatalf("events = %+v; want Order Completed ORD-1001 at %v", r.Events, wantAt)
			}
			if p := r.Events[0].Properties; p["total"] != 129.5 || p["via"] != "com.shop" {
				t.Errorf("properties = %v; want total 129.5 and via com.shop", p)
			}
			if !r.ObservedAt.Equal(wantAt) || !r.ReceivedAt.Equal(now) || r.Location != "bus:com.shop/Order Placed" {
				t.Errorf("observed %v, received %v, location %q", r.ObservedAt, r.ReceivedAt, r.Location)
			}
		}},
		{"partner event source, any detail-type", load(t, "bus-cart-partner.json"), func(t *testing.T, recs []profile.Record) {
			if len(recs) != 1 || recs[0].Source != "shopify" || len(recs[0].Events) != 1 || recs[0].Events[0].Name != "Cart Updated" {
				t.Errorf("records = %+v; want one shopify record with a Cart Updated event", recs)
			}
		}},
		{"unclaimed detail-type is dropped", []byte(`{"id":"x","source":"com.shop","detail-type":"Refund","time":"2026-03-01T10:00:00Z","detail":{}}`),
			func(t *testing.T, recs []profile.Record) {
				if len(recs) != 0 {
					t.Errorf("records = %d; want 0", len(recs))
				}
			}},
		{"missing required identifier is dropped", []byte(`{"id":"x","source":"com.shop","detail-type":"Order Placed","time":"2026-03-01T10:00:00Z","detail":{"order_id":"1"}}`),
			func(t *testing.T, recs []profile.Record) {
				if len(recs) != 0 {
					t.Errorf("records = %d; want 0", len(recs))
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ing := &ingester{}
			h, err := busevent.New(cfg.Sources, cfg.Identifiers, ing, nil, func() time.Time { return now })
			if err != nil {
				t.Fatal(err)
			}
			if _, err := lambda.NewHandler(h.Handle).Invoke(context.Background(), tt.payload); err != nil {
				t.Fatalf("Invoke: %v", err)
			}
			tt.check(t, ing.recs)
		})
	}
}

func TestHandleRetriesPipelineFailures(t *testing.T) {
	cfg, err := config.Parse("aurum.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("store unavailable")
	h, err := busevent.New(cfg.Sources, cfg.Identifiers, &ingester{err: boom}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lambda.NewHandler(h.Handle).Invoke(context.Background(), load(t, "bus-order-placed.json")); err == nil {
		t.Error("Invoke with a failing pipeline = nil; want an error so the event is delivered again")
	}
}
