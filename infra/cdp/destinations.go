package cdp

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/model/events"
)

// APIRoute is how a destination's Aurum events go from a rule straight
// to an EventBridge API destination: the endpoint, the header the
// connection's API key is sent in, extra static headers, and the input
// transformer that shapes the tool's body from the event.
type APIRoute struct {
	Endpoint  string
	Method    string
	KeyHeader string
	Headers   map[string]string
	// Paths and Template are the input transformer; no Paths sends the
	// event as it is.
	Paths    map[string]string
	Template string
}

// eventPaths are the input transformer's paths of every route.
var eventPaths = map[string]string{
	"id": "$.detail.event_id", "type": "$.detail-type", "time": "$.time",
	"profile": "$.detail.profile_id", "detail": "$.detail",
}

// DestinationRoute says whether d can be delivered without a function,
// and how. Only destinations that forward Aurum's own events
// (events.aurum) and nothing else qualify, that declare no consent
// purposes (a rule cannot read a profile's consent), whose credential
// is in Secrets Manager (a connection's key is a dynamic reference to
// it), and whose kind maps an event with an input transformer alone:
// http (the event as it is), braze (/users/track by external_id = the
// profile id) and klaviyo (/api/events by external_id). Everything else
// goes through functions/destinations.
func DestinationRoute(d config.Destination) (APIRoute, bool) {
	if d.Events == nil || d.Events.Aurum == nil || len(d.Events.Tracked) > 0 || len(d.Events.Map) > 0 || d.Events.Body != "" ||
		d.Profiles != nil || d.Audiences != nil || len(d.Purposes) > 0 || d.Credential == nil || d.Credential.SecretsManager == "" {
		return APIRoute{}, false
	}
	switch d.Kind {
	case "http":
		if d.URL == "" || (d.Options["method"] != "" && d.Options["method"] != "POST") {
			return APIRoute{}, false
		}
		key := d.Options["auth_header"]
		if key == "" {
			key = "Authorization"
		}
		return APIRoute{Endpoint: d.URL, Method: "POST", KeyHeader: key}, true
	case "braze":
		if d.URL == "" {
			return APIRoute{}, false
		}
		return APIRoute{Endpoint: d.URL + "/users/track", Method: "POST", KeyHeader: "Authorization", Paths: eventPaths,
			Template: `{"events":[{"external_id":"<profile>","name":"<type>","time":"<time>","properties":<detail>}]}`}, true
	case "klaviyo":
		base := d.URL
		if base == "" {
			base = "https://a.klaviyo.com"
		}
		rev := d.Options["revision"]
		if rev == "" {
			rev = "2026-10-15"
		}
		return APIRoute{Endpoint: base + "/api/events", Method: "POST", KeyHeader: "Authorization",
			Headers: map[string]string{"revision": rev, "Content-Type": "application/vnd.api+json", "Accept": "application/vnd.api+json"},
			Paths:   eventPaths,
			Template: `{"data":{"type":"event","attributes":{"properties":<detail>,"time":"<time>","unique_id":"<id>",` +
				`"metric":{"data":{"type":"metric","attributes":{"name":"<type>"}}},` +
				`"profile":{"data":{"type":"profile","attributes":{"external_id":"<profile>"}}}}}}`}, true
	}
	return APIRoute{}, false
}

