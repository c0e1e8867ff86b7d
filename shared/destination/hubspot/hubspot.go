// Package hubspot is the hubspot destination kind: changed profiles are
// upserted as contacts by e-mail (POST /crm/v3/objects/contacts/batch/upsert,
// at most 100 inputs per request, idProperty email) and events are sent
// as custom events (POST /events/v3/send/batch, at most 500 per request).
// The credential is a private app's access token (Authorization: Bearer).
package hubspot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/destination"
	"github.com/aurum-cdp/aurum/shared/destination/apicall"
)

// Name is the kind's name in aurum.yaml.
const Name = "hubspot"

// Documented limits and the default host.
const (
	DefaultURL = "https://api.hubapi.com"
	MaxUpsert  = 100
	MaxEvents  = 500
	// PerSecond: private apps get 100 requests per 10 seconds on the
	// lowest tiers.
	PerSecond = 10
)

// Preset is the hubspot kind. Options: id_property (default email),
// event_prefix (the custom events' internal name prefix, such as
// pe1234567_; required to forward events).
func Preset() destination.Preset {
	return destination.Preset{
		Name:   Name,
		Limits: destination.Limits{MaxEvents: MaxEvents, MaxProfiles: MaxUpsert, PerSecond: PerSecond},
		Defaults: destination.Defaults{Profile: map[string]string{
			"email":     "profile.identifiers.email",
			"firstname": "profile.attributes.first_name",
			"lastname":  "profile.attributes.last_name",
			"phone":     "profile.identifiers.phone",
		}},
		Build: build,
	}
}

func build(d config.Destination, env destination.Env) (destination.Sink, error) {
	cred, err := apicall.NewCredential(d.Credential, env.Secrets)
	if err != nil {
		return destination.Sink{}, err
	}
	c := &client{
		api: apicall.Client{HTTP: env.HTTP, Clock: env.Clock}, cred: cred,
		base: apicall.BaseURL(d.URL, DefaultURL), idProp: d.Options["id_property"], prefix: d.Options["event_prefix"],
	}
	if c.idProp == "" {
		c.idProp = "email"
	}
	if d.Events != nil && c.prefix == "" {
		return destination.Sink{}, fmt.Errorf("options.event_prefix: missing; HubSpot custom events are named <prefix><name>, such as pe1234567_order_completed")
	}
	return destination.Sink{Profiles: c, Events: c}, nil
}

type client struct {
	api    apicall.Client
	cred   apicall.Credential
	base   string
	idProp string
	prefix string
}

func (c *client) header(ctx context.Context) (http.Header, error) {
	tok, err := c.cred.Get(ctx)
	if err != nil {
		return nil, err
	}
	return http.Header{"Authorization": {"Bearer " + tok}}, nil
}

type input struct {
	IDProperty string            `json:"idProperty"`
	ID         string            `json:"id"`
	Properties map[string]string `json:"properties"`
}

// batchAnswer is the documented answer of batch endpoints (200, 207).
type batchAnswer struct {
	Status  string `json:"status"`
	Results []struct {
		ID         string            `json:"id"`
		Properties map[string]string `json:"properties"`
	} `json:"results"`
	NumErrors int         `json:"numErrors"`
	Errors    []itemError `json:"errors"`
}

type itemError struct {
	Status   string              `json:"status"`
	Category string              `json:"category"`
	Context  map[string][]string `json:"context"`
}

// SyncProfiles upserts the members as contacts, one request of at most
// MaxUpsert inputs. Members without the id property are rejected; a 207
// answer's errors reject the inputs their context names.
func (c *client) SyncProfiles(ctx context.Context, b destination.ProfileBatch) (destination.Result, error) {
	var res destination.Result
	byID := map[string]string{}
	var inputs []input
	for _, m := range b.Members {
		id := strings.ToLower(apicall.String(m.Attributes[c.idProp]))
		if id == "" {
			res.Rejected = append(res.Rejected, destination.Rejected{ProfileID: m.ProfileID, Reason: "no " + c.idProp})
			continue
		}
		props := map[string]string{}
		for k, v := range m.Attributes {
			props[k] = apicall.String(v)
		}
		if _, dup := byID[id]; dup { // one input per contact: the last wins
			for i := range inputs {
				if inputs[i].ID == id {
					inputs[i].Properties = props
				}
			}
			continue
		}
		byID[id] = m.ProfileID
		inputs = append(inputs, input{IDProperty: c.idProp, ID: id, Properties: props})
	}
	if len(inputs) > MaxUpsert {
		return res, fmt.Errorf("hubspot: %d inputs; the batch upsert takes at most %d", len(inputs), MaxUpsert)
	}
	if len(inputs) == 0 {
		return res, nil
	}
	h, err := c.header(ctx)
	if err != nil {
		return res, err
	}
	resp, err := c.api.Do(ctx, apicall.Request{Method: http.MethodPost, URL: c.base + "/crm/v3/objects/contacts/batch/upsert",
		Header: h, Body: map[string]any{"inputs": inputs}})
	if err != nil {
		return rejectAll(res, err, inputs, byID)
	}
	var ans batchAnswer
	if err := json.Unmarshal(resp.Body, &ans); err != nil {
		return res, fmt.Errorf("hubspot: batch upsert answer: %w", err)
	}
	failed := map[string]bool{}
	for _, e := range ans.Errors {
		for _, id := range e.Context["ids"] {
			if pid, ok := byID[strings.ToLower(id)]; ok && !failed[pid] {
				failed[pid] = true
				res.Rejected = append(res.Rejected, destination.Rejected{ProfileID: pid, Reason: e.Category})
			}
		}
	}
	res.Sent = len(inputs) - len(failed)
	return res, nil
}

