// Package httpjson is the http destination kind: any JSON API. Without
// a body template each batch is one request whose body is the
// destination.Batch (op, and events, profiles or audience); with one
// (events.body, profiles.body) each item is its own request, the
// template rendered over .event or .profile and .destination. The batch
// or item id is sent as Idempotency-Key; the credential, when set, as
// Authorization: Bearer (or the header and scheme of the options).
package httpjson

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/destination"
	"github.com/aurum-cdp/aurum/shared/destination/apicall"
	"github.com/aurum-cdp/aurum/shared/model/events"
)

// Name is the kind's name in aurum.yaml.
const Name = "http"

// MaxBatch is the default batch size of every operation.
const MaxBatch = 100

var methods = []string{http.MethodPost, http.MethodPut, http.MethodPatch}

// Preset is the http kind. Options: method (POST, PUT or PATCH; default
// POST), auth_header (default Authorization), auth_scheme (default
// Bearer; "none" sends the credential alone), header.<Name> (extra
// headers, never credentials).
func Preset() destination.Preset {
	return destination.Preset{
		Name:   Name,
		Limits: destination.Limits{MaxEvents: MaxBatch, MaxProfiles: MaxBatch, MaxMembers: MaxBatch},
		Defaults: destination.Defaults{Profile: map[string]string{
			"id": "profile.id", "email": "profile.identifiers.email", "attributes": "profile.attributes",
		}},
		Build: build,
	}
}

func build(d config.Destination, env destination.Env) (destination.Sink, error) {
	if d.URL == "" {
		return destination.Sink{}, fmt.Errorf("url: missing; http destinations call this URL")
	}
	c := &client{api: apicall.Client{HTTP: env.HTTP, Clock: env.Clock}, url: d.URL, name: d.Name,
		method: d.Options["method"], header: http.Header{}, authHeader: d.Options["auth_header"], scheme: d.Options["auth_scheme"]}
	if c.method == "" {
		c.method = http.MethodPost
	}
	if !slices.Contains(methods, c.method) {
		return destination.Sink{}, fmt.Errorf("options.method: %q is not one of %s", c.method, strings.Join(methods, ", "))
	}
	if c.authHeader == "" {
		c.authHeader = "Authorization"
	}
	if c.scheme == "" {
		c.scheme = "Bearer"
	}
	for k, v := range d.Options {
		if name, ok := strings.CutPrefix(k, "header."); ok {
			if strings.EqualFold(name, c.authHeader) || strings.EqualFold(name, "Authorization") {
				return destination.Sink{}, fmt.Errorf("options.%s: credentials do not belong in aurum.yaml; name them with credential", k)
			}
			c.header.Set(name, v)
		}
	}
	if d.Credential != nil {
		cred, err := apicall.NewCredential(d.Credential, env.Secrets)
		if err != nil {
			return destination.Sink{}, err
		}
		c.cred = &cred
	}
	var err error
	if d.Events != nil && d.Events.Body != "" {
		if c.eventBody, err = destination.ParseTemplate(d.Events.Body); err != nil {
			return destination.Sink{}, fmt.Errorf("events.body: %w", err)
		}
	}
	if d.Profiles != nil && d.Profiles.Body != "" {
		if c.profileBody, err = destination.ParseTemplate(d.Profiles.Body); err != nil {
			return destination.Sink{}, fmt.Errorf("profiles.body: %w", err)
		}
	}
	return destination.Sink{Events: c, Profiles: c, Audience: c}, nil
}

type client struct {
	api         apicall.Client
	url, name   string
	method      string
	header      http.Header
	authHeader  string
	scheme      string
	cred        *apicall.Credential
	eventBody   *destination.Template
	profileBody *destination.Template
}

// ForwardEvents sends the batch, or each event through the template.
func (c *client) ForwardEvents(ctx context.Context, b destination.EventBatch) (destination.Result, error) {
	if c.eventBody == nil {
		return c.whole(ctx, b.ID, destination.Batch{Op: destination.OpEvents, Events: &b}, len(b.Events), pidsOfEvents(b.Events))
	}
	var res destination.Result
	for _, e := range b.Events {
		ev := generic(e)
		if ev["properties"] == nil {
			ev["properties"] = map[string]any{}
		}
		data := map[string]any{"event": ev, "profile": memberData(e.Member), "destination": map[string]any{"name": c.name}}
		if err := c.one(ctx, events.StableID(b.ID, e.ID), c.eventBody, data, e.Member.ProfileID, &res); err != nil {
			return res, err
		}
	}
	return res, nil
}

