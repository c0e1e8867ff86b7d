package config

import (
	"testing"
	"time"
)

func TestValidateTriggers(t *testing.T) {
	const segs = "segments:\n  - id: vip\n    expr: 'true'\n"
	hook := "      - webhook:\n          url: https://hooks.example.com/x\n          secret: {env: HOOK_SECRET}\n"
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"valid, every kind of when and action", segs + `triggers:
  - id: vip
    when: {segment_entered: vip}
    if: profile.attributes.country == "GB"
    cap: {max: 1, per: 7d}
    actions:
` + hook + `      - event: {}
      - sqs: {queue_url: "https://sqs.eu-west-1.amazonaws.com/123456789012/q"}
  - id: cart
    when:
      event: {detail-type: [ProfileUpdated], detail: {event_names: [Checkout Started]}}
    delay: 1h
    unless: {detail-type: [ProfileUpdated], detail: {event_names: [Order Completed]}}
    actions: [{event: {}}]
  - id: left
    when: {segment_exited: vip}
    actions: [{event: {}}]
  - id: email
    when: {attribute_changed: email}
    actions: [{event: {}}]
`, nil},
		{"when has none or two", segs + `triggers:
  - id: a
    when: {}
    actions: [{event: {}}]
  - id: b
    when: {segment_entered: vip, attribute_changed: email}
    actions: [{event: {}}]
`, []string{
			"14:11: triggers[0].when: has none; expected exactly one",
			"17:11: triggers[1].when: has segment_entered and attribute_changed; expected exactly one",
		}},
		{"unknown segment and bad pattern", segs + `triggers:
  - id: a
    when: {segment_entered: gold}
    actions: [{event: {}}]
  - id: b
    when: {event: {source: aurum}}
    actions: [{event: {}}]
`, []string{
			`14:29: triggers[0].when.segment_entered: "gold" is not a declared segment id`,
			"17:19: triggers[1].when.event: invalid input: event pattern: source: value must be an object or an array",
		}},
		{"delay, unless and cap", segs + `triggers:
  - id: a
    when: {segment_entered: vip}
    delay: soon
    cap: {max: 0, per: -1h}
    actions: [{event: {}}]
  - id: b
    when: {segment_entered: vip}
    unless: {detail-type: [SegmentExited]}
    actions: [{event: {}}]
`, []string{
			`15:12: triggers[0].delay: "soon": expected a duration`,
			"16:16: triggers[0].cap.max: 0; expected at least 1",
			`16:24: triggers[0].cap.per: "-1h": expected a positive duration`,
			"20:13: triggers[1].unless: needs delay",
		}},
		{"actions", segs + `triggers:
  - id: a
    when: {segment_entered: vip}
    actions:
      - webhook:
          url: ftp://example.com
          method: GET
          secret: {sha256: ` + "0000000000000000000000000000000000000000000000000000000000000000" + `}
          headers: {Authorization: Bearer x, X-Aurum-Signature: x}
      - webhook: {url: "https://example.com"}
      - {}
      - sqs: {queue_url: not a url}
  - id: b
    when: {segment_entered: vip}
    actions: []
`, []string{
			"17:16: triggers[0].actions[0].webhook.url: expected an absolute http(s) URL",
			`18:19: triggers[0].actions[0].webhook.method: "GET" is not one of POST, PUT, PATCH`,
			"19:28: triggers[0].actions[0].webhook.secret.sha256: cannot sign with a hash",
			"20:36: triggers[0].actions[0].webhook.headers.Authorization: credentials do not belong",
			`20:65: triggers[0].actions[0].webhook.headers.X-Aurum-Signature: "X-Aurum-Signature" is set by Aurum`,
			"21:18: triggers[0].actions[1].webhook.secret: missing",
			"22:9: triggers[0].actions[2]: has 0 actions",
			"23:26: triggers[0].actions[3].sqs.queue_url: expected the queue's URL",
			"26:14: triggers[1].actions: missing",
		}},
		{"subscribers", `subscribers:
  - name: crm
    pattern: {detail-type: [SegmentEntered]}
    webhook: http://localhost:9000/events
  - name: crm
    print: true
  - name: both
    print: true
    log: true
  - name: bad
    pattern: {detail: {x: [{prefix: 1}]}}
    webhook: localhost
`, []string{
			`13:11: subscribers[1].name: duplicate subscriber name "crm"`,
			"15:5: subscribers[2]: has 2 outputs",
			"19:14: subscribers[3].pattern: invalid input: event pattern: detail.x: prefix must be a string",
			"20:14: subscribers[3].webhook: expected an absolute http(s) URL",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkProblems(t, base+tt.in, tt.want)
		})
	}
}

func TestValidateBusSources(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"disjoint detail types", `  - name: shop-orders
    kind: bus
    bus: {source: com.shop, detail_types: [Order Placed]}
  - name: shop-carts
    kind: bus
    bus: {source: com.shop, detail_types: [Cart Updated]}
  - name: billing
    kind: bus
`, nil},
		{"overlap and misplaced", `  - name: shop-orders
    kind: bus
    bus: {source: com.shop}
  - name: shop-carts
    kind: bus
    bus: {source: com.shop, detail_types: [Cart Updated, ""]}
  - name: files
    kind: file
    format: csv
    bus: {source: com.shop}
`, []string{
			`14:10: sources[2].bus: events of source "com.shop" are also ingested by the bus source at line 9`,
			`14:58: sources[2].bus.detail_types[1]: empty`,
			"18:10: sources[3].bus: applies only to bus sources",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkProblems(t, base+tt.in, tt.want)
		})
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"30m", 30 * time.Minute, true},
		{"1h30m", 90 * time.Minute, true},
		{"7d", 7 * 24 * time.Hour, true},
		{"0s", 0, false},
		{"-1h", 0, false},
		{"1.5d", 0, false},
		{"d", 0, false},
		{"", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseDuration(tt.in)
			if (err == nil) != tt.ok || got != tt.want {
				t.Errorf("ParseDuration(%q) = %v, %v; want %v, ok=%v", tt.in, got, err, tt.want, tt.ok)
			}
		})
	}
}
