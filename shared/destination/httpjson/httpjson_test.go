package httpjson

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

func server(t *testing.T, rec *apitest.Recorder, status int) *httptest.Server {
	return httptest.NewServer(rec.Wrap(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPut || r.URL.Path != "/hook" {
			t.Errorf("request %s %s; want PUT /hook", r.Method, r.URL.Path)
		}
		if got := r.Header.Get("X-Api-Key"); got != "secret-1" {
			t.Errorf("X-Api-Key = %q; want the credential alone", got)
		}
		if r.Header.Get("Idempotency-Key") == "" || r.Header.Get("X-Tenant") != "acme" {
			t.Errorf("headers %v; want Idempotency-Key and X-Tenant", r.Header)
		}
		if status == 429 {
			w.Header().Set("Retry-After", "5")
		}
		w.WriteHeader(status)
	}))
}

func sinkOf(t *testing.T, srv *httptest.Server, d config.Destination) destination.Sink {
	d.Kind, d.Name, d.URL = Name, "hook", srv.URL+"/hook"
	d.Credential = &config.SecretRef{Env: "K"}
	d.Options = map[string]string{"method": "PUT", "auth_header": "X-Api-Key", "auth_scheme": "none", "header.X-Tenant": "acme"}
	s, err := Preset().Build(d, destination.Env{HTTP: srv.Client(), Secrets: apitest.Secrets{"K": "secret-1"}})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var evs = []destination.Event{
	{ID: "e1", Name: "Order Completed", Time: time.Unix(0, 0).UTC(), Properties: map[string]any{"revenue": 3.5}, Member: destination.Member{ProfileID: "p1", Attributes: map[string]any{"email": "a@example.com"}}},
	{ID: "e2", Name: "Order Completed", Member: destination.Member{ProfileID: "p2"}},
}

func TestWholeBatch(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		sent     int
		rejected int
		kind     error
	}{
		{"accepted", 200, 2, 0, nil},
		{"422 rejects the batch", 422, 0, 2, nil},
		{"429 is retryable", 429, 0, 0, fault.ErrRetryable},
		{"500 is retryable", 500, 0, 0, fault.ErrRetryable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rec apitest.Recorder
			srv := server(t, &rec, tt.status)
			defer srv.Close()
			res, err := sinkOf(t, srv, config.Destination{}).Events.ForwardEvents(context.Background(), destination.EventBatch{ID: "batch-1", Events: evs})
			if tt.kind != nil {
				if !errors.Is(err, tt.kind) {
					t.Fatalf("error = %v; want %v", err, tt.kind)
				}
				return
			}
			if err != nil || res.Sent != tt.sent || len(res.Rejected) != tt.rejected {
				t.Fatalf("ForwardEvents() = %+v, %v; want %d sent, %d rejected", res, err, tt.sent, tt.rejected)
			}
			c := rec.Calls()[0]
			var b destination.Batch
			c.JSON(t, &b)
			if b.Op != destination.OpEvents || b.Events == nil || len(b.Events.Events) != 2 || c.Header.Get("Idempotency-Key") != "batch-1" {
				t.Errorf("sent %s with Idempotency-Key %q; want the events batch, keyed batch-1", c.Body, c.Header.Get("Idempotency-Key"))
			}
		})
	}
}

func TestTemplatePerItem(t *testing.T) {
	var rec apitest.Recorder
	srv := server(t, &rec, 204)
	defer srv.Close()
	s := sinkOf(t, srv, config.Destination{Events: &config.EventForwarding{Tracked: []string{"*"},
		Body: `{"type": {{json .event.name}}, "email": {{json .profile.attributes.email}}, "value": {{json .event.properties.revenue}}}`}})
	res, err := s.Events.ForwardEvents(context.Background(), destination.EventBatch{ID: "b", Events: evs})
	if err != nil || res.Sent != 2 {
		t.Fatalf("ForwardEvents() = %+v, %v; want 2 sent", res, err)
	}
	calls := rec.Calls()
	if len(calls) != 2 {
		t.Fatalf("%d requests; want one per event", len(calls))
	}
	want := `{"type": "Order Completed", "email": "a@example.com", "value": 3.5}`
	if string(calls[0].Body) != want {
		t.Errorf("first body = %s; want %s", calls[0].Body, want)
	}
	if calls[0].Header.Get("Idempotency-Key") == calls[1].Header.Get("Idempotency-Key") {
		t.Error("two items sent with one Idempotency-Key; want one per item")
	}
}

func TestBuildRefusesCredentialsInHeaders(t *testing.T) {
	_, err := Preset().Build(config.Destination{Kind: Name, URL: "https://x.example.com", Options: map[string]string{"header.Authorization": "Bearer x"}}, destination.Env{})
	if err == nil || !strings.Contains(err.Error(), "credentials do not belong") {
		t.Errorf("Build() error = %v; want credentials refused", err)
	}
	_, err = Preset().Build(config.Destination{Kind: Name, URL: "https://x.example.com", Options: map[string]string{"method": "GET"}}, destination.Env{})
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("%q is not one of", "GET")) {
		t.Errorf("Build() error = %v; want GET refused", err)
	}
}
