package config

// Destination is a named destination: a tool Aurum keeps up to date with
// the events it forwards, the profiles it upserts and the segment
// memberships it syncs. Its kind (hubspot, braze, klaviyo, mailchimp,
// salesforce, http, webhook, sqs, event, …) is registered in
// shared/wire/app; the kind gives the defaults (field map, batch size,
// rate limit) that the keys here override.
type Destination struct {
	// Name is unique; triggers name it (destination: NAME) and the
	// delivery counts and logs carry it.
	Name string `yaml:"name" json:"name" jsonschema:"pattern=^[a-z][a-z0-9_-]*$"`
	// Kind is the destination kind (a preset such as hubspot, braze,
	// klaviyo, mailchimp, salesforce or http, or an action kind: webhook,
	// sqs, event).
	Kind string `yaml:"kind" json:"kind" jsonschema:"pattern=^[a-z][a-z0-9_-]*$"`
	// URL is the API's base URL: required for http (the endpoint called),
	// the instance URL for salesforce (https://MyDomain.my.salesforce.com),
	// the REST endpoint for braze (https://rest.iad-01.braze.com); other
	// presets default to the vendor's documented host.
	URL string `yaml:"url,omitempty" json:"url,omitempty"`
	// Credential is the API key or token: a reference to an environment
	// variable, SSM parameter or Secrets Manager secret, never the value.
	Credential *SecretRef `yaml:"credential,omitempty" json:"credential,omitempty"`
	// Options are the kind's own settings (list_id for mailchimp, object
	// and external_id_field for salesforce, revision for klaviyo, …; see
	// docs/destinations.md).
	Options map[string]string `yaml:"options,omitempty" json:"options,omitempty"`
	// RateLimit caps the requests sent per second; default: the kind's.
	RateLimit *RateLimit `yaml:"rate_limit,omitempty" json:"rate_limit,omitempty"`
	// BatchSize caps the items of one request; default and maximum: the
	// kind's documented limit.
	BatchSize int `yaml:"batch_size,omitempty" json:"batch_size,omitempty" jsonschema:"minimum=0"`
	// Purposes are the consent purposes (marketing, analytics, …) a
	// profile must have granted for anything about it to be sent; a
	// delivery without them is skipped and counted. Removals from an
	// audience are always sent.
	Purposes []string `yaml:"purposes,omitempty" json:"purposes,omitempty"`
	// Events forwards selected Aurum events or tracked events.
	Events *EventForwarding `yaml:"events,omitempty" json:"events,omitempty"`
	// Profiles upserts the profiles that changed.
	Profiles *ProfileSync `yaml:"profiles,omitempty" json:"profiles,omitempty"`
	// Audiences syncs segment memberships.
	Audiences *AudienceSync `yaml:"audiences,omitempty" json:"audiences,omitempty"`
	// Webhook configures a destination of kind webhook (the trigger
	// action's settings).
	Webhook *WebhookAction `yaml:"webhook,omitempty" json:"webhook,omitempty"`
	// SQS configures a destination of kind sqs.
	SQS *SQSAction `yaml:"sqs,omitempty" json:"sqs,omitempty"`
}

// RateLimit caps a destination's request rate.
type RateLimit struct {
	// PerSecond is the most requests started in one second.
	PerSecond int `yaml:"per_second" json:"per_second" jsonschema:"minimum=1"`
}

// EventForwarding selects the events a destination receives and maps
// them to the tool's event fields.
type EventForwarding struct {
	// Aurum is an EventBridge event pattern over Aurum's own events
	// (SegmentEntered, TriggerFired, …); each match is forwarded as an
	// event named by its detail-type.
	Aurum EventPattern `yaml:"aurum,omitempty" json:"aurum,omitempty"`
	// Tracked lists the names of tracked events forwarded ("Order
	// Completed"); "*" forwards every tracked event.
	Tracked []string `yaml:"tracked,omitempty" json:"tracked,omitempty"`
	// Map maps the tool's event property names to Aurum paths
	// (event.properties.revenue, profile.attributes.plan), over the kind's
	// defaults.
	Map map[string]string `yaml:"map,omitempty" json:"map,omitempty"`
	// Body is a body template (kind http) over .event, .profile and
	// .destination; {{json .event.name}} writes a JSON value.
	Body string `yaml:"body,omitempty" json:"body,omitempty"`
}

// ProfileSync upserts the profiles that changed.
type ProfileSync struct {
	// Attributes limits the sync to changes of these attributes (a
	// ProfileUpdated listing one of them, or a new identifier); default:
	// every change.
	Attributes []string `yaml:"attributes,omitempty" json:"attributes,omitempty"`
	// Map maps the tool's field names to Aurum paths (profile.id,
	// profile.identifiers.email, profile.attributes.first_name), over the
	// kind's defaults.
	Map map[string]string `yaml:"map,omitempty" json:"map,omitempty"`
	// Body is a body template (kind http) over .profile and .destination.
	Body string `yaml:"body,omitempty" json:"body,omitempty"`
}

// AudienceSync keeps segment memberships in the tool: a member is added
// on SegmentEntered and removed on SegmentExited; a full re-sync runs on
// demand (aurum destinations sync NAME) and every Schedule.
type AudienceSync struct {
	// Segments are the segment ids synced.
	Segments []string `yaml:"segments" json:"segments" jsonschema:"minItems=1"`
	// Names maps a segment id to the tool's audience (a Mailchimp tag, a
	// list id); default: the segment id.
	Names map[string]string `yaml:"names,omitempty" json:"names,omitempty"`
	// Schedule is the period of the full re-sync (Go duration such as 24h,
	// or days such as 7d); default: none.
	Schedule string `yaml:"schedule,omitempty" json:"schedule,omitempty"`
	// Map maps the tool's member fields to Aurum paths, over the kind's
	// defaults.
	Map map[string]string `yaml:"map,omitempty" json:"map,omitempty"`
}

// DestinationNamed returns the destination called name, or nil.
func (c *Config) DestinationNamed(name string) *Destination {
	for i := range c.Destinations {
		if c.Destinations[i].Name == name {
			return &c.Destinations[i]
		}
	}
	return nil
}

// AudienceName is the tool's audience of segment id in d: its Names
// entry, or the id.
func (a *AudienceSync) AudienceName(segmentID string) string {
	if n := a.Names[segmentID]; n != "" {
		return n
	}
	return segmentID
}
