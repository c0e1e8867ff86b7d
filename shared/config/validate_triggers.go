package config

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aurum-cdp/aurum/shared/model/events"
	"github.com/aurum-cdp/aurum/shared/pattern"
)

// Defaults of trigger actions.
const (
	DefaultSignatureHeader = "X-Aurum-Signature"
	DefaultTimestampHeader = "X-Aurum-Timestamp"
	DefaultWebhookTimeout  = 10 * time.Second
)

var webhookMethods = []string{http.MethodPost, http.MethodPut, http.MethodPatch}

// ParseDuration parses a Go duration (90s, 30m, 1h30m) or a whole number
// of days (7d). The result must be positive.
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n <= 0 || n > 3650 {
			return 0, fmt.Errorf("%q: expected a whole number of days between 1 and 3650, such as 7d", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q: expected a duration such as 30m, 1h or 7d", s)
	}
	if d <= 0 {
		return 0, fmt.Errorf("%q: expected a positive duration", s)
	}
	return d, nil
}

// Compile compiles the pattern with the EventBridge matcher.
func (p EventPattern) Compile() (*pattern.Pattern, error) {
	b, err := json.Marshal(map[string]any(p))
	if err != nil {
		return nil, fmt.Errorf("event pattern: %w", err)
	}
	return pattern.Parse(b)
}

// JSON returns the pattern as EventBridge JSON.
func (p EventPattern) JSON() ([]byte, error) {
	return json.Marshal(map[string]any(p))
}

// BusSource returns the EventBridge source a bus source ingests: its
// bus.source, or its name.
func (s *Source) BusSource() string {
	if s.Bus != nil && s.Bus.Source != "" {
		return s.Bus.Source
	}
	return s.Name
}

func (v *validator) triggers(segments map[string]string) {
	seen := make(map[string]string)
	for i := range v.cfg.Triggers {
		p := indexPath("triggers", i)
		tr := &v.cfg.Triggers[i]
		if tr.ID == "" {
			v.errorf(p+".id", "missing; every trigger needs a unique id")
		}
		v.unique(seen, "trigger id", tr.ID, p+".id")
		v.triggerWhen(p+".when", &tr.When, segments)
		if tr.If != "" && strings.TrimSpace(tr.If) == "" {
			v.errorf(p+".if", "blank; expected a CEL condition or no if")
		}
		if tr.Delay != "" {
			if _, err := ParseDuration(tr.Delay); err != nil {
				v.errorf(p+".delay", "%v", err)
			}
		}
		if tr.Unless != nil {
			if tr.Delay == "" {
				v.errorf(p+".unless", "needs delay: unless cancels a firing while it waits")
			}
			v.pattern(p+".unless", tr.Unless)
		}
		if c := tr.Cap; c != nil {
			if c.Max < 1 {
				v.errorf(p+".cap.max", "%d; expected at least 1", c.Max)
			}
			if c.Per == "" {
				v.errorf(p+".cap.per", "missing; expected the window, such as 24h or 7d")
			} else if _, err := ParseDuration(c.Per); err != nil {
				v.errorf(p+".cap.per", "%v", err)
			}
		}
		if len(tr.Actions) == 0 {
			v.errorf(p+".actions", "missing; expected at least one of webhook, event, sqs, destination")
		}
		for j := range tr.Actions {
			v.triggerAction(indexPath(p+".actions", j), &tr.Actions[j])
		}
	}
}

func (v *validator) triggerWhen(p string, w *TriggerWhen, segments map[string]string) {
	var set []string
	if w.SegmentEntered != "" {
		set = append(set, "segment_entered")
	}
	if w.SegmentExited != "" {
		set = append(set, "segment_exited")
	}
	if w.Event != nil {
		set = append(set, "event")
	}
	if w.AttributeChanged != "" {
		set = append(set, "attribute_changed")
	}
	if len(set) != 1 {
		got := "none"
		if len(set) > 1 {
			got = strings.Join(set, " and ")
		}
		v.errorf(p, "has %s; expected exactly one of segment_entered, segment_exited, event, attribute_changed", got)
		return
	}
	for _, kv := range [...]struct{ key, id string }{
		{"segment_entered", w.SegmentEntered}, {"segment_exited", w.SegmentExited},
	} {
		if kv.id == "" {
			continue
		}
		if _, ok := segments[kv.id]; !ok {
			v.errorf(p+"."+kv.key, "%q is not a declared segment id", kv.id)
		}
	}
	if w.Event != nil {
		v.pattern(p+".event", w.Event)
	}
}

// pattern checks an event pattern with the EventBridge matcher.
func (v *validator) pattern(p string, pat EventPattern) {
	if len(pat) == 0 {
		v.errorf(p, "empty; expected an EventBridge event pattern such as {detail-type: [ProfileUpdated]}")
		return
	}
	if _, err := pat.Compile(); err != nil {
		v.errorf(p, "%v", err)
	}
}

func (v *validator) triggerAction(p string, a *TriggerAction) {
	n := 0
	for _, set := range []bool{a.Webhook != nil, a.Event != nil, a.SQS != nil, a.Destination != ""} {
		if set {
			n++
		}
	}
	if n != 1 {
		v.errorf(p, "has %d actions; expected exactly one of webhook, event, sqs, destination", n)
		return
	}
	switch {
	case a.Destination != "":
		if v.cfg.DestinationNamed(a.Destination) == nil {
			v.errorf(p+".destination", "%q is not a destination declared under destinations", a.Destination)
		}
	case a.Webhook != nil:
		v.webhookAction(p+".webhook", a.Webhook)
	case a.SQS != nil:
		u, err := url.Parse(a.SQS.QueueURL)
		if a.SQS.QueueURL == "" || err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			v.errorf(p+".sqs.queue_url", "expected the queue's URL, such as https://sqs.eu-west-1.amazonaws.com/123456789012/marketing")
		}
	}
}

