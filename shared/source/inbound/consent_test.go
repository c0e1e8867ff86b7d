package inbound_test

import (
	"net/http"
	"testing"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/core/consent"
	"github.com/aurum-cdp/aurum/shared/model/profile"
)

// TestWebhookConsentMapping: a webhook mapping whose attribute is named
// consent.<purpose> (type bool) puts the purpose's consent on the record,
// with yes/no and true/false read as booleans.
func TestWebhookConsentMapping(t *testing.T) {
	src := config.Source{Name: "prefs", Kind: config.KindWebhook, Webhook: &config.WebhookSource{
		Secret: &config.SecretRef{Env: "S"}, Signature: &config.WebhookSignature{Header: "X-Sig"}, EventIDHeader: "X-Id",
	}, Mapping: config.Mapping{
		Identifiers: []config.IdentifierField{{Type: "email", Field: config.Field{Field: "email"}}},
		Attributes: map[string]config.Field{
			"consent.email": {Field: "subscriptions.newsletter", Type: config.TypeBool},
			"consent.sms":   {Field: "subscriptions.sms", Type: config.TypeBool},
		},
	}}
	s, err := newHook(cfgWith(src), "prefs")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		body       string
		email, sms any
	}{
		{"booleans", `{"email":"a@example.com","subscriptions":{"newsletter":true,"sms":false}}`, true, false},
		{"yes and no", `{"email":"a@example.com","subscriptions":{"newsletter":"no","sms":"yes"}}`, false, true},
		{"absent purpose left alone", `{"email":"a@example.com","subscriptions":{"newsletter":true}}`, true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, items, err := s.Parse(http.Header{"X-Id": {"e1"}}, []byte(tt.body), now)
			if err != nil || len(items) != 1 || items[0].Rejected {
				t.Fatalf("Parse = %+v, %v; want one record", items, err)
			}
			rec := items[0].Record
			if got := rec.Attributes[consent.Attribute("email")]; got != tt.email {
				t.Errorf("consent.email = %v; want %v", got, tt.email)
			}
			if got, ok := rec.Attributes[consent.Attribute("sms")]; got != tt.sms || (tt.sms == nil && ok) {
				t.Errorf("consent.sms = %v (set %v); want %v", got, ok, tt.sms)
			}
			p := profile.Profile{Attributes: map[string]profile.Attribute{}}
			for k, v := range rec.Attributes {
				p.Attributes[k] = profile.Attribute{Value: v}
			}
			if consent.Allowed(p, []string{"email"}) != (tt.email == true) {
				t.Errorf("Allowed(email) = %v; want %v", !(tt.email == true), tt.email == true)
			}
		})
	}
}
