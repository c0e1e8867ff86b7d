// Package mailchimp is the mailchimp destination kind: profiles are
// added or updated as members of one audience (list_id) with PUT
// /3.0/lists/{list_id}/members/{subscriber_hash}, the hash being the MD5
// of the lower-cased e-mail address; segment memberships become member
// tags (POST …/members/{hash}/tags, active to add, inactive to remove);
// events become member events (POST …/members/{hash}/events). The API key
// authenticates with HTTP Basic auth and names the datacenter in its
// suffix (…-us21 → https://us21.api.mailchimp.com).
package mailchimp

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/destination"
	"github.com/aurum-cdp/aurum/shared/destination/apicall"
)

// Name is the kind's name in aurum.yaml.
const Name = "mailchimp"

// PerSecond keeps well under Mailchimp's 10 simultaneous connections.
const PerSecond = 10

// Preset is the mailchimp kind. Options: list_id (required),
// status_if_new (default subscribed).
func Preset() destination.Preset {
	return destination.Preset{
		Name:   Name,
		Limits: destination.Limits{MaxEvents: 1, MaxProfiles: 1, MaxMembers: 50, PerSecond: PerSecond},
		Defaults: destination.Defaults{Profile: map[string]string{
			"email_address": "profile.identifiers.email",
			"FNAME":         "profile.attributes.first_name",
			"LNAME":         "profile.attributes.last_name",
		}},
		Build: build,
	}
}

func build(d config.Destination, env destination.Env) (destination.Sink, error) {
	cred, err := apicall.NewCredential(d.Credential, env.Secrets)
	if err != nil {
		return destination.Sink{}, err
	}
	list := d.Options["list_id"]
	if list == "" {
		return destination.Sink{}, fmt.Errorf("options.list_id: missing; expected the audience id (Audience settings, or GET /3.0/lists)")
	}
	c := &client{api: apicall.Client{HTTP: env.HTTP, Clock: env.Clock}, cred: cred, url: d.URL, list: list, status: d.Options["status_if_new"]}
	if c.status == "" {
		c.status = "subscribed"
	}
	return destination.Sink{Profiles: c, Audience: c, Events: c}, nil
}

type client struct {
	api    apicall.Client
	cred   apicall.Credential
	url    string // override of the datacenter's host (tests, proxies)
	list   string
	status string
}

// SubscriberHash is the member's id in a list: the MD5 of the lower-cased
// e-mail address.
func SubscriberHash(email string) string {
	sum := md5.Sum([]byte(strings.ToLower(strings.TrimSpace(email))))
	return hex.EncodeToString(sum[:])
}

var datacenter = regexp.MustCompile(`-([a-z]+[0-9]+)$`)

// base is the API root of the key's datacenter.
func (c *client) base(key string) (string, error) {
	if c.url != "" {
		return strings.TrimSuffix(c.url, "/") + "/3.0", nil
	}
	m := datacenter.FindStringSubmatch(key)
	if m == nil {
		return "", fmt.Errorf("mailchimp: the API key names no datacenter (it ends with -<dc>, such as -us21)")
	}
	return "https://" + m[1] + ".api.mailchimp.com/3.0", nil
}

// call sends one request to a member's resource (suffix after
// /members/{hash}).
func (c *client) call(ctx context.Context, method, email, suffix string, body any) error {
	key, err := c.cred.Get(ctx)
	if err != nil {
		return err
	}
	base, err := c.base(key)
	if err != nil {
		return err
	}
	u := base + "/lists/" + url.PathEscape(c.list) + "/members/" + SubscriberHash(email) + suffix
	req := apicall.Request{Method: method, URL: u, Body: body, Header: http.Header{}}
	req.Header.Set("Authorization", "Basic "+basic("aurum", key))
	_, err = c.api.Do(ctx, req)
	return err
}

// problem is Mailchimp's error document.
type problem struct {
	Title  string `json:"title"`
	Status int    `json:"status"`
}

