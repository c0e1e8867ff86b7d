// Package braze is the braze destination kind: POST /users/track on the
// workspace's REST endpoint (url), with the REST API key as a Bearer
// token. Changed profiles become attribute objects and events event
// objects, at most 75 of each per request, keyed by external_id.
package braze

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
const Name = "braze"

// Documented limits: 75 attributes and 75 events per request; 3,000
// requests per three seconds per workspace (we default far below).
const (
	MaxPerArray = 75
	PerSecond   = 100
)

// Preset is the braze kind; url (the REST endpoint, such as
// https://rest.iad-01.braze.com) and credential are required.
func Preset() destination.Preset {
	return destination.Preset{
		Name:   Name,
		Limits: destination.Limits{MaxEvents: MaxPerArray, MaxProfiles: MaxPerArray, PerSecond: PerSecond},
		Defaults: destination.Defaults{Profile: map[string]string{
			"external_id": "profile.id",
			"email":       "profile.identifiers.email",
			"phone":       "profile.identifiers.phone",
			"first_name":  "profile.attributes.first_name",
			"last_name":   "profile.attributes.last_name",
		}},
		Build: func(d config.Destination, env destination.Env) (destination.Sink, error) {
			if d.URL == "" {
				return destination.Sink{}, fmt.Errorf("url: missing; expected the workspace's REST endpoint, such as https://rest.iad-01.braze.com")
			}
			cred, err := apicall.NewCredential(d.Credential, env.Secrets)
			if err != nil {
				return destination.Sink{}, err
			}
			c := &client{api: apicall.Client{HTTP: env.HTTP, Clock: env.Clock}, cred: cred, base: apicall.BaseURL(d.URL, "")}
			return destination.Sink{Profiles: c, Events: c}, nil
		},
	}
}

type client struct {
	api  apicall.Client
	cred apicall.Credential
	base string
}

type track struct {
	Attributes []map[string]any `json:"attributes,omitempty"`
	Events     []event          `json:"events,omitempty"`
}

type event struct {
	ExternalID string         `json:"external_id"`
	Name       string         `json:"name"`
	Time       string         `json:"time"`
	Properties map[string]any `json:"properties,omitempty"`
}

// answer is /users/track's documented answer.
type answer struct {
	Message string `json:"message"`
	Errors  []struct {
		Type       string `json:"type"`
		InputArray string `json:"input_array"`
		Index      int    `json:"index"`
	} `json:"errors"`
}

// SyncProfiles sends the members as attribute objects.
func (c *client) SyncProfiles(ctx context.Context, b destination.ProfileBatch) (destination.Result, error) {
	var res destination.Result
	var t track
	var pids []string
	for _, m := range b.Members {
		if apicall.String(m.Attributes["external_id"]) == "" {
			res.Rejected = append(res.Rejected, destination.Rejected{ProfileID: m.ProfileID, Reason: "no external_id"})
			continue
		}
		t.Attributes = append(t.Attributes, m.Attributes)
		pids = append(pids, m.ProfileID)
	}
	return c.send(ctx, t, pids, "attributes", res)
}

// ForwardEvents sends the events as event objects.
func (c *client) ForwardEvents(ctx context.Context, b destination.EventBatch) (destination.Result, error) {
	var res destination.Result
	var t track
	var pids []string
	for _, e := range b.Events {
		ext := apicall.String(e.Member.Attributes["external_id"])
		if ext == "" {
			res.Rejected = append(res.Rejected, destination.Rejected{ProfileID: e.Member.ProfileID, Reason: "no external_id"})
			continue
		}
		t.Events = append(t.Events, event{ExternalID: ext, Name: e.Name, Time: e.Time.UTC().Format(time.RFC3339), Properties: e.Properties})
		pids = append(pids, e.Member.ProfileID)
	}
	return c.send(ctx, t, pids, "events", res)
}

// send posts one /users/track request; pids are the profiles of the
// array's objects, in order, so the answer's indexed errors reject them.
func (c *client) send(ctx context.Context, t track, pids []string, array string, res destination.Result) (destination.Result, error) {
	if len(pids) == 0 {
		return res, nil
	}
	if len(pids) > MaxPerArray {
		return res, fmt.Errorf("braze: %d %s; /users/track takes at most %d", len(pids), array, MaxPerArray)
	}
	key, err := c.cred.Get(ctx)
	if err != nil {
		return res, err
	}
	resp, err := c.api.Do(ctx, apicall.Request{Method: http.MethodPost, URL: c.base + "/users/track",
		Header: http.Header{"Authorization": {"Bearer " + key}}, Body: t})
	var se *apicall.StatusError
	switch {
	case errors.As(err, &se) && se.Status != http.StatusUnauthorized && se.Status != http.StatusForbidden:
		resp = se.Response
	case err != nil:
		return res, fmt.Errorf("braze: %w", err)
	}
	var ans answer
	_ = json.Unmarshal(resp.Body, &ans)
	reasons := map[int]string{}
	for _, e := range ans.Errors {
		if e.InputArray == array && e.Index >= 0 && e.Index < len(pids) {
			if _, dup := reasons[e.Index]; !dup {
				reasons[e.Index] = e.Type
			}
		}
	}
	for i, pid := range pids {
		reason, named := reasons[i]
		switch {
		case se != nil && !named: // a fatal error refuses the whole request
			reason = fmt.Sprintf("HTTP %d: request refused", se.Status)
		case !named:
			res.Sent++
			continue
		}
		res.Rejected = append(res.Rejected, destination.Rejected{ProfileID: pid, Reason: reason})
	}
	return res, nil
}
