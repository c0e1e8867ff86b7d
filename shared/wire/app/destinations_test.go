package app

import (
	"strings"
	"testing"

	"github.com/aurum-cdp/aurum/shared/config"
)

// Check builds the destinations with their kinds: what only the kind
// knows (its registration, its options) is reported by aurum validate.
func TestCheckBuildsDestinations(t *testing.T) {
	const base = "version: 1\nidentifiers: [{name: email, normalizer: email}]\nsources: [{name: s, kind: file, format: csv}]\n"
	tests := []struct {
		name string
		dest string
		want string
	}{
		{"every registered kind builds", `destinations:
  - {name: a, kind: hubspot, credential: {env: A}, profiles: {}}
  - {name: b, kind: braze, url: "https://rest.iad-01.braze.com", credential: {env: B}, profiles: {}}
  - {name: c, kind: klaviyo, credential: {env: C}, profiles: {}}
  - {name: d, kind: mailchimp, credential: {env: D}, options: {list_id: L}, profiles: {}}
  - {name: e, kind: salesforce, url: "https://x.my.salesforce.com", credential: {env: E}, options: {external_id_field: A__c}, profiles: {}}
  - {name: f, kind: http, url: "https://x.example.com", profiles: {}}
  - {name: g, kind: webhook, webhook: {url: "https://x.example.com", secret: {env: G}}, profiles: {}}
  - {name: h, kind: sqs, sqs: {queue_url: "https://sqs.eu-west-1.amazonaws.com/1/q"}, profiles: {}}
`, ""},
		{"an unknown kind", "destinations: [{name: x, kind: nope, profiles: {}}]\n", `destinations[0] (x).kind: unknown destination kind "nope"`},
		{"a kind's missing option", "destinations: [{name: m, kind: mailchimp, credential: {env: M}, profiles: {}}]\n", "destinations[0] (m).options.list_id: missing"},
		{"a capability the kind lacks", "segments: [{id: v, expr: 'true'}]\ndestinations: [{name: s, kind: salesforce, url: \"https://x.my.salesforce.com\", credential: {env: S}, options: {external_id_field: A__c}, audiences: {segments: [v]}}]\n",
			"destinations[0] (s).audiences: kind salesforce does not sync audiences"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := config.Parse("aurum.yaml", []byte(base+tt.dest))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			err = Check(cfg)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Check() = %v; want nil", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("Check() = %v; want %q", err, tt.want)
			}
		})
	}
}
