// Package klaviyo is the klaviyo destination kind: changed profiles are
// upserted one per request with POST /api/profile-import and events sent
// with POST /api/events (unique_id set, so a re-sent event is dropped),
// JSON:API bodies, the private key as Authorization: Klaviyo-API-Key and
// the API revision pinned in the revision header.
package klaviyo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/destination"
	"github.com/aurum-cdp/aurum/shared/destination/apicall"
)

// Name is the kind's name in aurum.yaml.
const Name = "klaviyo"

// Defaults: the documented host, the revision pinned, and a rate under
// profile-import's steady limit (700/m).
const (
	DefaultURL      = "https://a.klaviyo.com"
	DefaultRevision = "2026-10-15"
	PerSecond       = 10
	mediaType       = "application/vnd.api+json"
)

// standard are the profile attributes Klaviyo names itself; other mapped
// fields go to properties.
var standard = map[string]bool{
	"email": true, "phone_number": true, "external_id": true, "first_name": true, "last_name": true,
	"organization": true, "title": true, "image": true, "locale": true,
}

// Preset is the klaviyo kind. Options: revision (default DefaultRevision).
func Preset() destination.Preset {
	return destination.Preset{
		Name:   Name,
		Limits: destination.Limits{MaxEvents: 1, MaxProfiles: 1, PerSecond: PerSecond},
		Defaults: destination.Defaults{Profile: map[string]string{
			"email":        "profile.identifiers.email",
			"phone_number": "profile.identifiers.phone",
			"external_id":  "profile.id",
			"first_name":   "profile.attributes.first_name",
			"last_name":    "profile.attributes.last_name",
		}},
		Build: func(d config.Destination, env destination.Env) (destination.Sink, error) {
			cred, err := apicall.NewCredential(d.Credential, env.Secrets)
			if err != nil {
				return destination.Sink{}, err
			}
			c := &client{api: apicall.Client{HTTP: env.HTTP, Clock: env.Clock}, cred: cred,
				base: apicall.BaseURL(d.URL, DefaultURL), revision: d.Options["revision"]}
			if c.revision == "" {
				c.revision = DefaultRevision
			}
			return destination.Sink{Profiles: c, Events: c}, nil
		},
	}
}

type client struct {
	api      apicall.Client
	cred     apicall.Credential
	base     string
	revision string
}

type resource struct {
	Data data `json:"data"`
}

type data struct {
	Type       string         `json:"type"`
	Attributes map[string]any `json:"attributes"`
}

// profileAttributes splits a member's mapped fields into Klaviyo's
// standard attributes and properties.
func profileAttributes(m destination.Member) map[string]any {
	attrs := map[string]any{}
	props := map[string]any{}
	for k, v := range m.Attributes {
		if standard[k] {
			attrs[k] = apicall.String(v)
		} else {
			props[k] = v
		}
	}
	if len(props) > 0 {
		attrs["properties"] = props
	}
	return attrs
}

func identified(attrs map[string]any) bool {
	return attrs["email"] != nil || attrs["phone_number"] != nil || attrs["external_id"] != nil
}

// SyncProfiles upserts each member with its own request (the endpoint
// takes one profile).
func (c *client) SyncProfiles(ctx context.Context, b destination.ProfileBatch) (destination.Result, error) {
	var res destination.Result
	for _, m := range b.Members {
		attrs := profileAttributes(m)
		if !identified(attrs) {
			res.Rejected = append(res.Rejected, destination.Rejected{ProfileID: m.ProfileID, Reason: "no email, phone_number or external_id"})
			continue
		}
		if err := c.post(ctx, "/api/profile-import", resource{data{Type: "profile", Attributes: attrs}}, m.ProfileID, &res); err != nil {
			return res, err
		}
	}
	return res, nil
}

// ForwardEvents creates each event with its own request.
func (c *client) ForwardEvents(ctx context.Context, b destination.EventBatch) (destination.Result, error) {
	var res destination.Result
	for _, e := range b.Events {
		who := map[string]any{} // the event's profile is named by its identifiers only
		for k, v := range profileAttributes(e.Member) {
			if k == "email" || k == "phone_number" || k == "external_id" {
				who[k] = v
			}
		}
		if !identified(who) {
			res.Rejected = append(res.Rejected, destination.Rejected{ProfileID: e.Member.ProfileID, Reason: "no email, phone_number or external_id"})
			continue
		}
		attrs := map[string]any{
			"properties": props(e.Properties),
			"time":       e.Time.UTC().Format(time.RFC3339),
			"unique_id":  e.ID,
			"metric":     resource{data{Type: "metric", Attributes: map[string]any{"name": e.Name}}},
			"profile":    resource{data{Type: "profile", Attributes: who}},
		}
		if v, ok := e.Properties["value"].(float64); ok {
			attrs["value"] = v
		}
		if err := c.post(ctx, "/api/events", resource{data{Type: "event", Attributes: attrs}}, e.Member.ProfileID, &res); err != nil {
			return res, err
		}
	}
	return res, nil
}

func props(p map[string]any) map[string]any {
	if p == nil {
		return map[string]any{}
	}
	return p
}

// errorsAnswer is Klaviyo's JSON:API error document.
type errorsAnswer struct {
	Errors []struct {
		Code  string `json:"code"`
		Title string `json:"title"`
	} `json:"errors"`
}

// post sends one resource; a 4xx other than 401, 403 and 429 rejects
// the item (Klaviyo names the problem in errors[].code).
func (c *client) post(ctx context.Context, path string, body resource, profileID string, res *destination.Result) error {
	key, err := c.cred.Get(ctx)
	if err != nil {
		return err
	}
	enc, err := json.Marshal(body)
	if err != nil {
		return err
	}
	_, err = c.api.Do(ctx, apicall.Request{Method: http.MethodPost, URL: c.base + path, Body: enc, Header: http.Header{
		"Authorization": {"Klaviyo-API-Key " + key}, "Revision": {c.revision},
		"Content-Type": {mediaType}, "Accept": {mediaType},
	}})
	var se *apicall.StatusError
	switch {
	case err == nil:
		res.Sent++
		return nil
	case errors.As(err, &se) && se.Status != http.StatusUnauthorized && se.Status != http.StatusForbidden:
		var ans errorsAnswer
		_ = json.Unmarshal(se.Body, &ans)
		reason := fmt.Sprintf("HTTP %d", se.Status)
		if len(ans.Errors) > 0 {
			reason += " " + ans.Errors[0].Code
		}
		res.Rejected = append(res.Rejected, destination.Rejected{ProfileID: profileID, Reason: reason})
		return nil
	}
	return fmt.Errorf("klaviyo: %s: %w", path, err)
}
