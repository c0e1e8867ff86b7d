package inbound_test

import (
	"errors"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/model/fault"
	"github.com/aurum-cdp/aurum/shared/model/profile"
	"github.com/aurum-cdp/aurum/shared/source/inbound"
)

var now = time.Date(2025, 11, 28, 18, 0, 0, 0, time.UTC)

var secret = []byte("whsec_test_secret")

func cfgWith(sources ...config.Source) *config.Config {
	return &config.Config{
		Version: 1,
		Identifiers: []config.IdentifierType{
			{Name: "email", Normalizer: "email"},
			{Name: "phone", Normalizer: "phone"},
			{Name: "shopify_customer_id", Normalizer: "id"},
			{Name: "stripe_customer_id", Normalizer: "id"},
		},
		Sources: sources,
	}
}

// newHook builds cfg's source named name (a nil source when cfg declares
// none).
func newHook(cfg *config.Config, name string) (*inbound.Source, error) {
	src, _ := cfg.Source(name)
	return inbound.New(src, cfg.Identifiers)
}

func hook(name, preset string) config.Source {
	return config.Source{Name: name, Kind: config.KindWebhook,
		Webhook: &config.WebhookSource{Preset: preset, Secret: &config.SecretRef{Env: "HOOK_SECRET"}}}
}

