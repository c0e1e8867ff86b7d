package cdp_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/aurum-cdp/aurum/infra/cdp"
	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/pattern"
)

const destConfig = "testdata/destinations.yaml"

var (
	destOnce  sync.Once
	destStack synthesized
)

// destFixture is the stack of testdata/destinations.yaml, which uses
// every destination kind.
func destFixture(t *testing.T) synthesized {
	t.Helper()
	destOnce.Do(func() {
		destStack = synth(t, &cdp.CdpProps{Config: loadConfig(t, destConfig), AssetDir: fakeAssets(t, destConfig)})
	})
	if destStack.tpl == nil {
		t.Fatal("destinations stack did not synthesize")
	}
	return destStack
}

func logicalID(s synthesized, c constructs.IConstruct) string {
	return *s.stack.GetLogicalId(c.Node().DefaultChild().(awscdk.CfnResource))
}

func TestDestinationRoutes(t *testing.T) {
	cfg := loadConfig(t, destConfig)
	want := map[string]bool{"braze-events": true, "klaviyo-events": true, "lake": true}
	for _, d := range cfg.Destinations {
		t.Run(d.Name, func(t *testing.T) {
			route, ok := cdp.DestinationRoute(d)
			if ok != want[d.Name] {
				t.Fatalf("DestinationRoute(%s) = %v; want %v", d.Name, ok, want[d.Name])
			}
			if !ok {
				pat, needs, err := cdp.DestinationPattern(d)
				if err != nil {
					t.Fatal(err)
				}
				if needs {
					if _, err := pattern.Parse(pat); err != nil {
						t.Errorf("DestinationPattern(%s) = %s: not an event pattern: %v", d.Name, pat, err)
					}
				}
				return
			}
			if route.Template != "" {
				// The template with sample values must be JSON.
				r := strings.NewReplacer("<profile>", "p1", "<type>", "SegmentEntered", "<time>", "2026-01-01T00:00:00Z", "<id>", "abc", "<detail>", `{"a":1}`)
				if !json.Valid([]byte(r.Replace(route.Template))) {
					t.Errorf("input template of %s is not JSON once filled: %s", d.Name, route.Template)
				}
			}
		})
	}
}

