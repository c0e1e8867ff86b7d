package cdp

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventschemas"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3notifications"
	"github.com/aws/jsii-runtime-go"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/model/events"
)

// Target retry policy of every rule: EventBridge retries delivery to the
// function this often within this age, then parks the event in the
// function's dead-letter queue.
const (
	targetRetryAttempts = 8
	targetMaxEventHours = 6
)

// events creates the bus, its archive and its schema registry.
func (c *Cdp) events(p *CdpProps) {
	c.Bus = awsevents.NewEventBus(c.Construct, jsii.String("Bus"), &awsevents.EventBusProps{
		Description: jsii.String("Aurum: published profile, segment and trigger events, and bus sources"),
	})
	// Everything that reaches the bus is archived, so any consumer (and
	// ingest-bus, which is idempotent on event ids) can be replayed.
	c.Bus.Archive(jsii.String("Archive"), &awsevents.BaseArchiveProps{
		Description: jsii.String("Aurum bus archive for replay"),
		EventPattern: &awsevents.EventPattern{
			Account: jsii.Strings(*awscdk.Stack_Of(c.Construct).Account()),
		},
		Retention: awscdk.Duration_Days(jsii.Number(p.ArchiveDays)),
	})

	registry := awseventschemas.NewCfnRegistry(c.Construct, jsii.String("Schemas"), &awseventschemas.CfnRegistryProps{
		Description: jsii.String("JSON Schemas of the events Aurum publishes (source aurum)"),
	})
	if p.SchemaDir == "" {
		return
	}
	schemas, err := LoadSchemas(p.SchemaDir)
	if err != nil {
		c.Construct.Node().AddValidation(&validation{problems: []string{err.Error()}})
		return
	}
	for _, s := range schemas {
		content, newer, err := EventSchema(s.Name, []byte(s.Content))
		if err != nil {
			c.Construct.Node().AddValidation(&validation{problems: []string{err.Error()}})
			continue
		}
		schema := awseventschemas.NewCfnSchema(registry, jsii.String("Schema-"+constructID(s.Name)), &awseventschemas.CfnSchemaProps{
			RegistryName: registry.AttrRegistryName(),
			SchemaName:   jsii.String(events.Source + "@" + s.Name),
			Type:         jsii.String("JSONSchemaDraft4"),
			Content:      jsii.String(content),
			Description:  jsii.String("Aurum event " + s.Name),
		})
		if len(newer) > 0 {
			awscdk.Annotations_Of(schema).AddWarningV2(jsii.String("aurum:schema-draft"), jsii.String(fmt.Sprintf(
				"event schema %s uses %v, which JSON Schema draft 4 (the registry's format) does not define; the registry ignores them",
				s.Name, newer)), nil)
		}
	}
}

// newerKeywords are JSON Schema keywords that draft 4 lacks.
var newerKeywords = []string{"$defs", "const", "contains", "propertyNames", "if", "then", "else",
	"dependentRequired", "dependentSchemas", "prefixItems", "unevaluatedProperties", "unevaluatedItems"}

// EventSchema turns the JSON Schema of an event's detail (as events/schemas
// holds them) into the draft 4 schema of the whole EventBridge event that
// the schema registry expects: source aurum, detail-type name, and the
// detail schema under properties.detail. It also lists the keywords of the
// detail schema that draft 4 does not define.
func EventSchema(name string, detail []byte) (content string, newer []string, err error) {
	var d map[string]any
	if err := json.Unmarshal(detail, &d); err != nil {
		return "", nil, fmt.Errorf("cdp: event schema %s is not a JSON object: %w", name, err)
	}
	delete(d, "$schema")
	delete(d, "$id")
	found := map[string]bool{}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if slices.Contains(newerKeywords, k) {
					found[k] = true
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(d)
	for _, k := range newerKeywords {
		if found[k] {
			newer = append(newer, k)
		}
	}
	str := map[string]any{"type": "string"}
	doc := map[string]any{
		"$schema":     "http://json-schema.org/draft-04/schema#",
		"title":       name,
		"description": fmt.Sprintf("EventBridge event %s from source %s; the detail is versioned.", name, events.Source),
		"type":        "object",
		"required":    []string{"source", "detail-type", "detail"},
		"properties": map[string]any{
			"version":     str,
			"id":          str,
			"account":     str,
			"region":      str,
			"time":        map[string]any{"type": "string", "format": "date-time"},
			"resources":   map[string]any{"type": "array", "items": str},
			"source":      map[string]any{"type": "string", "enum": []string{events.Source}},
			"detail-type": map[string]any{"type": "string", "enum": []string{name}},
			"detail":      d,
		},
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return "", nil, fmt.Errorf("cdp: event schema %s: %w", name, err)
	}
	return string(b), newer, nil
}

// Schema is the JSON Schema of one published event.
type Schema struct {
	// Name is the file name without .json.
	Name    string
	Content string
}

// LoadSchemas reads the *.json files of dir, sorted by name. A dir that
// does not exist has no schemas.
func LoadSchemas(dir string) ([]Schema, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, fmt.Errorf("cdp: list event schemas in %s: %w", dir, err)
	}
	sort.Strings(files)
	out := make([]Schema, 0, len(files))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("cdp: read event schema: %w", err)
		}
		out = append(out, Schema{Name: strings.TrimSuffix(filepath.Base(f), ".json"), Content: string(b)})
	}
	return out, nil
}

// rules connects the bus to the functions: the rules of every trigger to
// triggers, one rule per bus source to ingest-bus, and the one-minute
// schedule to scheduler. Every target retries and then dead-letters to the
// function's queue. Segments need no rule: profile changes re-evaluate
// them inline in the pipeline's commit, time in scheduler, and
// functions/segments is invoked directly for backfills.
func (c *Cdp) rules(p *CdpProps) {
	c.triggerRules(p)
	c.busSourceRules(p)
	c.destinations(p)

	// Scheduled rules live on the account's default bus.
	awsevents.NewRule(c.Construct, jsii.String("SchedulerEveryMinute"), &awsevents.RuleProps{
		Description: jsii.String("Sweep due segment re-evaluations every minute"),
		Schedule:    awsevents.Schedule_Rate(awscdk.Duration_Minutes(jsii.Number(1))),
		Targets:     &[]awsevents.IRuleTarget{c.target(FnScheduler)},
	})
}

func (c *Cdp) target(fn string) awsevents.IRuleTarget {
	return awseventstargets.NewLambdaFunction(c.Functions[fn], &awseventstargets.LambdaFunctionProps{
		DeadLetterQueue: c.DeadLetters[fn],
		RetryAttempts:   jsii.Number(targetRetryAttempts),
		MaxEventAge:     awscdk.Duration_Hours(jsii.Number(targetMaxEventHours)),
	})
}

// sources subscribes ingest-s3 to sources/<name>/ of every file source.
func (c *Cdp) sources(p *CdpProps) {
	fn := c.Functions[FnIngestS3]
	for _, s := range p.Config.Sources {
		if s.Kind != config.KindFile {
			continue
		}
		c.Bucket.AddEventNotification(awss3.EventType_OBJECT_CREATED, awss3notifications.NewLambdaDestination(fn),
			&awss3.NotificationKeyFilter{Prefix: jsii.String(SourcesPrefix + s.Name + "/")})
	}
}

// constructID makes s usable in a construct id, whose separator is '/'.
func constructID(s string) string { return strings.ReplaceAll(s, "/", "-") }