// rejectAll turns a 4xx of the whole batch into rejected inputs (the
// batch will not succeed as it is); other errors are returned.
func rejectAll(res destination.Result, err error, inputs []input, byID map[string]string) (destination.Result, error) {
	var se *apicall.StatusError
	if !errors.As(err, &se) || se.Status == http.StatusUnauthorized || se.Status == http.StatusForbidden {
		return res, fmt.Errorf("hubspot: %w", err)
	}
	var body struct {
		Category string `json:"category"`
	}
	_ = json.Unmarshal(se.Body, &body)
	reason := fmt.Sprintf("HTTP %d %s", se.Status, body.Category)
	for _, in := range inputs {
		res.Rejected = append(res.Rejected, destination.Rejected{ProfileID: byID[in.ID], Reason: strings.TrimSpace(reason)})
	}
	return res, nil
}

type eventInput struct {
	EventName  string            `json:"eventName"`
	Email      string            `json:"email"`
	OccurredAt string            `json:"occurredAt"`
	UUID       string            `json:"uuid"`
	Properties map[string]string `json:"properties,omitempty"`
}

// ForwardEvents sends the events as custom events of the contact with
// the member's e-mail; the event id (as a UUID) lets HubSpot drop a
// re-sent occurrence.
func (c *client) ForwardEvents(ctx context.Context, b destination.EventBatch) (destination.Result, error) {
	var res destination.Result
	var inputs []eventInput
	var pids []string
	for _, e := range b.Events {
		email := apicall.String(e.Member.Attributes["email"])
		if email == "" {
			res.Rejected = append(res.Rejected, destination.Rejected{ProfileID: e.Member.ProfileID, Reason: "no email"})
			continue
		}
		props := map[string]string{}
		for k, v := range e.Properties {
			props[k] = apicall.String(v)
		}
		inputs = append(inputs, eventInput{EventName: c.prefix + snake(e.Name), Email: email,
			OccurredAt: e.Time.UTC().Format(time.RFC3339), UUID: uuid(e.ID), Properties: props})
		pids = append(pids, e.Member.ProfileID)
	}
	if len(inputs) > MaxEvents {
		return res, fmt.Errorf("hubspot: %d events; the batch send takes at most %d", len(inputs), MaxEvents)
	}
	if len(inputs) == 0 {
		return res, nil
	}
	h, err := c.header(ctx)
	if err != nil {
		return res, err
	}
	if _, err := c.api.Do(ctx, apicall.Request{Method: http.MethodPost, URL: c.base + "/events/v3/send/batch",
		Header: h, Body: map[string]any{"inputs": inputs}}); err != nil {
		var se *apicall.StatusError
		if errors.As(err, &se) && se.Status != http.StatusUnauthorized && se.Status != http.StatusForbidden {
			for _, pid := range pids {
				res.Rejected = append(res.Rejected, destination.Rejected{ProfileID: pid, Reason: fmt.Sprintf("HTTP %d", se.Status)})
			}
			return res, nil
		}
		return res, fmt.Errorf("hubspot: %w", err)
	}
	res.Sent = len(inputs)
	return res, nil
}

// snake turns an event name into a custom event's internal name part:
// "Order Completed" → order_completed.
func snake(s string) string {
	var b strings.Builder
	under := false
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			if under && b.Len() > 0 {
				b.WriteByte('_')
			}
			under = false
			b.WriteRune(r)
			continue
		}
		under = true
	}
	return b.String()
}

// uuid formats a 32-hex-digit id as a UUID.
func uuid(id string) string {
	if len(id) != 32 {
		return id
	}
	return id[:8] + "-" + id[8:12] + "-" + id[12:16] + "-" + id[16:20] + "-" + id[20:]
}