func TestDestinationPatternMatches(t *testing.T) {
	d := config.Destination{Name: "x", Profiles: &config.ProfileSync{}, Audiences: &config.AudienceSync{Segments: []string{"vip"}},
		Events: &config.EventForwarding{Aurum: config.EventPattern{"detail-type": []any{"TriggerFired"}}}}
	pat, ok, err := cdp.DestinationPattern(d)
	if err != nil || !ok {
		t.Fatalf("DestinationPattern() = %s, %v, %v", pat, ok, err)
	}
	p, err := pattern.Parse(pat)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		event string
		want  bool
	}{
		{`{"source":"aurum","detail-type":"ProfileUpdated","detail":{}}`, true},
		{`{"source":"aurum","detail-type":"SegmentEntered","detail":{"segment_id":"vip"}}`, true},
		{`{"source":"aurum","detail-type":"SegmentExited","detail":{"segment_id":"other"}}`, false},
		{`{"source":"aurum","detail-type":"TriggerFired","detail":{}}`, true},
		{`{"source":"aurum","detail-type":"ProfilesMerged","detail":{}}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.event, func(t *testing.T) {
			if got, err := p.Match([]byte(tt.event)); err != nil || got != tt.want {
				t.Errorf("Match(%s) = %v, %v; want %v", tt.event, got, err, tt.want)
			}
		})
	}
}

func TestTrackedOnlyPatternSelectsTheirUpdates(t *testing.T) {
	pat, ok, err := cdp.DestinationPattern(config.Destination{Events: &config.EventForwarding{Tracked: []string{"Order Completed"}}})
	if err != nil || !ok {
		t.Fatalf("DestinationPattern() = %s, %v, %v", pat, ok, err)
	}
	p, err := pattern.Parse(pat)
	if err != nil {
		t.Fatal(err)
	}
	for event, want := range map[string]bool{
		`{"source":"aurum","detail-type":"ProfileUpdated","detail":{"event_names":["Page Viewed","Order Completed"]}}`: true,
		`{"source":"aurum","detail-type":"ProfileUpdated","detail":{"event_names":["Page Viewed"]}}`:                   false,
		`{"source":"aurum","detail-type":"ProfileUpdated","detail":{"changed_attributes":["email"]}}`:                  false,
	} {
		if got, err := p.Match([]byte(event)); err != nil || got != want {
			t.Errorf("Match(%s) = %v, %v; want %v", event, got, err, want)
		}
	}
}

func TestAPIDestinations(t *testing.T) {
	s := destFixture(t)
	conns := resources(s.tpl, "AWS::Events::Connection")
	apis := resources(s.tpl, "AWS::Events::ApiDestination")
	if n := len(s.cdp.DestinationDeadLetters); n != 3 {
		t.Errorf("%d API-destination dead-letter queues; want 3", n)
	}
	if len(conns) != 3 || len(apis) != 3 {
		t.Fatalf("%d connections, %d API destinations; want 3 of each (braze-events, klaviyo-events, lake)", len(conns), len(apis))
	}
	tests := []struct {
		name, endpoint string
		rate           float64
		secret         string
	}{
		{"braze-events", "https://rest.iad-01.braze.com/users/track", 25, "aurum/braze-bearer"},
		{"klaviyo-events", "https://a.klaviyo.com/api/events", 10, "arn:aws:secretsmanager:eu-west-1:123456789012:secret:aurum/klaviyo-AbCdEf"},
		{"lake", "https://ingest.example.com/aurum", 10, "aurum/lake-key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var api map[string]any
			for _, a := range apis {
				if get(a, "Properties", "InvocationEndpoint") == tt.endpoint {
					api = a
				}
			}
			if got := get(api, "Properties", "InvocationEndpoint"); got != tt.endpoint {
				t.Errorf("endpoint = %v; want %s", got, tt.endpoint)
			}
			if got := get(api, "Properties", "InvocationRateLimitPerSecond"); got != tt.rate {
				t.Errorf("rate limit = %v; want %v", got, tt.rate)
			}
			connID, _ := get(api, "Properties", "ConnectionArn", "Fn::GetAtt", 0).(string)
			conn := conns[connID]
			if get(conn, "Properties", "AuthorizationType") != "API_KEY" {
				t.Errorf("connection %s: authorization %v; want API_KEY", connID, get(conn, "Properties", "AuthorizationType"))
			}
			value := jsonString(get(conn, "Properties", "AuthParameters", "ApiKeyAuthParameters", "ApiKeyValue"))
			if !strings.Contains(value, "{{resolve:secretsmanager:"+tt.secret) {
				t.Errorf("connection key = %s; want a dynamic reference to %s (never the key)", value, tt.secret)
			}
			rule := resources(s.tpl, "AWS::Events::Rule")[logicalID(s, s.cdp.DestinationRules[tt.name])]
			target := get(rule, "Properties", "Targets", 0)
			if get(target, "DeadLetterConfig", "Arn") == nil || get(target, "RetryPolicy", "MaximumRetryAttempts") == nil {
				t.Errorf("rule target %v; want a dead-letter queue and a retry policy", target)
			}
			if tt.name != "lake" && get(target, "InputTransformer", "InputTemplate") == nil {
				t.Errorf("rule target of %s has no input transformer", tt.name)
			}
			if tt.name == "klaviyo-events" && get(target, "HttpParameters", "HeaderParameters", "revision") == nil {
				t.Errorf("klaviyo target headers %v; want the revision header", get(target, "HttpParameters"))
			}
		})
	}
	// No credential appears in the template in clear: the fixture's
	// references are the only traces of them.
	raw := jsonString(s.tpl)
	for _, leak := range []string{"Bearer ", "Klaviyo-API-Key "} {
		if strings.Contains(raw, leak) {
			t.Errorf("template contains %q", leak)
		}
	}
}

func TestDestinationFunctionRules(t *testing.T) {
	s := destFixture(t)
	fns := functionsByName(t, s)
	rules := resources(s.tpl, "AWS::Events::Rule")
	for _, name := range []string{"crm", "news", "sales", "hook", "queue"} {
		t.Run(name, func(t *testing.T) {
			r, ok := s.cdp.DestinationRules[name]
			if !ok {
				t.Fatalf("no rule for %s", name)
			}
			target := get(rules[logicalID(s, r)], "Properties", "Targets", 0)
			if got := jsonString(get(target, "Arn")); !strings.Contains(got, fns[cdp.FnDestinations]) {
				t.Errorf("target %s; want the destinations function", got)
			}
			tmpl, _ := get(target, "InputTransformer", "InputTemplate").(string)
			if !strings.Contains(tmpl, fmt.Sprintf(`"destination": %q`, name)) || !strings.Contains(tmpl, "<aws.events.event>") {
				t.Errorf("input template %q; want the destination's name and the whole event", tmpl)
			}
			if get(target, "DeadLetterConfig", "Arn") == nil {
				t.Errorf("target without a dead-letter queue")
			}
		})
	}
	if _, ok := s.cdp.DestinationRules["fired"]; ok {
		t.Error("the event destination (triggers only) got a rule")
	}
	// The scheduled re-sync of news.
	var resync bool
	for _, r := range rules {
		if get(r, "Properties", "ScheduleExpression") == "rate(1 day)" || get(r, "Properties", "ScheduleExpression") == "rate(1440 minutes)" {
			resync = strings.Contains(jsonString(get(r, "Properties", "Targets", 0, "Input")), `news`)
		}
	}
	if !resync {
		t.Error("no scheduled re-sync rule for news (audiences.schedule: 24h)")
	}
}

func TestDestinationGrants(t *testing.T) {
	s := destFixture(t)
	pols := policies(t, s)
	var got []string
	for _, st := range pols[cdp.FnDestinations] {
		for _, a := range st.Actions {
			if strings.HasPrefix(a, "secretsmanager:") || strings.HasPrefix(a, "ssm:") || strings.HasPrefix(a, "sqs:Send") {
				got = append(got, a+" "+strings.Join(st.Resources, ","))
			}
		}
	}
	all := strings.Join(got, "\n")
	for _, want := range []string{"aurum/hubspot", "aurum/salesforce", "parameter/aurum/mailchimp", "parameter/aurum/hook", "aurum-dest", "aurum/google-ads", "aurum/meta"} {
		if !strings.Contains(all, want) {
			t.Errorf("destinations function grants:\n%s\nwant one on %s", all, want)
		}
	}
	for _, notWant := range []string{"braze-bearer", "lake-key", "klaviyo"} {
		if strings.Contains(all, notWant) {
			t.Errorf("destinations function may read %s, which only its API destination's connection uses", notWant)
		}
	}
	var trig []string
	for _, st := range pols[cdp.FnTriggers] {
		trig = append(trig, strings.Join(st.Resources, ","))
	}
	if !strings.Contains(strings.Join(trig, " "), "aurum/hubspot") {
		t.Error("the triggers function cannot read the credential of crm, which a trigger names")
	}
}

func TestDestinationsCdkNag(t *testing.T) {
	s := destFixture(t)
	ann := assertions.Annotations_FromStack(s.stack)
	var findings []string
	for _, m := range *ann.FindError(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*"))) {
		findings = append(findings, fmt.Sprintf("%s: %v", *m.Id, m.Entry.Data))
	}
	if len(findings) > 0 {
		t.Errorf("%d unsuppressed cdk-nag AwsSolutions errors:\n%s", len(findings), strings.Join(findings, "\n"))
	}
}
