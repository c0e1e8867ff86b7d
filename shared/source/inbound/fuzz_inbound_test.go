package inbound_test

import (
	"errors"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/model/fault"
	"github.com/aurum-cdp/aurum/shared/source/inbound"
)

// fuzzPresets are the webhook presets and a sample payload of each.
var fuzzPresets = []struct{ preset, sample string }{
	{config.PresetShopifyCustomers, "webhook-shopify-customer.json"},
	{config.PresetShopifyOrders, "webhook-shopify-order.json"},
	{config.PresetStripeCustomers, "webhook-stripe-customer.json"},
	{config.PresetStripeCharges, "webhook-stripe-charge.json"},
}

// fuzzSources builds one source per preset.
func fuzzSources(f *testing.F) []*inbound.Source {
	f.Helper()
	var out []*inbound.Source
	for _, p := range fuzzPresets {
		src, err := newHook(cfgWith(hook("h", p.preset)), "h")
		if err != nil {
			f.Fatalf("New(%s) = %v", p.preset, err)
		}
		out = append(out, src)
	}
	return out
}

func fuzzSample(f *testing.F, name string) []byte {
	f.Helper()
	b, err := os.ReadFile("../../../events/" + name)
	if err != nil {
		f.Fatal(err)
	}
	return b
}

// FuzzVerify: any signature header and body either verify or fail with
// fault.ErrUnauthorized; what Sign produces verifies, and the same
// signature over another body does not.
func FuzzVerify(f *testing.F) {
	srcs := fuzzSources(f)
	for i, p := range fuzzPresets {
		body := fuzzSample(f, p.sample)
		for name, vs := range srcs[i].Sign(secret, now.Unix(), body) {
			f.Add(uint8(i), name, vs[0], body)
		}
		f.Add(uint8(i), "Stripe-Signature", "t=1,v1=00,v1=zz,t=", body)
		f.Add(uint8(i), "X-Shopify-Hmac-Sha256", "====", []byte{})
	}
	f.Fuzz(func(t *testing.T, which uint8, header, value string, body []byte) {
		src := srcs[int(which)%len(srcs)]
		h := http.Header{}
		h.Set(header, value)
		if err := src.Verify(secret, h, body, now); err != nil && !errors.Is(err, fault.ErrUnauthorized) {
			t.Fatalf("Verify(%s: %q) = %v; want nil or fault.ErrUnauthorized", header, value, err)
		}
		signed := src.Sign(secret, now.Unix(), body)
		if err := src.Verify(secret, signed, body, now.Add(time.Second)); err != nil {
			t.Fatalf("Verify(Sign(body)) = %v; want nil", err)
		}
		if err := src.Verify(secret, signed, append(body[:len(body):len(body)], 'x'), now); err == nil {
			t.Fatalf("Verify(Sign(body), body+x) = nil; want fault.ErrUnauthorized")
		}
		if err := src.Verify([]byte("another secret"), signed, body, now); err == nil {
			t.Fatalf("Verify with another secret = nil; want fault.ErrUnauthorized")
		}
	})
}

// FuzzWebhookPayload: parsing any verified body never panics; it fails
// only with fault.ErrInvalid, and every item it returns is a record of
// the source or a rejection with reasons.
func FuzzWebhookPayload(f *testing.F) {
	srcs := fuzzSources(f)
	for i, p := range fuzzPresets {
		f.Add(uint8(i), "d1", fuzzSample(f, p.sample))
	}
	for _, s := range []string{`{}`, `{"id":null}`, `{"id":1e400}`, `{"id":"e","data":{"object":[]}}`, `[1]`, `null`, `{"id":"\ud800"}`} {
		f.Add(uint8(2), "", []byte(s))
	}
	f.Fuzz(func(t *testing.T, which uint8, webhookID string, body []byte) {
		src := srcs[int(which)%len(srcs)]
		h := http.Header{}
		h.Set("X-Shopify-Webhook-Id", webhookID)
		_, items, err := src.Parse(h, body, now)
		if err != nil {
			if !errors.Is(err, fault.ErrInvalid) {
				t.Fatalf("Parse(%q) = %v; want nil or fault.ErrInvalid", body, err)
			}
			return
		}
		for _, it := range items {
			if it.Rejected && len(it.Errors) == 0 {
				t.Errorf("Parse(%q) item %d rejected without a reason", body, it.Index)
			}
			if !it.Rejected && it.Record.Source != src.Name() {
				t.Errorf("Parse(%q) record source = %q; want %q", body, it.Record.Source, src.Name())
			}
		}
	})
}
