package config

import (
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// The action kinds that are also destination kinds, and their settings.
const (
	DestinationWebhook = "webhook"
	DestinationSQS     = "sqs"
	DestinationEvent   = "event"
)

var (
	destinationNamePattern = regexp.MustCompile(`^[a-z][a-z0-9_-]*$`)
	purposePattern         = regexp.MustCompile(`^[a-z][a-z0-9_-]*$`)
	// mapRoots are the first segments a field map's Aurum path may have.
	mapRoots = []string{"profile", "event", "segment", "destination"}
)

// destinations checks the destinations: names, kinds' settings, what
// each receives and the segments it syncs. Whether the kind is
// registered is checked when the destinations are built (app.Check).
func (v *validator) destinations(segments map[string]string) {
	seen := make(map[string]string)
	named := v.namedByTriggers()
	for i := range v.cfg.Destinations {
		p := indexPath("destinations", i)
		d := &v.cfg.Destinations[i]
		switch {
		case d.Name == "":
			v.errorf(p+".name", "missing; every destination needs a unique name")
		case !destinationNamePattern.MatchString(d.Name):
			v.errorf(p+".name", "%q must match %s", d.Name, destinationNamePattern)
		}
		v.unique(seen, "destination name", d.Name, p+".name")
		switch {
		case d.Kind == "":
			v.errorf(p+".kind", "missing; expected a destination kind such as hubspot, braze, klaviyo, mailchimp, salesforce, http, webhook, sqs")
		case !destinationNamePattern.MatchString(d.Kind):
			v.errorf(p+".kind", "%q must match %s", d.Kind, destinationNamePattern)
		}
		v.destinationSettings(p, d)
		if d.Events == nil && d.Profiles == nil && d.Audiences == nil && !named[d.Name] {
			v.errorf(p, "receives nothing; set events, profiles or audiences, or name it in a trigger's actions (destination: %s)", d.Name)
		}
		if d.Kind == DestinationEvent && (d.Events != nil || d.Profiles != nil || d.Audiences != nil) {
			v.errorf(p+".kind", "event destinations publish a trigger's TriggerFired and serve only triggers; remove events, profiles and audiences")
		}
		if d.Kind == DestinationEvent && len(d.Purposes) > 0 {
			v.errorf(p+".purposes", "event destinations publish on Aurum's own bus, where consent is not checked; remove purposes")
		}
		if d.Events != nil {
			v.eventForwarding(p+".events", d.Events)
		}
		if d.Profiles != nil {
			v.fieldMap(p+".profiles.map", d.Profiles.Map)
		}
		if d.Audiences != nil {
			v.audienceSync(p+".audiences", d.Audiences, segments)
		}
	}
}

func (v *validator) namedByTriggers() map[string]bool {
	named := make(map[string]bool)
	for _, t := range v.cfg.Triggers {
		for _, a := range t.Actions {
			if a.Destination != "" {
				named[a.Destination] = true
			}
		}
	}
	return named
}

func (v *validator) destinationSettings(p string, d *Destination) {
	if d.URL != "" {
		u, err := url.Parse(d.URL)
		switch {
		case err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "":
			v.errorf(p+".url", "expected an absolute http(s) URL")
		case u.User != nil:
			v.errorf(p+".url", "must not carry credentials; name them with credential")
		}
	}
	if d.Credential != nil {
		if d.Credential.SHA256 != "" {
			v.errorf(p+".credential.sha256", "a hash cannot authenticate to the tool; expected env, ssm or secrets_manager")
		} else {
			v.secretRef(p+".credential", d.Credential)
		}
	}
	if d.RateLimit != nil && d.RateLimit.PerSecond < 1 {
		v.errorf(p+".rate_limit.per_second", "%d; expected at least 1", d.RateLimit.PerSecond)
	}
	if d.BatchSize < 0 {
		v.errorf(p+".batch_size", "%d; expected 0 (the kind's limit) or more", d.BatchSize)
	}
	for j, pu := range d.Purposes {
		if !purposePattern.MatchString(pu) {
			v.errorf(indexPath(p+".purposes", j), "%q must match %s (a consent purpose such as marketing)", pu, purposePattern)
		}
	}
	switch {
	case d.Kind == DestinationWebhook && d.Webhook == nil:
		v.errorf(p+".webhook", "missing; webhook destinations need webhook: {url, secret}")
	case d.Webhook != nil && d.Kind != DestinationWebhook:
		v.errorf(p+".webhook", "applies only to destinations of kind webhook")
	case d.Webhook != nil:
		v.webhookAction(p+".webhook", d.Webhook)
	}
	switch {
	case d.Kind == DestinationSQS && d.SQS == nil:
		v.errorf(p+".sqs", "missing; sqs destinations need sqs: {queue_url}")
	case d.SQS != nil && d.Kind != DestinationSQS:
		v.errorf(p+".sqs", "applies only to destinations of kind sqs")
	case d.SQS != nil:
		v.triggerAction(p, &TriggerAction{SQS: d.SQS})
	}
}

func (v *validator) eventForwarding(p string, e *EventForwarding) {
	if e.Aurum == nil && len(e.Tracked) == 0 {
		v.errorf(p, "selects no events; set aurum (an event pattern) or tracked (event names)")
	}
	if e.Aurum != nil {
		v.pattern(p+".aurum", e.Aurum)
	}
	for j, n := range e.Tracked {
		if strings.TrimSpace(n) == "" {
			v.errorf(indexPath(p+".tracked", j), "empty; expected an event name or *")
		}
	}
	v.fieldMap(p+".map", e.Map)
}

// fieldMap checks that every Aurum path of a field map starts at a root
// the runner fills.
func (v *validator) fieldMap(p string, m map[string]string) {
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}) {
		root, _, _ := strings.Cut(m[k], ".")
		if !slices.Contains(mapRoots, root) {
			v.errorf(childPath(p, k), "%q is not an Aurum path; expected one starting with %s (such as profile.attributes.first_name)", m[k], strings.Join(mapRoots, ", "))
		}
	}
}

func (v *validator) audienceSync(p string, a *AudienceSync, segments map[string]string) {
	if len(a.Segments) == 0 {
		v.errorf(p+".segments", "empty; expected the ids of the segments synced")
	}
	for j, id := range a.Segments {
		if _, ok := segments[id]; !ok {
			v.errorf(indexPath(p+".segments", j), "%q is not a declared segment id", id)
		}
	}
	for id := range a.Names {
		if !slices.Contains(a.Segments, id) {
			v.errorf(childPath(p+".names", id), "%q is not one of the synced segments", id)
		}
	}
	if a.Schedule != "" {
		if _, err := ParseDuration(a.Schedule); err != nil {
			v.errorf(p+".schedule", "%v", err)
		}
	}
	v.fieldMap(p+".map", a.Map)
}