func sample(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("../../../events/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestPresets(t *testing.T) {
	tests := []struct {
		preset, sample string
		header         map[string]string
		wantID         string
		wantIDs        []string
		wantEvent      string
	}{
		{config.PresetShopifyCustomers, "webhook-shopify-customer.json", map[string]string{"X-Shopify-Webhook-Id": "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043"},
			"b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
			[]string{"shopify_customer_id:706405506930370084", "email:bob.norman@example.com", "phone:+16136120707"}, ""},
		{config.PresetShopifyOrders, "webhook-shopify-order.json", map[string]string{"X-Shopify-Webhook-Id": "d1"},
			"d1", []string{"shopify_customer_id:115310627314723954", "email:jon.doe@example.com", "phone:+16135550142"}, "Order Completed"},
		{config.PresetStripeCustomers, "webhook-stripe-customer.json", nil,
			"evt_1QnB2cLkdIwHu7ix4XyZ9aBc", []string{"stripe_customer_id:cus_RfXyZ1a2B3c4D5", "email:jenny.rosen@example.com", "phone:+14155550123"}, ""},
		{config.PresetStripeCharges, "webhook-stripe-charge.json", nil,
			"evt_3QnB4dLkdIwHu7ix0AbCdEfG", []string{"stripe_customer_id:cus_RfXyZ1a2B3c4D5", "email:jenny.rosen@example.com"}, "charge.succeeded"},
	}
	for _, tt := range tests {
		t.Run(tt.preset, func(t *testing.T) {
			src, err := newHook(cfgWith(hook("h", tt.preset)), "h")
			if err != nil {
				t.Fatalf("New() = %v", err)
			}
			body := sample(t, tt.sample)
			h := src.Sign(secret, now.Unix(), body)
			for k, v := range tt.header {
				h.Set(k, v)
			}
			if err := src.Verify(secret, h, body, now); err != nil {
				t.Errorf("Verify(signed sample) = %v; want nil", err)
			}
			id, items, err := src.Parse(h, body, now)
			if err != nil || len(items) != 1 {
				t.Fatalf("Parse() = %q, %d items, %v; want 1 item", id, len(items), err)
			}
			rec := items[0].Record
			if id != tt.wantID || rec.ID != tt.wantID || items[0].Rejected {
				t.Errorf("Parse() id = %q, record id %q, rejected %v (%v); want %q", id, rec.ID, items[0].Rejected, items[0].Errors, tt.wantID)
			}
			var got []string
			for _, x := range rec.Identifiers {
				got = append(got, x.String())
			}
			for _, w := range tt.wantIDs {
				if !slices.Contains(got, w) {
					t.Errorf("record identifiers = %v; want %s among them", got, w)
				}
			}
			if tt.wantEvent != "" && (len(rec.Events) != 1 || rec.Events[0].Name != tt.wantEvent) {
				t.Errorf("record events = %+v; want one %q", rec.Events, tt.wantEvent)
			}
		})
	}
}

func TestVerifyRejects(t *testing.T) {
	custom := config.Source{Name: "custom", Kind: config.KindWebhook, Webhook: &config.WebhookSource{
		Secret:       &config.SecretRef{Env: "S"},
		Signature:    &config.WebhookSignature{Header: "X-Sig", Prefix: "sha256=", TimestampHeader: "X-Ts", Tolerance: "1m"},
		EventIDField: "event.id",
	}, Mapping: config.Mapping{Identifiers: []config.IdentifierField{{Type: "email", Field: config.Field{Field: "email"}}}}}
	cfg := cfgWith(custom, hook("stripe", config.PresetStripeCharges), hook("shop", config.PresetShopifyCustomers))
	body := []byte(`{"event":{"id":"e1"},"email":"a@example.com"}`)
	for _, name := range []string{"custom", "stripe", "shop"} {
		src, err := newHook(cfg, name)
		if err != nil {
			t.Fatalf("New(%s) = %v", name, err)
		}
		good := src.Sign(secret, now.Unix(), body)
		tests := []struct {
			name   string
			secret []byte
			h      http.Header
			body   []byte
			at     time.Time
		}{
			{"tampered body", secret, good, []byte(strings.Replace(string(body), "a@", "b@", 1)), now},
			{"wrong secret", []byte("other"), good, body, now},
			{"no secret", nil, good, body, now},
			{"no header", secret, http.Header{}, body, now},
			{"garbage header", secret, http.Header{"X-Sig": {"zz"}, "Stripe-Signature": {"t=x"}, "X-Shopify-Hmac-Sha256": {"%%"}}, body, now},
		}
		if name != "shop" { // Shopify signs no timestamp
			tests = append(tests, struct {
				name   string
				secret []byte
				h      http.Header
				body   []byte
				at     time.Time
			}{"replayed later", secret, good, body, now.Add(10 * time.Minute)})
		}
		for _, tt := range tests {
			t.Run(name+"/"+tt.name, func(t *testing.T) {
				err := src.Verify(tt.secret, tt.h, tt.body, tt.at)
				if !errors.Is(err, fault.ErrUnauthorized) {
					t.Errorf("Verify() = %v; want %v", err, fault.ErrUnauthorized)
				}
			})
		}
	}
}

func TestItems(t *testing.T) {
	src := config.Source{Name: "bulk", Kind: config.KindWebhook, Webhook: &config.WebhookSource{
		Secret: &config.SecretRef{Env: "S"}, Signature: &config.WebhookSignature{Header: "X-Sig"},
		EventIDHeader: "X-Id", Items: "data.customers",
	}, Mapping: config.Mapping{
		Identifiers: []config.IdentifierField{{Type: "email", Field: config.Field{Field: "item.email"}}},
		Attributes:  map[string]config.Field{"plan": {Field: "account.plan"}},
	}}
	s, err := newHook(cfgWith(src), "bulk")
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{"X-Id": {"batch-7"}}
	body := []byte(`{"account":{"plan":"pro"},"data":{"customers":[{"email":"A@example.com"},{"email":"nope"},{"email":"c@example.com"}]}}`)
	id, items, err := s.Parse(h, body, now)
	if err != nil || id != "batch-7" || len(items) != 3 {
		t.Fatalf("Parse() = %q, %d items, %v; want batch-7, 3 items", id, len(items), err)
	}
	want := []struct {
		id       string
		rejected bool
		email    string
	}{{"batch-7#0", false, "a@example.com"}, {"batch-7#1", true, ""}, {"batch-7#2", false, "c@example.com"}}
	for i, w := range want {
		it := items[i]
		if it.Record.ID != w.id || it.Rejected != w.rejected {
			t.Errorf("item %d = id %q rejected %v; want %q, %v", i, it.Record.ID, it.Rejected, w.id, w.rejected)
		}
		if w.email != "" && (len(it.Record.Identifiers) != 1 || it.Record.Identifiers[0] != (profile.Identifier{Type: "email", Value: w.email}) || it.Record.Attributes["plan"] != "pro") {
			t.Errorf("item %d record = %+v; want email %s and plan pro", i, it.Record, w.email)
		}
	}
	for _, bad := range []string{`[]`, `{"data":{"customers":{}}}`, `{} {}`} {
		if _, _, err := s.Parse(h, []byte(bad), now); !errors.Is(err, fault.ErrInvalid) {
			t.Errorf("Parse(%s) = %v; want %v", bad, err, fault.ErrInvalid)
		}
	}
	if _, _, err := s.Parse(http.Header{}, body, now); !errors.Is(err, fault.ErrInvalid) {
		t.Errorf("Parse(no event id header) = %v; want %v", err, fault.ErrInvalid)
	}
}

func TestPresetNeedsIdentifierTypes(t *testing.T) {
	cfg := &config.Config{Version: 1, Identifiers: []config.IdentifierType{{Name: "customer_id", Normalizer: "id"}},
		Sources: []config.Source{hook("h", config.PresetStripeCustomers)}}
	if _, err := newHook(cfg, "h"); !errors.Is(err, fault.ErrInvalid) {
		t.Errorf("New(preset without its identifier types) = %v; want %v", err, fault.ErrInvalid)
	}
}

func TestNewRejects(t *testing.T) {
	cfg := cfgWith(
		config.Source{Name: "api", Kind: config.KindAPI},
		config.Source{Name: "bare", Kind: config.KindWebhook},
		hook("odd", "mailchimp"),
	)
	for _, name := range []string{"undeclared", "api", "bare", "odd"} {
		t.Run(name, func(t *testing.T) {
			if s, err := newHook(cfg, name); !errors.Is(err, fault.ErrInvalid) {
				t.Errorf("New(%s) = %v, %v; want an error of kind %v", name, s, err, fault.ErrInvalid)
			}
		})
	}
}