// outcome adds one item's outcome to res: sent, rejected (a 4xx problem
// names the reason), or an error that fails the batch. notFoundOK counts
// a 404 as done (removing a tag from an address not on the list).
func outcome(res *destination.Result, profileID string, err error, notFoundOK bool) error {
	var se *apicall.StatusError
	switch {
	case err == nil:
		res.Sent++
		return nil
	case errors.As(err, &se) && se.Status == http.StatusNotFound && notFoundOK:
		res.Sent++
		return nil
	case errors.As(err, &se) && se.Status != http.StatusUnauthorized && se.Status != http.StatusForbidden:
		var p problem
		_ = json.Unmarshal(se.Body, &p)
		res.Rejected = append(res.Rejected, destination.Rejected{ProfileID: profileID, Reason: strings.TrimSpace(fmt.Sprintf("HTTP %d %s", se.Status, p.Title))})
		return nil
	}
	return fmt.Errorf("mailchimp: %w", err)
}

// memberBody is the add-or-update body: email_address, status_if_new and
// the other mapped fields as merge fields.
func (c *client) memberBody(m destination.Member) (string, map[string]any) {
	email := apicall.String(m.Attributes["email_address"])
	merge := map[string]any{}
	for k, v := range m.Attributes {
		if k != "email_address" {
			merge[k] = apicall.String(v)
		}
	}
	body := map[string]any{"email_address": email, "status_if_new": c.status}
	if len(merge) > 0 {
		body["merge_fields"] = merge
	}
	return email, body
}

// SyncProfiles adds or updates each member (one request each).
func (c *client) SyncProfiles(ctx context.Context, b destination.ProfileBatch) (destination.Result, error) {
	var res destination.Result
	for _, m := range b.Members {
		email, body := c.memberBody(m)
		if email == "" {
			res.Rejected = append(res.Rejected, destination.Rejected{ProfileID: m.ProfileID, Reason: "no email_address"})
			continue
		}
		if err := outcome(&res, m.ProfileID, c.call(ctx, http.MethodPut, email, "", body), false); err != nil {
			return res, err
		}
	}
	return res, nil
}

// SyncAudience tags members with the audience's name: an add upserts
// the member, then sets the tag active; a remove sets it inactive (an
// address not on the list has nothing to remove). Both are idempotent.
func (c *client) SyncAudience(ctx context.Context, ch destination.AudienceChange) (destination.Result, error) {
	var res destination.Result
	for _, set := range []struct {
		members []destination.Member
		status  string
	}{{ch.Add, "active"}, {ch.Remove, "inactive"}} {
		for _, m := range set.members {
			email, body := c.memberBody(m)
			if email == "" {
				res.Rejected = append(res.Rejected, destination.Rejected{ProfileID: m.ProfileID, Reason: "no email_address"})
				continue
			}
			if set.status == "active" {
				var up destination.Result
				if err := outcome(&up, m.ProfileID, c.call(ctx, http.MethodPut, email, "", body), false); err != nil {
					return res, err
				}
				if len(up.Rejected) > 0 {
					res.Rejected = append(res.Rejected, up.Rejected...)
					continue
				}
			}
			tags := map[string]any{"tags": []map[string]string{{"name": ch.Audience, "status": set.status}}}
			if err := outcome(&res, m.ProfileID, c.call(ctx, http.MethodPost, email, "/tags", tags), set.status == "inactive"); err != nil {
				return res, err
			}
		}
	}
	return res, nil
}

// ForwardEvents adds each event to its member's activity feed.
func (c *client) ForwardEvents(ctx context.Context, b destination.EventBatch) (destination.Result, error) {
	var res destination.Result
	for _, e := range b.Events {
		email := apicall.String(e.Member.Attributes["email_address"])
		if email == "" {
			res.Rejected = append(res.Rejected, destination.Rejected{ProfileID: e.Member.ProfileID, Reason: "no email_address"})
			continue
		}
		props := map[string]string{}
		for k, v := range e.Properties {
			props[k] = apicall.String(v)
		}
		body := map[string]any{"name": EventName(e.Name), "properties": props, "occurred_at": e.Time.UTC().Format(time.RFC3339)}
		if err := outcome(&res, e.Member.ProfileID, c.call(ctx, http.MethodPost, email, "/events", body), false); err != nil {
			return res, err
		}
	}
	return res, nil
}

// EventName fits an event name to Mailchimp's rule: 2 to 30 letters,
// digits, underscores or dashes ("Order Completed" → Order_Completed).
func EventName(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '-':
			b.WriteRune(r)
		case r == ' ' || r == '.':
			b.WriteByte('_')
		}
	}
	out := b.String()
	if len(out) > 30 {
		out = out[:30]
	}
	for len(out) < 2 {
		out += "_"
	}
	return out
}
