package config

import "testing"

func TestValidateDestinations(t *testing.T) {
	const segs = "segments:\n  - id: vip\n    expr: 'true'\n"
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"valid: every way of receiving, and a trigger naming one", segs + `destinations:
  - name: crm
    kind: hubspot
    credential: {secrets_manager: aurum/hubspot}
    rate_limit: {per_second: 10}
    purposes: [marketing]
    profiles:
      attributes: [email, first_name]
      map: {firstname: profile.attributes.first_name}
    events:
      tracked: [Order Completed]
      aurum: {detail-type: [SegmentEntered]}
      map: {value: event.properties.revenue}
  - name: news
    kind: mailchimp
    options: {list_id: abc123}
    audiences: {segments: [vip], names: {vip: VIP}, schedule: 24h}
  - name: hook
    kind: webhook
    webhook: {url: https://hooks.example.com/x, secret: {env: HOOK}}
triggers:
  - id: t
    when: {segment_entered: vip}
    actions: [{destination: hook}]
`, nil},
		{"names, kinds and settings", segs + `destinations:
  - name: Bad Name
    kind: ""
    url: ftp://x
    credential: {sha256: 0000000000000000000000000000000000000000000000000000000000000000}
    rate_limit: {per_second: 0}
    purposes: [Marketing]
    profiles: {}
  - name: dup
    kind: http
    url: https://user:pw@example.com/x
    profiles: {}
  - name: dup
    kind: braze
    profiles: {}
`, []string{
			`13:11: destinations[0].name: "Bad Name" must match`,
			`14:5: destinations[0].kind: missing; expected a destination kind`,
			`15:10: destinations[0].url: expected an absolute http(s) URL`,
			`16:26: destinations[0].credential.sha256: a hash cannot authenticate`,
			`17:30: destinations[0].rate_limit.per_second: 0; expected at least 1`,
			`18:16: destinations[0].purposes[0]: "Marketing" must match`,
			`22:10: destinations[1].url: must not carry credentials`,
			`24:11: destinations[2].name: duplicate destination name "dup"`,
		}},
		{"what it receives", segs + `destinations:
  - name: idle
    kind: braze
  - name: ev
    kind: braze
    events: {map: {x: attributes.plan}}
  - name: aud
    kind: mailchimp
    audiences: {segments: [gold], names: {vip: V}, schedule: soon}
  - name: pub
    kind: event
    profiles: {}
`, []string{
			`13:5: destinations[0]: receives nothing; set events, profiles or audiences, or name it in a trigger's actions (destination: idle)`,
			`17:13: destinations[1].events: selects no events`,
			`17:23: destinations[1].events.map.x: "attributes.plan" is not an Aurum path`,
			`20:28: destinations[2].audiences.segments[0]: "gold" is not a declared segment id`,
			`20:48: destinations[2].audiences.names.vip: "vip" is not one of the synced segments`,
			`20:62: destinations[2].audiences.schedule:`,
			`22:11: destinations[3].kind: event destinations publish a trigger's TriggerFired`,
		}},
		{"existing kinds need their settings", segs + `destinations:
  - name: a
    kind: webhook
    profiles: {}
  - name: b
    kind: sqs
    profiles: {}
  - name: c
    kind: braze
    sqs: {queue_url: nope}
    profiles: {}
`, []string{
			`13:5: destinations[0].webhook: missing; webhook destinations need webhook`,
			`16:5: destinations[1].sqs: missing; sqs destinations need sqs`,
			`21:10: destinations[2].sqs: applies only to destinations of kind sqs`,
		}},
		{"a trigger naming an unknown destination", segs + `triggers:
  - id: t
    when: {segment_entered: vip}
    actions: [{destination: nowhere}]
`, []string{
			`15:29: triggers[0].actions[0].destination: "nowhere" is not a destination declared under destinations`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkProblems(t, base+tt.in, tt.want)
		})
	}
}

func TestActionKindDestination(t *testing.T) {
	if got := (TriggerAction{Destination: "crm"}).Kind(); got != "destination" {
		t.Errorf("Kind() of {destination: crm} = %q; want destination", got)
	}
	if got := (TriggerAction{Destination: "crm", Event: &EventAction{}}).Kind(); got != "" {
		t.Errorf("Kind() of two actions = %q; want \"\"", got)
	}
}
