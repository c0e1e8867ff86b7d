package cdp

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsscheduler"
	"github.com/aws/jsii-runtime-go"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/core/trigger"
	"github.com/aurum-cdp/aurum/shared/model/events"
)

// Environment variables of the triggers function (shared/wire/app.AWSTriggers):
// its dead-letter queue for failed actions and, when a trigger has a
// delay, its own ARN (the target of the one-time EventBridge Scheduler
// schedules), the role those schedules assume and their group.
const (
	EnvTriggerDLQ    = "AURUM_TRIGGER_DLQ_URL"
	EnvTriggerARN    = "AURUM_TRIGGER_ARN"
	EnvSchedulerRole = "AURUM_SCHEDULER_ROLE_ARN"
	EnvScheduleGroup = "AURUM_SCHEDULE_GROUP"
)

// TriggerPatterns is the default of CdpProps.TriggerPatterns: the rule
// patterns shared/core/trigger derives from a trigger (its when and, if set,
// its unless), the same patterns local mode applies on its in-process bus.
func TriggerPatterns(t *config.Trigger) ([][]byte, error) { return trigger.RulePatterns(t) }

// BusSourcePattern is the default event pattern of a bus source's rule:
// events whose source is the source's bus.source (default: its name) and,
// when bus.detail_types is set, whose detail-type is one of them.
func BusSourcePattern(s config.Source) config.EventPattern {
	p := config.EventPattern{"source": []any{s.BusSource()}}
	if s.Bus != nil && len(s.Bus.DetailTypes) > 0 {
		types := make([]any, 0, len(s.Bus.DetailTypes))
		for _, t := range s.Bus.DetailTypes {
			types = append(types, t)
		}
		p["detail-type"] = types
	}
	return p
}

// partnerPrefix starts the names of SaaS partner event sources, whose
// events arrive on a partner event bus of the same name.
const partnerPrefix = "aws.partner/"

// triggerRules adds the rules of every trigger (when, and unless) to the
// triggers function, and the scheduler plumbing delays need.
func (c *Cdp) triggerRules(p *CdpProps) {
	var delayed bool
	for i := range p.Config.Triggers {
		t := &p.Config.Triggers[i]
		patterns, err := p.TriggerPatterns(t)
		if err != nil {
			c.Construct.Node().AddValidation(&validation{problems: []string{
				fmt.Sprintf("cdp: trigger %s: %v", t.ID, err)}})
			continue
		}
		id := "Trigger-" + constructID(t.ID)
		for j, pattern := range patterns {
			rid, description := id, "Aurum trigger "+t.ID
			if j > 0 {
				rid, description = fmt.Sprintf("%s-%d", id, j), description+": events that cancel a delayed firing"
			}
			r := c.patternRule(rid, description, c.Bus, pattern, FnTriggers)
			if j == 0 {
				c.TriggerRules[t.ID] = r
			}
		}
		delayed = delayed || t.Delay != ""
	}
	c.Functions[FnTriggers].AddEnvironment(jsii.String(EnvTriggerDLQ), c.DeadLetters[FnTriggers].QueueUrl(), nil)
	if delayed {
		c.delays()
	}
	c.actionGrants(p.Config)
}

// busSourceRules adds one rule per bus source to ingest-bus: on the
// partner event bus for aws.partner/ sources, else on Aurum's bus.
func (c *Cdp) busSourceRules(p *CdpProps) {
	for _, s := range p.Config.Sources {
		if s.Kind != config.KindBus {
			continue
		}
		id := "BusSource-" + constructID(s.Name)
		bus := awsevents.IEventBus(c.Bus)
		if src := s.BusSource(); strings.HasPrefix(src, partnerPrefix) {
			bus = awsevents.EventBus_FromEventBusName(c.Construct, jsii.String(id+"-PartnerBus"), jsii.String(src))
		}
		pattern, err := json.Marshal(map[string]any(p.BusSourcePattern(s)))
		if err != nil {
			c.Construct.Node().AddValidation(&validation{problems: []string{
				fmt.Sprintf("cdp: bus source %s: %v", s.Name, err)}})
			continue
		}
		c.patternRule(id, "Aurum bus source "+s.Name, bus, pattern, FnIngestBus)
	}
}

// patternRule is a rule whose event pattern is any EventBridge pattern
// (the L2 EventPattern type cannot hold $or or top-level operators).
func (c *Cdp) patternRule(id, description string, bus awsevents.IEventBus, pattern []byte, fn string) awsevents.Rule {
	r := awsevents.NewRule(c.Construct, jsii.String(id), &awsevents.RuleProps{
		EventBus:    bus,
		Description: jsii.String(description),
		// Replaced below; the L2 rule refuses to be built without one.
		EventPattern: &awsevents.EventPattern{Source: jsii.Strings(events.Source)},
		Targets:      &[]awsevents.IRuleTarget{c.target(fn)},
	})
	var plain map[string]any
	if err := json.Unmarshal(pattern, &plain); err != nil || len(plain) == 0 {
		c.Construct.Node().AddValidation(&validation{problems: []string{
			fmt.Sprintf("cdp: rule %s: the event pattern is not a non-empty JSON object (%v)", id, err)}})
		return r
	}
	// Set, not overridden: an override would be merged into the
	// placeholder above.
	r.Node().DefaultChild().(awsevents.CfnRule).SetEventPattern(plain)
	return r
}

