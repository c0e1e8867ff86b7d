package hubspot

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

// contract is a HubSpot stand-in that checks every request against the
// documented contract, then answers as answer says.
func contract(t *testing.T, rec *apitest.Recorder, answer func(w http.ResponseWriter, inputs []map[string]any)) *httptest.Server {
	upsert := apitest.Example(t, "testdata/contacts_batch_upsert.json")
	send := apitest.Example(t, "testdata/events_send_batch.json")
	return httptest.NewServer(rec.Wrap(func(w http.ResponseWriter, r *http.Request) {
		if got := r.Header.Get("Authorization"); got != "Bearer hs-token" {
			t.Errorf("Authorization = %q; want Bearer hs-token", got)
		}
		if got := r.Header.Get("Content-Type"); got != "application/json" {
			t.Errorf("Content-Type = %q; want application/json", got)
		}
		var body map[string]any
		c := apitest.Call{Body: mustRead(r)}
		c.JSON(t, &body)
		inputs, _ := body["inputs"].([]any)
		var ins []map[string]any
		for _, in := range inputs {
			ins = append(ins, in.(map[string]any))
		}
		switch {
		case r.Method == http.MethodPost && r.URL.Path == "/crm/v3/objects/contacts/batch/upsert":
			apitest.Conforms(t, body, upsert, "inputs[].properties")
			if len(ins) == 0 || len(ins) > MaxUpsert {
				t.Errorf("batch upsert with %d inputs; want 1..%d", len(ins), MaxUpsert)
			}
			for _, in := range ins {
				if in["idProperty"] != "email" || in["id"] != strings.ToLower(fmt.Sprint(in["id"])) {
					t.Errorf("input %v: want idProperty email and a lower-case id", in)
				}
			}
		case r.Method == http.MethodPost && r.URL.Path == "/events/v3/send/batch":
			apitest.Conforms(t, body, send, "inputs[].properties")
			if len(ins) == 0 || len(ins) > MaxEvents {
				t.Errorf("batch send with %d inputs; want 1..%d", len(ins), MaxEvents)
			}
			for _, in := range ins {
				if !strings.HasPrefix(fmt.Sprint(in["eventName"]), "pe42_") {
					t.Errorf("eventName %v; want the pe42_ prefix", in["eventName"])
				}
				if _, err := time.Parse(time.RFC3339, fmt.Sprint(in["occurredAt"])); err != nil {
					t.Errorf("occurredAt %v: %v", in["occurredAt"], err)
				}
			}
		default:
			t.Errorf("unexpected %s %s", r.Method, r.URL.Path)
			w.WriteHeader(http.StatusNotFound)
			return
		}
		answer(w, ins)
	}))
}

func mustRead(r *http.Request) []byte {
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := r.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			return []byte(b.String())
		}
	}
}

