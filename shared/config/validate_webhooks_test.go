package config

import (
	"strings"
	"testing"
)

const webhookSource = `version: 1
identifiers:
  - name: email
    normalizer: email
sources:
  - name: shop
    kind: webhook
`

func TestValidateWebhooks(t *testing.T) {
	tests := []struct {
		name string
		in   string
		// want are substrings of the problems, in order; none: valid.
		want []string
	}{
		{"preset", webhookSource + "    webhook: {preset: stripe_charges, secret: {ssm: /aurum/stripe}}\n", nil},
		{"custom scheme", webhookSource + "    webhook:\n      secret: {env: HOOK_SECRET}\n" +
			"      signature: {header: X-Sig, encoding: base64, prefix: \"sha256=\", timestamp_header: X-Ts, tolerance: 2m}\n" +
			"      event_id_header: X-Id\n      items: data.rows\n", nil},
		{"privacy", webhookSource + "    webhook: {preset: shopify_orders, secret: {env: S}}\nprivacy: {suppress_erased: true}\n", nil},
		{"missing block", webhookSource, []string{"sources[0].webhook: missing"}},
		{"block on an api source", strings.Replace(webhookSource, "kind: webhook", "kind: api", 1) +
			"    write_keys: [{env: K}]\n    webhook: {preset: stripe_charges, secret: {env: S}}\n",
			[]string{"sources[0].webhook: applies only to webhook sources"}},
		{"unknown preset, no secret", webhookSource + "    webhook: {preset: paypal}\n", []string{
			"sources[0].webhook.secret: missing",
			`sources[0].webhook.preset: "paypal" is not one of shopify_customers, shopify_orders, stripe_customers, stripe_charges`,
		}},
		{"hashed secret", webhookSource + "    webhook: {preset: stripe_charges, secret: {sha256: " + strings.Repeat("ab", 32) + "}}\n",
			[]string{"sources[0].webhook.secret.sha256: not usable for webhooks"}},
		{"no signature", webhookSource + "    webhook: {secret: {env: S}}\n", []string{"sources[0].webhook.signature: missing"}},
		{"bad signature", webhookSource + "    webhook:\n      secret: {env: S}\n      event_id_header: X-Id\n      event_id_field: id\n" +
			"      signature: {encoding: base32, format: stripe, timestamp_header: X-Ts, prefix: v1, tolerance: soon}\n", []string{
			"sources[0].webhook.event_id_field: not allowed with event_id_header",
			"sources[0].webhook.signature.header: missing",
			`sources[0].webhook.signature.encoding: "base32" is not one of hex, base64`,
			"sources[0].webhook.signature.timestamp_header: not allowed with format stripe",
			"sources[0].webhook.signature.prefix: not allowed with format stripe",
			`sources[0].webhook.signature.tolerance: "soon" is not a duration`,
		}},
		{"tolerance without timestamp", webhookSource + "    webhook: {secret: {env: S}, signature: {header: X-Sig, tolerance: 1m}}\n",
			[]string{"sources[0].webhook.signature.tolerance: applies only with timestamp_header or format stripe"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := problems(t, tt.in)
			ok := len(got) == len(tt.want)
			for i := 0; ok && i < len(tt.want); i++ {
				ok = strings.Contains(got[i], tt.want[i])
			}
			if !ok {
				t.Errorf("Parse(...) problems =\n  %s\nwant (substrings)\n  %s\ninput:\n%s", strings.Join(got, "\n  "), strings.Join(tt.want, "\n  "), numbered(tt.in))
			}
		})
	}
}
