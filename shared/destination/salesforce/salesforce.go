// Package salesforce is the salesforce destination kind: changed
// profiles are upserted as sObjects (Contact by default) by an external
// id field, up to 200 per request, with the sObject Collections upsert
// (PATCH /services/data/vXX.X/composite/sobjects/{object}/{field},
// allOrNone false, so each record succeeds or fails alone). The
// credential is an OAuth access token sent as a Bearer token; url is the
// org's instance URL.
package salesforce

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/destination"
	"github.com/aurum-cdp/aurum/shared/destination/apicall"
)

// Name is the kind's name in aurum.yaml.
const Name = "salesforce"

// Defaults and documented limits.
const (
	DefaultObject     = "Contact"
	DefaultAPIVersion = "v62.0"
	MaxRecords        = 200
	PerSecond         = 5
)

var (
	apiVersion = regexp.MustCompile(`^v[0-9]+\.[0-9]$`)
	apiName    = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)
)

// Preset is the salesforce kind. Options: object (default Contact),
// external_id_field (required: an External ID field of the object, such
// as Aurum_Id__c, whose value is the mapped field of that name or else
// the profile id), api_version (default v62.0).
func Preset() destination.Preset {
	return destination.Preset{
		Name:   Name,
		Limits: destination.Limits{MaxProfiles: MaxRecords, PerSecond: PerSecond},
		Defaults: destination.Defaults{Profile: map[string]string{
			"Email":     "profile.identifiers.email",
			"FirstName": "profile.attributes.first_name",
			"LastName":  "profile.attributes.last_name",
			"Phone":     "profile.identifiers.phone",
		}},
		Build: build,
	}
}

func build(d config.Destination, env destination.Env) (destination.Sink, error) {
	if d.URL == "" {
		return destination.Sink{}, fmt.Errorf("url: missing; expected the instance URL, such as https://MyDomainName.my.salesforce.com")
	}
	cred, err := apicall.NewCredential(d.Credential, env.Secrets)
	if err != nil {
		return destination.Sink{}, err
	}
	c := &client{api: apicall.Client{HTTP: env.HTTP, Clock: env.Clock}, cred: cred, base: apicall.BaseURL(d.URL, ""),
		object: d.Options["object"], field: d.Options["external_id_field"], version: d.Options["api_version"]}
	if c.object == "" {
		c.object = DefaultObject
	}
	if c.version == "" {
		c.version = DefaultAPIVersion
	}
	switch {
	case c.field == "":
		return destination.Sink{}, fmt.Errorf("options.external_id_field: missing; expected an External ID field of %s, such as Aurum_Id__c", c.object)
	case !apiName.MatchString(c.field) || !apiName.MatchString(c.object):
		return destination.Sink{}, fmt.Errorf("options: object and external_id_field must be API names (letters, digits, _)")
	case !apiVersion.MatchString(c.version):
		return destination.Sink{}, fmt.Errorf("options.api_version: %q; expected vNN.N, such as %s", c.version, DefaultAPIVersion)
	}
	return destination.Sink{Profiles: c}, nil
}

type client struct {
	api                    apicall.Client
	cred                   apicall.Credential
	base                   string
	object, field, version string
}

// result is one record's outcome.
type result struct {
	ID      string `json:"id"`
	Success bool   `json:"success"`
	Created bool   `json:"created"`
	Errors  []struct {
		StatusCode string   `json:"statusCode"`
		Fields     []string `json:"fields"`
	} `json:"errors"`
}

// SyncProfiles upserts the members in one collections request.
func (c *client) SyncProfiles(ctx context.Context, b destination.ProfileBatch) (destination.Result, error) {
	var res destination.Result
	if len(b.Members) > MaxRecords {
		return res, fmt.Errorf("salesforce: %d records; the collections upsert takes at most %d", len(b.Members), MaxRecords)
	}
	records := make([]map[string]any, 0, len(b.Members))
	pids := make([]string, 0, len(b.Members))
	for _, m := range b.Members {
		rec := map[string]any{"attributes": map[string]string{"type": c.object}}
		for k, v := range m.Attributes {
			rec[k] = v
		}
		if apicall.String(rec[c.field]) == "" {
			rec[c.field] = m.ProfileID
		}
		records = append(records, rec)
		pids = append(pids, m.ProfileID)
	}
	if len(records) == 0 {
		return res, nil
	}
	tok, err := c.cred.Get(ctx)
	if err != nil {
		return res, err
	}
	u := fmt.Sprintf("%s/services/data/%s/composite/sobjects/%s/%s", c.base, c.version, url.PathEscape(c.object), url.PathEscape(c.field))
	resp, err := c.api.Do(ctx, apicall.Request{Method: http.MethodPatch, URL: u,
		Header: http.Header{"Authorization": {"Bearer " + tok}}, Body: map[string]any{"allOrNone": false, "records": records}})
	if err != nil {
		var se *apicall.StatusError
		if errors.As(err, &se) && se.Status == http.StatusBadRequest {
			for _, pid := range pids {
				res.Rejected = append(res.Rejected, destination.Rejected{ProfileID: pid, Reason: "HTTP 400 " + errorCode(se.Body)})
			}
			return res, nil
		}
		return res, fmt.Errorf("salesforce: %w", err)
	}
	var results []result
	if err := json.Unmarshal(resp.Body, &results); err != nil || len(results) != len(records) {
		return res, fmt.Errorf("salesforce: the answer does not hold one result per record (%d records)", len(records))
	}
	for i, r := range results {
		if r.Success {
			res.Sent++
			continue
		}
		reason := "failed"
		if len(r.Errors) > 0 {
			reason = r.Errors[0].StatusCode
			if len(r.Errors[0].Fields) > 0 {
				reason += " (" + strings.Join(r.Errors[0].Fields, ", ") + ")"
			}
		}
		res.Rejected = append(res.Rejected, destination.Rejected{ProfileID: pids[i], Reason: reason})
	}
	return res, nil
}

// errorCode is the errorCode of Salesforce's error list.
func errorCode(b []byte) string {
	var errs []struct {
		ErrorCode string `json:"errorCode"`
	}
	if json.Unmarshal(b, &errs) == nil && len(errs) > 0 {
		return errs[0].ErrorCode
	}
	return ""
}