// delays lets the triggers function create one-time EventBridge Scheduler
// schedules in Aurum's group (they delete themselves once run); the
// schedules assume a role that may only invoke the triggers function.
func (c *Cdp) delays() {
	fn := c.Functions[FnTriggers]
	group := awsscheduler.NewScheduleGroup(c.Construct, jsii.String("TriggerDelays"), &awsscheduler.ScheduleGroupProps{
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	role := awsiam.NewRole(c.Construct, jsii.String("TriggerDelaysRole"), &awsiam.RoleProps{
		AssumedBy: awsiam.NewServicePrincipal(jsii.String("scheduler.amazonaws.com"), &awsiam.ServicePrincipalOpts{
			Conditions: &map[string]interface{}{
				"StringEquals": map[string]interface{}{"aws:SourceAccount": awscdk.Stack_Of(c.Construct).Account()},
			},
		}),
		Description: jsii.String("Aurum: delayed trigger firings invoke the triggers function"),
	})
	// The function itself, not its versions and aliases (GrantInvoke
	// would add <arn>:*).
	role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("InvokeTriggers"),
		Actions:   jsii.Strings("lambda:InvokeFunction"),
		Resources: jsii.Strings(*fn.FunctionArn()),
	}))
	c.SchedulerRole = role

	group.GrantWriteSchedules(c.Roles[FnTriggers])
	role.GrantPassRole(c.Roles[FnTriggers])
	suppress(c.Roles[FnTriggers], "AwsSolutions-IAM5", reasonSchedules,
		`/^Resource::arn:<AWS::Partition>:scheduler:<AWS::Region>:<AWS::AccountId>:schedule\/[A-Za-z0-9-]+\/\*$/`)

	// The function's own ARN cannot come from its attributes (a circular
	// reference); it is built from the name function() gave it.
	arn := awscdk.Stack_Of(c.Construct).FormatArn(&awscdk.ArnComponents{
		Service:      jsii.String("lambda"),
		Resource:     jsii.String("function"),
		ResourceName: jsii.String(c.triggersName),
		ArnFormat:    awscdk.ArnFormat_COLON_RESOURCE_NAME,
	})
	fn.AddEnvironment(jsii.String(EnvTriggerARN), arn, nil)
	fn.AddEnvironment(jsii.String(EnvSchedulerRole), role.RoleArn(), nil)
	fn.AddEnvironment(jsii.String(EnvScheduleGroup), group.ScheduleGroupName(), nil)
}

// actionGrants lets the triggers function read its webhooks' signing
// secrets and send to its SQS queues.
func (c *Cdp) actionGrants(cfg *config.Config) {
	var refs []config.SecretRef
	var queues []string
	for _, t := range cfg.Triggers {
		for _, a := range t.Actions {
			if a.Webhook != nil && a.Webhook.Secret != nil {
				refs = append(refs, *a.Webhook.Secret)
			}
			if a.SQS != nil {
				arn, err := queueArn(awscdk.Stack_Of(c.Construct), a.SQS.QueueURL)
				if err != nil {
					c.Construct.Node().AddValidation(&validation{problems: []string{
						fmt.Sprintf("cdp: trigger %s: %v", t.ID, err)}})
					continue
				}
				queues = append(queues, arn)
			}
		}
	}
	c.secretGrants(FnTriggers, refs)
	if len(queues) > 0 {
		c.Functions[FnTriggers].AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("SendToActionQueues"),
			Actions:   jsii.Strings("sqs:SendMessage"),
			Resources: jsii.Strings(queues...),
		}))
	}
}

// queueArn derives a queue's ARN from its URL
// (https://sqs.<region>.amazonaws.com/<account>/<name>).
func queueArn(stack awscdk.Stack, queueURL string) (string, error) {
	u, err := url.Parse(queueURL)
	if err != nil {
		return "", fmt.Errorf("queue_url: %w", err)
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	host := strings.Split(u.Hostname(), ".")
	if len(parts) != 2 || len(host) < 3 || parts[0] == "" || parts[1] == "" {
		return "", fmt.Errorf("queue_url %q: expected https://sqs.<region>.amazonaws.com/<account>/<queue>", queueURL)
	}
	region := host[1]
	if host[0] != "sqs" { // legacy <region>.queue.amazonaws.com
		region = host[0]
	}
	return fmt.Sprintf("arn:%s:sqs:%s:%s:%s", *stack.Partition(), region, parts[0], parts[1]), nil
}
