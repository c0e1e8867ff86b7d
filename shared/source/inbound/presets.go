package inbound

import (
	"fmt"
	"slices"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/model/fault"
)

// Identifier types the presets map when aurum.yaml declares them. A
// preset maps only declared types and needs at least one.
const (
	TypeEmail             = "email"
	TypePhone             = "phone"
	TypeShopifyCustomerID = "shopify_customer_id"
	TypeStripeCustomerID  = "stripe_customer_id"
)

func f(path string, kind ...string) config.Field {
	fd := config.Field{Field: path}
	if len(kind) > 0 {
		fd.Type = kind[0]
	}
	return fd
}

func fb(path string, fallback ...string) config.Field {
	return config.Field{Field: path, Fallback: fallback}
}

func unixTime(path string) *config.Field {
	return &config.Field{Field: path, Type: config.TypeTimestamp, Formats: []string{"unix"}}
}

// preset is the scheme and mapping of one preset.
type preset struct {
	hook    config.WebhookSource
	ids     []config.IdentifierField
	mapping config.Mapping
}

var shopifySig = &config.WebhookSignature{Header: "X-Shopify-Hmac-Sha256", Encoding: config.EncodingBase64}

var stripeSig = &config.WebhookSignature{Header: "Stripe-Signature", Format: config.SignatureFormatStripe, Tolerance: "300s"}

// presets: Shopify signs the raw body (base64 HMAC-SHA256 in
// X-Shopify-Hmac-Sha256) and names each delivery in X-Shopify-Webhook-Id;
// Stripe signs t + "." + body (Stripe-Signature: t=...,v1=...), and the
// event object's id names the event.
var presets = map[string]preset{
	config.PresetShopifyCustomers: {
		hook: config.WebhookSource{Signature: shopifySig, EventIDHeader: "X-Shopify-Webhook-Id"},
		ids: []config.IdentifierField{
			{Type: TypeShopifyCustomerID, Field: f("id")},
			{Type: TypeEmail, Field: f("email")},
			{Type: TypePhone, Field: fb("phone", "default_address.phone")},
		},
		mapping: config.Mapping{
			ObservedAt: &config.Field{Field: "updated_at", Type: config.TypeTimestamp},
			Attributes: map[string]config.Field{
				"first_name":    f("first_name", config.TypeName),
				"last_name":     f("last_name", config.TypeName),
				"email":         f("email", config.TypeEmail),
				"phone":         fb("phone", "default_address.phone"),
				"country":       {Field: "default_address.country_code", Type: config.TypeCountry},
				"city":          f("default_address.city"),
				"shopify_state": f("state"),
				"shopify_tags":  f("tags"),
			},
		},
	},
	config.PresetShopifyOrders: {
		hook: config.WebhookSource{Signature: shopifySig, EventIDHeader: "X-Shopify-Webhook-Id"},
		ids: []config.IdentifierField{
			{Type: TypeShopifyCustomerID, Field: f("customer.id")},
			{Type: TypeEmail, Field: fb("email", "customer.email", "contact_email")},
			{Type: TypePhone, Field: fb("phone", "customer.phone", "billing_address.phone")},
		},
		mapping: config.Mapping{
			ObservedAt: &config.Field{Field: "updated_at", Type: config.TypeTimestamp, Fallback: []string{"created_at"}},
			Attributes: map[string]config.Field{
				"first_name": {Field: "customer.first_name", Type: config.TypeName, Fallback: []string{"billing_address.first_name"}},
				"last_name":  {Field: "customer.last_name", Type: config.TypeName, Fallback: []string{"billing_address.last_name"}},
				"country":    {Field: "billing_address.country_code", Type: config.TypeCountry, Fallback: []string{"shipping_address.country_code"}},
			},
			Event: &config.EventMapping{
				Name:      config.Field{Const: "Order Completed"},
				ID:        &config.Field{Field: "admin_graphql_api_id", Fallback: []string{"id"}},
				Timestamp: &config.Field{Field: "created_at", Type: config.TypeTimestamp},
				Properties: map[string]config.Field{
					"order_id":     f("id"),
					"order_number": f("order_number", config.TypeInteger),
					"total":        f("total_price", config.TypeNumber),
					"subtotal":     f("subtotal_price", config.TypeNumber),
					"currency":     f("currency"),
					"status":       f("financial_status"),
				},
			},
		},
	},
	config.PresetStripeCustomers: {
		hook: config.WebhookSource{Signature: stripeSig, EventIDField: "id"},
		ids: []config.IdentifierField{
			{Type: TypeStripeCustomerID, Field: f("data.object.id")},
			{Type: TypeEmail, Field: f("data.object.email")},
			{Type: TypePhone, Field: f("data.object.phone")},
		},
		mapping: config.Mapping{
			ObservedAt: unixTime("created"),
			Attributes: map[string]config.Field{
				"name":    f("data.object.name", config.TypeName),
				"email":   f("data.object.email", config.TypeEmail),
				"phone":   f("data.object.phone"),
				"country": {Field: "data.object.address.country", Type: config.TypeCountry},
				"city":    f("data.object.address.city"),
			},
		},
	},
	config.PresetStripeCharges: {
		hook: config.WebhookSource{Signature: stripeSig, EventIDField: "id"},
		ids: []config.IdentifierField{
			{Type: TypeStripeCustomerID, Field: f("data.object.customer")},
			{Type: TypeEmail, Field: fb("data.object.billing_details.email", "data.object.receipt_email")},
			{Type: TypePhone, Field: f("data.object.billing_details.phone")},
		},
		mapping: config.Mapping{
			ObservedAt: unixTime("created"),
			Attributes: map[string]config.Field{
				"name":    f("data.object.billing_details.name", config.TypeName),
				"country": {Field: "data.object.billing_details.address.country", Type: config.TypeCountry},
			},
			Event: &config.EventMapping{
				Name:      config.Field{Field: "type"},
				Timestamp: unixTime("data.object.created"),
				Properties: map[string]config.Field{
					"charge_id": f("data.object.id"),
					"amount":    f("data.object.amount", config.TypeNumber),
					"currency":  f("data.object.currency"),
					"status":    f("data.object.status"),
					"paid":      f("data.object.paid", config.TypeBool),
				},
			},
		},
	},
}