func (v *validator) webhookAction(p string, w *WebhookAction) {
	u, err := url.Parse(w.URL)
	if w.URL == "" || err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		v.errorf(p+".url", "expected an absolute http(s) URL")
	} else if u.User != nil {
		v.errorf(p+".url", "must not carry credentials; the signature authenticates the request")
	}
	if w.Method != "" && !slices.Contains(webhookMethods, w.Method) {
		v.errorf(p+".method", "%q is not one of %s", w.Method, strings.Join(webhookMethods, ", "))
	}
	switch {
	case w.Secret == nil:
		v.errorf(p+".secret", "missing; webhooks are signed: name the signing key with env, ssm or secrets_manager")
	case w.Secret.SHA256 != "":
		v.errorf(p+".secret.sha256", "cannot sign with a hash; expected env, ssm or secrets_manager")
	default:
		v.secretRef(p+".secret", w.Secret)
	}
	sig, ts := DefaultSignatureHeader, DefaultTimestampHeader
	for _, h := range []struct{ key, name string }{{"signature_header", w.SignatureHeader}, {"timestamp_header", w.TimestampHeader}} {
		if h.name != "" && !validHeaderName(h.name) {
			v.errorf(p+"."+h.key, "%q is not a valid header name", h.name)
		}
	}
	if w.SignatureHeader != "" {
		sig = w.SignatureHeader
	}
	if w.TimestampHeader != "" {
		ts = w.TimestampHeader
	}
	if strings.EqualFold(sig, ts) {
		v.errorf(p+".timestamp_header", "%q is also the signature header", ts)
	}
	for _, name := range slices.Sorted(func(yield func(string) bool) {
		for k := range w.Headers {
			if !yield(k) {
				return
			}
		}
	}) {
		hp := childPath(p+".headers", name)
		switch {
		case !validHeaderName(name):
			v.errorf(hp, "%q is not a valid header name", name)
		case strings.EqualFold(name, sig), strings.EqualFold(name, ts):
			v.errorf(hp, "%q is set by Aurum (signature and timestamp)", name)
		case strings.EqualFold(name, "Authorization"):
			v.errorf(hp, "credentials do not belong in aurum.yaml; the signature authenticates the request")
		}
	}
	if w.Timeout != "" {
		if _, err := ParseDuration(w.Timeout); err != nil {
			v.errorf(p+".timeout", "%v", err)
		}
	}
}

// validHeaderName reports whether s is an HTTP header field name (token).
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r > 0x7e || r <= ' ' || strings.ContainsRune(`"(),/:;<=>?@[\]{}`, r) {
			return false
		}
	}
	return true
}

func (v *validator) subscribers() {
	seen := make(map[string]string)
	for i := range v.cfg.Subscribers {
		p := indexPath("subscribers", i)
		s := &v.cfg.Subscribers[i]
		if s.Name == "" {
			v.errorf(p+".name", "missing; every subscriber needs a unique name")
		}
		v.unique(seen, "subscriber name", s.Name, p+".name")
		if s.Pattern != nil {
			v.pattern(p+".pattern", s.Pattern)
		}
		n := 0
		for _, set := range []bool{s.Webhook != "", s.Print, s.Log} {
			if set {
				n++
			}
		}
		if n != 1 {
			v.errorf(p, "has %d outputs; expected exactly one of webhook, print, log", n)
			continue
		}
		if s.Webhook != "" {
			u, err := url.Parse(s.Webhook)
			if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
				v.errorf(p+".webhook", "expected an absolute http(s) URL")
			}
		}
	}
}

// busSources checks the bus settings of sources: only bus sources have
// them, and no event may be claimed by two bus sources.
func (v *validator) busSources() {
	type claim struct {
		path  string
		types []string
	}
	claims := make(map[string][]claim)
	for i := range v.cfg.Sources {
		src := &v.cfg.Sources[i]
		p := indexPath("sources", i)
		if src.Bus != nil && src.Kind != KindBus {
			v.errorf(p+".bus", "applies only to bus sources")
			continue
		}
		if src.Kind != KindBus {
			continue
		}
		var types []string
		if src.Bus != nil {
			if src.Bus.Source == "" {
				v.errorf(p+".bus.source", "missing; expected the events' source, such as com.shop")
			}
			for j, dt := range src.Bus.DetailTypes {
				if strings.TrimSpace(dt) == "" {
					v.errorf(indexPath(p+".bus.detail_types", j), "empty; expected a detail-type")
				}
			}
			types = src.Bus.DetailTypes
		}
		key := src.BusSource()
		for _, c := range claims[key] {
			if len(c.types) == 0 || len(types) == 0 || slices.ContainsFunc(types, func(t string) bool { return slices.Contains(c.types, t) }) {
				v.errorf(p+".bus", "events of source %q are also ingested by the bus source at %s; expected disjoint detail_types", key, v.where(c.path))
				break
			}
		}
		claims[key] = append(claims[key], claim{path: p, types: types})
	}
}

// EffectivePattern is the subscriber's pattern, or, without one, the
// documented default: every Aurum event ({"source": ["aurum"]}).
func (s Subscriber) EffectivePattern() EventPattern {
	if len(s.Pattern) == 0 {
		return EventPattern{"source": []any{events.Source}}
	}
	return s.Pattern
}
