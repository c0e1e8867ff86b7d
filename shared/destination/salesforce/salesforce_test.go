package salesforce

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/destination"
	"github.com/aurum-cdp/aurum/shared/destination/apicall/apitest"
	"github.com/aurum-cdp/aurum/shared/model/fault"
)

// contract checks the collections upsert request and answers with one
// result per record: records whose LastName is missing fail as
// Salesforce documents (REQUIRED_FIELD_MISSING), unless status forces
// another answer.
func contract(t *testing.T, rec *apitest.Recorder, status int, header map[string]string) *httptest.Server {
	ex := apitest.Example(t, "testdata/collections_upsert.json")
	return httptest.NewServer(rec.Wrap(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPatch || r.URL.Path != "/services/data/v62.0/composite/sobjects/Contact/Aurum_Id__c" {
			t.Errorf("request %s %s; want PATCH /services/data/v62.0/composite/sobjects/Contact/Aurum_Id__c", r.Method, r.URL.Path)
		}
		if got := r.Header.Get("Authorization"); got != "Bearer 00Dxx!token" {
			t.Errorf("Authorization = %q; want the Bearer access token", got)
		}
		var body struct {
			AllOrNone *bool            `json:"allOrNone"`
			Records   []map[string]any `json:"records"`
		}
		c := rec.Calls()[len(rec.Calls())-1]
		c.JSON(t, &body)
		var generic map[string]any
		c.JSON(t, &generic)
		apitest.Conforms(t, generic, ex, "records[]")
		if body.AllOrNone == nil || *body.AllOrNone {
			t.Errorf("allOrNone = %v; want false (records fail alone)", body.AllOrNone)
		}
		if len(body.Records) == 0 || len(body.Records) > MaxRecords {
			t.Errorf("%d records; want 1..%d", len(body.Records), MaxRecords)
		}
		for _, r := range body.Records {
			if fmt.Sprint(r["attributes"]) != "map[type:Contact]" || r["Aurum_Id__c"] == nil {
				t.Errorf("record %v: want attributes.type Contact and the external id", r)
			}
		}
		for k, v := range header {
			w.Header().Set(k, v)
		}
		if status != 200 {
			w.WriteHeader(status)
			fmt.Fprint(w, `[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]`)
			return
		}
		var out []string
		for _, r := range body.Records {
			if r["LastName"] == nil {
				out = append(out, `{"success":false,"errors":[{"statusCode":"REQUIRED_FIELD_MISSING","message":"Required fields are missing: [LastName]","fields":["LastName"]}]}`)
			} else {
				out = append(out, `{"id":"003xx","success":true,"errors":[],"created":true}`)
			}
		}
		fmt.Fprint(w, "["+strings.Join(out, ",")+"]")
	}))
}

func sinkOf(t *testing.T, srv *httptest.Server) destination.Sink {
	s, err := Preset().Build(config.Destination{Kind: Name, URL: srv.URL, Credential: &config.SecretRef{Env: "SF"},
		Options: map[string]string{"external_id_field": "Aurum_Id__c"}}, destination.Env{HTTP: srv.Client(), Secrets: apitest.Secrets{"SF": "00Dxx!token"}})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestUpsert(t *testing.T) {
	members := []destination.Member{
		{ProfileID: "p1", Attributes: map[string]any{"Email": "ann@example.com", "LastName": "Lee"}},
		{ProfileID: "p2", Attributes: map[string]any{"Email": "bob@example.com"}},
	}
	tests := []struct {
		name     string
		status   int
		header   map[string]string
		sent     int
		rejected string
		kind     error
		after    time.Duration
	}{
		{"a record missing a required field fails alone", 200, nil, 1, "[p2: REQUIRED_FIELD_MISSING (LastName)]", nil, 0},
		{"401 fails for good", 401, nil, 0, "", fault.ErrUnauthorized, 0},
		{"503 with Retry-After", 503, map[string]string{"Retry-After": "60"}, 0, "", fault.ErrRetryable, time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rec apitest.Recorder
			srv := contract(t, &rec, tt.status, tt.header)
			defer srv.Close()
			res, err := sinkOf(t, srv).Profiles.SyncProfiles(context.Background(), destination.ProfileBatch{Members: members})
			if tt.kind != nil {
				if !errors.Is(err, tt.kind) {
					t.Fatalf("error = %v; want %v", err, tt.kind)
				}
				if got, _ := destination.RetryAfter(err); got != tt.after {
					t.Errorf("RetryAfter = %v; want %v", got, tt.after)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var rej []string
			for _, r := range res.Rejected {
				rej = append(rej, r.ProfileID+": "+r.Reason)
			}
			if res.Sent != tt.sent || fmt.Sprint(rej) != tt.rejected {
				t.Errorf("result = sent %d, rejected %v; want %d, %s", res.Sent, rej, tt.sent, tt.rejected)
			}
			var body struct {
				Records []map[string]any `json:"records"`
			}
			rec.Calls()[0].JSON(t, &body)
			if body.Records[0]["Aurum_Id__c"] != "p1" {
				t.Errorf("external id = %v; want the profile id p1", body.Records[0]["Aurum_Id__c"])
			}
		})
	}
}

func TestBuildChecksOptions(t *testing.T) {
	tests := []struct {
		name string
		opts map[string]string
		want string
	}{
		{"no external id field", nil, "external_id_field: missing"},
		{"injection in the object name", map[string]string{"external_id_field": "X__c", "object": "Contact/../x"}, "API names"},
		{"bad version", map[string]string{"external_id_field": "X__c", "api_version": "62"}, "api_version"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Preset().Build(config.Destination{Kind: Name, URL: "https://x.my.salesforce.com", Credential: &config.SecretRef{Env: "X"}, Options: tt.opts},
				destination.Env{Secrets: apitest.Secrets{}})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Build() error = %v; want %q", err, tt.want)
			}
		})
	}
}