// Effective returns src with its preset applied: the preset's signature
// scheme, event id and items where src sets none, and the preset's
// mapping when src's mapping is empty (its identifiers limited to the
// identifier types of idents, the configuration's).
func Effective(src config.Source, idents []config.IdentifierType) (config.Source, error) {
	if src.Webhook == nil || src.Webhook.Preset == "" {
		return src, nil
	}
	hook := *src.Webhook
	p, ok := presets[hook.Preset]
	if !ok {
		return src, fmt.Errorf("inbound: source %s: %w", src.Name, fault.Invalidf("unknown preset %q", hook.Preset))
	}
	if hook.Signature == nil {
		hook.Signature = p.hook.Signature
	} else if hook.Signature.Header == "" {
		sig := *hook.Signature
		sig.Header = p.hook.Signature.Header
		hook.Signature = &sig
	}
	if hook.EventIDHeader == "" && hook.EventIDField == "" {
		hook.EventIDHeader, hook.EventIDField = p.hook.EventIDHeader, p.hook.EventIDField
	}
	src.Webhook = &hook
	if !emptyMapping(src.Mapping) {
		return src, nil
	}
	m := p.mapping
	m.Identifiers = nil
	for _, id := range p.ids {
		if slices.ContainsFunc(idents, func(t config.IdentifierType) bool { return t.Name == id.Type }) {
			m.Identifiers = append(m.Identifiers, id)
		}
	}
	if len(m.Identifiers) == 0 {
		var types []string
		for _, id := range p.ids {
			if !slices.Contains(types, id.Type) {
				types = append(types, id.Type)
			}
		}
		return src, fmt.Errorf("inbound: source %s: %w", src.Name,
			fault.Invalidf("preset %s maps identifier types %v; declare at least one of them", hook.Preset, types))
	}
	src.Mapping = m
	return src, nil
}

func emptyMapping(m config.Mapping) bool {
	return m.RecordID == nil && m.ObservedAt == nil && len(m.Identifiers) == 0 &&
		len(m.Attributes) == 0 && m.AttributesFrom == "" && m.Event == nil
}