// SyncProfiles sends the batch, or each profile through the template.
func (c *client) SyncProfiles(ctx context.Context, b destination.ProfileBatch) (destination.Result, error) {
	if c.profileBody == nil {
		pids := make([]string, len(b.Members))
		for i, m := range b.Members {
			pids[i] = m.ProfileID
		}
		return c.whole(ctx, b.ID, destination.Batch{Op: destination.OpProfiles, Profiles: &b}, len(b.Members), pids)
	}
	var res destination.Result
	for _, m := range b.Members {
		data := map[string]any{"profile": memberData(m), "destination": map[string]any{"name": c.name}}
		if err := c.one(ctx, events.StableID(b.ID, m.ProfileID), c.profileBody, data, m.ProfileID, &res); err != nil {
			return res, err
		}
	}
	return res, nil
}

// SyncAudience sends the change as one request.
func (c *client) SyncAudience(ctx context.Context, ch destination.AudienceChange) (destination.Result, error) {
	var pids []string
	for _, m := range append(slices.Clone(ch.Add), ch.Remove...) {
		pids = append(pids, m.ProfileID)
	}
	return c.whole(ctx, ch.ID, destination.Batch{Op: destination.OpAudience, Audience: &ch}, len(pids), pids)
}

func pidsOfEvents(evs []destination.Event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.Member.ProfileID
	}
	return out
}

// memberData is m as template data, attributes always present.
func memberData(m destination.Member) map[string]any {
	d := generic(m)
	if d["attributes"] == nil {
		d["attributes"] = map[string]any{}
	}
	return d
}

// generic is v as template data (its JSON, decoded).
func generic(v any) map[string]any {
	b, _ := json.Marshal(v)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return m
}

func (c *client) whole(ctx context.Context, id string, b destination.Batch, n int, pids []string) (destination.Result, error) {
	body, err := json.Marshal(b)
	if err != nil {
		return destination.Result{}, err
	}
	var res destination.Result
	err = c.send(ctx, id, body)
	if rej, ok := rejected(err); ok {
		for _, pid := range pids {
			res.Rejected = append(res.Rejected, destination.Rejected{ProfileID: pid, Reason: rej})
		}
		return res, nil
	}
	if err != nil {
		return res, err
	}
	res.Sent = n
	return res, nil
}

func (c *client) one(ctx context.Context, id string, t *destination.Template, data map[string]any, pid string, res *destination.Result) error {
	body, err := t.Render(data)
	if err != nil {
		res.Rejected = append(res.Rejected, destination.Rejected{ProfileID: pid, Reason: err.Error()})
		return nil
	}
	err = c.send(ctx, id, body)
	if rej, ok := rejected(err); ok {
		res.Rejected = append(res.Rejected, destination.Rejected{ProfileID: pid, Reason: rej})
		return nil
	}
	if err != nil {
		return err
	}
	res.Sent++
	return nil
}

// rejected turns a 4xx other than 401, 403 and 429 into a reason.
func rejected(err error) (string, bool) {
	var se *apicall.StatusError
	if errors.As(err, &se) && se.Status != http.StatusUnauthorized && se.Status != http.StatusForbidden {
		return fmt.Sprintf("HTTP %d", se.Status), true
	}
	return "", false
}

func (c *client) send(ctx context.Context, id string, body []byte) error {
	h := c.header.Clone()
	h.Set("Idempotency-Key", id)
	if c.cred != nil {
		v, err := c.cred.Get(ctx)
		if err != nil {
			return err
		}
		if c.scheme != "none" {
			v = c.scheme + " " + v
		}
		h.Set(c.authHeader, v)
	}
	if _, err := c.api.Do(ctx, apicall.Request{Method: c.method, URL: c.url, Header: h, Body: body}); err != nil {
		return fmt.Errorf("http destination %s: %w", c.name, err)
	}
	return nil
}