// DestinationPattern is the event pattern of a destination's rule to
// functions/destinations: ProfileUpdated for profile sync and tracked
// events, the segments' SegmentEntered and SegmentExited for audiences,
// and events.aurum, joined with $or. ok is false when the destination
// needs no events (a destination only triggers name).
func DestinationPattern(d config.Destination) (pattern []byte, ok bool, err error) {
	var alts []map[string]any
	tracked := d.Events != nil && len(d.Events.Tracked) > 0
	switch {
	case d.Profiles != nil || (tracked && slices.Contains(d.Events.Tracked, "*")):
		alts = append(alts, map[string]any{"source": []any{events.Source}, "detail-type": []any{events.TypeProfileUpdated}})
	case tracked: // only the updates that add events of those names
		names := make([]any, 0, len(d.Events.Tracked))
		for _, n := range d.Events.Tracked {
			names = append(names, n)
		}
		alts = append(alts, map[string]any{"source": []any{events.Source}, "detail-type": []any{events.TypeProfileUpdated},
			"detail": map[string]any{"event_names": names}})
	}
	if d.Audiences != nil {
		segs := make([]any, 0, len(d.Audiences.Segments))
		for _, s := range d.Audiences.Segments {
			segs = append(segs, s)
		}
		alts = append(alts, map[string]any{"source": []any{events.Source},
			"detail-type": []any{events.TypeSegmentEntered, events.TypeSegmentExited}, "detail": map[string]any{"segment_id": segs}})
	}
	if d.Events != nil && d.Events.Aurum != nil {
		alts = append(alts, map[string]any(d.Events.Aurum))
	}
	switch len(alts) {
	case 0:
		return nil, false, nil
	case 1:
		b, err := json.Marshal(alts[0])
		return b, true, err
	}
	b, err := json.Marshal(map[string]any{"$or": alts})
	return b, true, err
}

// destinations wires every destination: an API destination with its
// connection, or a rule to functions/destinations (which also gets the
// destination's credential and, for audiences.schedule, a scheduled
// re-sync rule).
func (c *Cdp) destinations(p *CdpProps) {
	var refs []config.SecretRef
	var queues []string
	for i := range p.Config.Destinations {
		d := p.Config.Destinations[i]
		id := "Destination-" + constructID(d.Name)
		if route, ok := DestinationRoute(d); ok {
			c.apiDestination(id, d, route)
			continue
		}
		if d.Credential != nil {
			refs = append(refs, *d.Credential)
		}
		if d.Webhook != nil && d.Webhook.Secret != nil {
			refs = append(refs, *d.Webhook.Secret)
		}
		if d.SQS != nil {
			arn, err := queueArn(awscdk.Stack_Of(c.Construct), d.SQS.QueueURL)
			if err != nil {
				c.Construct.Node().AddValidation(&validation{problems: []string{fmt.Sprintf("cdp: destination %s: %v", d.Name, err)}})
			} else {
				queues = append(queues, arn)
			}
		}
		pattern, ok, err := DestinationPattern(d)
		if err != nil {
			c.Construct.Node().AddValidation(&validation{problems: []string{fmt.Sprintf("cdp: destination %s: %v", d.Name, err)}})
			continue
		}
		if ok {
			r := c.patternRule(id, "Aurum destination "+d.Name, c.Bus, pattern, FnDestinations)
			// The function handles the event for this destination only.
			r.Node().DefaultChild().(awsevents.CfnRule).AddPropertyOverride(jsii.String("Targets.0.InputTransformer"), map[string]any{
				"InputPathsMap": map[string]string{},
				"InputTemplate": fmt.Sprintf(`{"destination": %q, "event": <aws.events.event>}`, d.Name),
			})
			c.DestinationRules[d.Name] = r
		}
		if a := d.Audiences; a != nil && a.Schedule != "" {
			every, err := config.ParseDuration(a.Schedule)
			if err != nil {
				continue // config.Validate reported it
			}
			awsevents.NewRule(c.Construct, jsii.String(id+"-Resync"), &awsevents.RuleProps{
				Description: jsii.String("Aurum destination " + d.Name + ": full audience re-sync"),
				Schedule:    awsevents.Schedule_Rate(awscdk.Duration_Minutes(jsii.Number(every.Minutes()))),
				Targets: &[]awsevents.IRuleTarget{awseventstargets.NewLambdaFunction(c.Functions[FnDestinations], &awseventstargets.LambdaFunctionProps{
					DeadLetterQueue: c.DeadLetters[FnDestinations],
					RetryAttempts:   jsii.Number(targetRetryAttempts),
					MaxEventAge:     awscdk.Duration_Hours(jsii.Number(targetMaxEventHours)),
					Event:           awsevents.RuleTargetInput_FromObject(map[string]string{"sync": d.Name}),
				})},
			})
		}
	}
	c.secretGrants(FnDestinations, refs)
	c.triggerDestinationGrants(p.Config)
	if len(queues) > 0 {
		slices.Sort(queues)
		c.Functions[FnDestinations].AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("SendToDestinationQueues"),
			Actions:   jsii.Strings("sqs:SendMessage"),
			Resources: jsii.Strings(slices.Compact(queues)...),
		}))
	}
}