func sink(t *testing.T, srv *httptest.Server, withEvents bool) destination.Sink {
	d := config.Destination{Name: "crm", Kind: Name, URL: srv.URL, Credential: &config.SecretRef{Env: "HS"},
		Options: map[string]string{"event_prefix": "pe42_"}}
	if withEvents {
		d.Events = &config.EventForwarding{Tracked: []string{"*"}}
	}
	s, err := Preset().Build(d, destination.Env{HTTP: srv.Client(), Secrets: apitest.Secrets{"HS": "hs-token"}})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func members(n int) []destination.Member {
	var out []destination.Member
	for i := range n {
		out = append(out, destination.Member{ProfileID: fmt.Sprintf("p%d", i), Attributes: map[string]any{
			"email": fmt.Sprintf("Person%d@Example.com", i), "firstname": "Ann", "score": float64(i)}})
	}
	return out
}

func TestSyncProfiles(t *testing.T) {
	ok := func(w http.ResponseWriter, ins []map[string]any) {
		w.WriteHeader(http.StatusOK)
		fmt.Fprintf(w, `{"status":"COMPLETE","results":[%s]}`, strings.Repeat(`{"id":"1","properties":{}},`, len(ins)-1)+`{"id":"1","properties":{}}`)
	}
	tests := []struct {
		name     string
		answer   func(w http.ResponseWriter, ins []map[string]any)
		members  []destination.Member
		sent     int
		rejected []string
		kind     error
		after    time.Duration
	}{
		{"all upserted", ok, members(3), 3, nil, nil, 0},
		{"a member without e-mail is rejected before sending", ok,
			append(members(2), destination.Member{ProfileID: "nomail", Attributes: map[string]any{"firstname": "X"}}), 2, []string{"nomail"}, nil, 0},
		{"two profiles with one e-mail make one input (HubSpot refuses duplicates in a batch)", func(w http.ResponseWriter, ins []map[string]any) {
			if len(ins) != 1 {
				t.Errorf("%d inputs for one e-mail; want 1", len(ins))
			}
			ok(w, ins)
		}, []destination.Member{{ProfileID: "a", Attributes: map[string]any{"email": "X@example.com"}}, {ProfileID: "b", Attributes: map[string]any{"email": "x@example.com"}}}, 1, nil, nil, 0},
		{"207 multi-status rejects the inputs its errors name", func(w http.ResponseWriter, ins []map[string]any) {
			w.WriteHeader(http.StatusMultiStatus)
			fmt.Fprintf(w, `{"status":"COMPLETE","results":[{"id":"1"},{"id":"2"}],"numErrors":1,"errors":[{"status":"error","category":"VALIDATION_ERROR","context":{"ids":["%s"]}}]}`, ins[1]["id"])
		}, members(3), 2, []string{"p1"}, nil, 0},
		{"429 is retryable after Retry-After", func(w http.ResponseWriter, _ []map[string]any) {
			w.Header().Set("Retry-After", "10")
			w.WriteHeader(http.StatusTooManyRequests)
			fmt.Fprint(w, `{"status":"error","category":"RATE_LIMITS"}`)
		}, members(2), 0, nil, fault.ErrRetryable, 10 * time.Second},
		{"502 is retryable", func(w http.ResponseWriter, _ []map[string]any) {
			w.WriteHeader(http.StatusBadGateway)
		}, members(2), 0, nil, fault.ErrRetryable, 0},
		{"400 rejects the whole batch", func(w http.ResponseWriter, _ []map[string]any) {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"status":"error","category":"VALIDATION_ERROR","message":"Property values were not valid"}`)
		}, members(2), 0, []string{"p0", "p1"}, nil, 0},
		{"401 fails for good", func(w http.ResponseWriter, _ []map[string]any) {
			w.WriteHeader(http.StatusUnauthorized)
		}, members(1), 0, nil, fault.ErrUnauthorized, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rec apitest.Recorder
			srv := contract(t, &rec, tt.answer)
			defer srv.Close()
			res, err := sink(t, srv, false).Profiles.SyncProfiles(context.Background(), destination.ProfileBatch{ID: "b1", Members: tt.members})
			if tt.kind != nil {
				if !errors.Is(err, tt.kind) {
					t.Fatalf("SyncProfiles() error = %v; want %v", err, tt.kind)
				}
				if got, _ := destination.RetryAfter(err); got != tt.after {
					t.Errorf("RetryAfter = %v; want %v", got, tt.after)
				}
				return
			}
			if err != nil {
				t.Fatalf("SyncProfiles() error = %v", err)
			}
			var rej []string
			for _, r := range res.Rejected {
				rej = append(rej, r.ProfileID)
			}
			if res.Sent != tt.sent || fmt.Sprint(rej) != fmt.Sprint(tt.rejected) {
				t.Errorf("SyncProfiles() = sent %d, rejected %v; want %d, %v", res.Sent, rej, tt.sent, tt.rejected)
			}
			if len(rec.Calls()) != 1 {
				t.Errorf("%d requests; want 1", len(rec.Calls()))
			}
		})
	}
}

func TestSyncProfilesRefusesMoreThanTheLimit(t *testing.T) {
	var rec apitest.Recorder
	srv := contract(t, &rec, func(w http.ResponseWriter, _ []map[string]any) { w.WriteHeader(200) })
	defer srv.Close()
	if _, err := sink(t, srv, false).Profiles.SyncProfiles(context.Background(), destination.ProfileBatch{Members: members(MaxUpsert + 1)}); err == nil {
		t.Errorf("SyncProfiles(%d members) = nil error; want the limit refused", MaxUpsert+1)
	}
	if n := len(rec.Calls()); n != 0 {
		t.Errorf("%d requests sent; want none", n)
	}
}

func TestForwardEvents(t *testing.T) {
	var rec apitest.Recorder
	srv := contract(t, &rec, func(w http.ResponseWriter, _ []map[string]any) { w.WriteHeader(http.StatusNoContent) })
	defer srv.Close()
	evs := []destination.Event{
		{ID: "0123456789abcdef0123456789abcdef", Name: "Order Completed", Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
			Properties: map[string]any{"revenue": 42.5}, Member: destination.Member{ProfileID: "p1", Attributes: map[string]any{"email": "ann@example.com"}}},
		{ID: "x", Name: "Order Completed", Member: destination.Member{ProfileID: "p2"}},
	}
	res, err := sink(t, srv, true).Events.ForwardEvents(context.Background(), destination.EventBatch{ID: "b", Events: evs})
	if err != nil {
		t.Fatal(err)
	}
	if res.Sent != 1 || len(res.Rejected) != 1 || res.Rejected[0].ProfileID != "p2" {
		t.Errorf("ForwardEvents() = %+v; want 1 sent and p2 rejected (no email)", res)
	}
	var body struct {
		Inputs []eventInput `json:"inputs"`
	}
	rec.Calls()[0].JSON(t, &body)
	want := eventInput{EventName: "pe42_order_completed", Email: "ann@example.com", OccurredAt: "2026-01-02T03:04:05Z",
		UUID: "01234567-89ab-cdef-0123-456789abcdef", Properties: map[string]string{"revenue": "42.5"}}
	if fmt.Sprint(body.Inputs) != fmt.Sprint([]eventInput{want}) {
		t.Errorf("sent %+v; want %+v", body.Inputs, want)
	}
}

func TestBuildNeedsEventPrefixAndCredential(t *testing.T) {
	tests := []struct {
		name string
		d    config.Destination
		want string
	}{
		{"no credential", config.Destination{Kind: Name}, "credential: missing"},
		{"events without prefix", config.Destination{Kind: Name, Credential: &config.SecretRef{Env: "X"}, Events: &config.EventForwarding{Tracked: []string{"*"}}}, "options.event_prefix"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Preset().Build(tt.d, destination.Env{Secrets: apitest.Secrets{}})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Build() error = %v; want %q", err, tt.want)
			}
		})
	}
}