// apiDestination is d delivered by EventBridge itself: a connection
// whose API key is a dynamic reference to the Secrets Manager secret
// (EventBridge keeps it in its own managed secret; the template never
// holds it), the API destination with the destination's rate limit, and
// a rule on the events.aurum pattern whose target shapes the body, retries
// and dead-letters to the destination's own queue.
func (c *Cdp) apiDestination(id string, d config.Destination, route APIRoute) {
	conn := awsevents.NewConnection(c.Construct, jsii.String(id+"-Connection"), &awsevents.ConnectionProps{
		Description: jsii.String("Aurum destination " + d.Name),
		Authorization: awsevents.Authorization_ApiKey(jsii.String(route.KeyHeader),
			awscdk.SecretValue_SecretsManager(jsii.String(d.Credential.SecretsManager), nil)),
	})
	rate := 10.0
	if d.RateLimit != nil {
		rate = float64(d.RateLimit.PerSecond)
	}
	dest := awsevents.NewApiDestination(c.Construct, jsii.String(id+"-Api"), &awsevents.ApiDestinationProps{
		Connection:         conn,
		Endpoint:           jsii.String(route.Endpoint),
		HttpMethod:         awsevents.HttpMethod_POST,
		RateLimitPerSecond: jsii.Number(rate),
		Description:        jsii.String("Aurum destination " + d.Name + " (" + d.Kind + ")"),
	})
	c.APIDestinations[d.Name] = dest
	dlq := awssqs.NewQueue(c.Construct, jsii.String(id+"-DeadLetters"), &awssqs.QueueProps{
		Encryption:      awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:      jsii.Bool(true),
		RetentionPeriod: awscdk.Duration_Days(jsii.Number(14)),
	})
	c.DestinationDeadLetters[d.Name] = dlq
	headers := map[string]*string{}
	for k, v := range route.Headers {
		headers[k] = jsii.String(v)
	}
	target := awseventstargets.NewApiDestination(dest, &awseventstargets.ApiDestinationProps{
		DeadLetterQueue:  dlq,
		RetryAttempts:    jsii.Number(targetRetryAttempts),
		MaxEventAge:      awscdk.Duration_Hours(jsii.Number(targetMaxEventHours)),
		HeaderParameters: &headers,
	})
	pattern, err := json.Marshal(map[string]any(d.Events.Aurum))
	if err != nil {
		c.Construct.Node().AddValidation(&validation{problems: []string{fmt.Sprintf("cdp: destination %s: %v", d.Name, err)}})
		return
	}
	r := awsevents.NewRule(c.Construct, jsii.String(id), &awsevents.RuleProps{
		EventBus:     c.Bus,
		Description:  jsii.String("Aurum destination " + d.Name + " (API destination)"),
		EventPattern: &awsevents.EventPattern{Source: jsii.Strings(events.Source)},
		Targets:      &[]awsevents.IRuleTarget{target},
	})
	var plain map[string]any
	_ = json.Unmarshal(pattern, &plain)
	cfn := r.Node().DefaultChild().(awsevents.CfnRule)
	cfn.SetEventPattern(plain)
	if len(route.Paths) > 0 {
		cfn.AddPropertyOverride(jsii.String("Targets.0.InputTransformer"), map[string]any{
			"InputPathsMap": route.Paths, "InputTemplate": route.Template,
		})
	}
	c.DestinationRules[d.Name] = r
}

// triggerDestinationGrants lets the triggers function read the
// credentials of the destinations triggers name (destination: NAME): it
// delivers firings to them itself.
func (c *Cdp) triggerDestinationGrants(cfg *config.Config) {
	var refs []config.SecretRef
	for _, t := range cfg.Triggers {
		for _, a := range t.Actions {
			d := cfg.DestinationNamed(a.Destination)
			if d == nil {
				continue
			}
			if d.Credential != nil {
				refs = append(refs, *d.Credential)
			}
			if d.Webhook != nil && d.Webhook.Secret != nil {
				refs = append(refs, *d.Webhook.Secret)
			}
		}
	}
	if len(refs) > 0 {
		c.secretGrants(FnTriggers, refs)
	}
}
