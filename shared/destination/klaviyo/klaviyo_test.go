package klaviyo

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/destination"
	"github.com/aurum-cdp/aurum/shared/destination/apicall/apitest"
	"github.com/aurum-cdp/aurum/shared/model/fault"
)

type answer struct {
	status int
	header map[string]string
	body   string
}

// contract checks each request against the documented one and answers
// the i-th request with answers[i] (the last one repeats).
func contract(t *testing.T, rec *apitest.Recorder, answers ...answer) *httptest.Server {
	examples := map[string]map[string]any{
		"/api/profile-import": apitest.Example(t, "testdata/profile_import.json"),
		"/api/events":         apitest.Example(t, "testdata/create_event.json"),
	}
	n := 0
	return httptest.NewServer(rec.Wrap(func(w http.ResponseWriter, r *http.Request) {
		ex, ok := examples[r.URL.Path]
		if r.Method != http.MethodPost || !ok {
			t.Errorf("request %s %s; want POST /api/profile-import or /api/events", r.Method, r.URL.Path)
		}
		for h, want := range map[string]string{"Authorization": "Klaviyo-API-Key pk_test", "Revision": "2026-10-15",
			"Content-Type": "application/vnd.api+json", "Accept": "application/vnd.api+json"} {
			if got := r.Header.Get(h); got != want {
				t.Errorf("%s = %q; want %q", h, got, want)
			}
		}
		var b map[string]any
		rec.Calls()[len(rec.Calls())-1].JSON(t, &b)
		apitest.Conforms(t, b, ex, "data.attributes.properties")
		a := answers[min(n, len(answers)-1)]
		n++
		for k, v := range a.header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(a.status)
		fmt.Fprint(w, a.body)
	}))
}

func build(t *testing.T, srv *httptest.Server) destination.Sink {
	s, err := Preset().Build(config.Destination{Kind: Name, URL: srv.URL, Credential: &config.SecretRef{Env: "K"}},
		destination.Env{HTTP: srv.Client(), Secrets: apitest.Secrets{"K": "pk_test"}})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var twoMembers = []destination.Member{
	{ProfileID: "p1", Attributes: map[string]any{"email": "ann@example.com", "first_name": "Ann", "plan": "gold"}},
	{ProfileID: "p2", Attributes: map[string]any{"external_id": "p2"}},
}

func TestSyncProfiles(t *testing.T) {
	tests := []struct {
		name     string
		answers  []answer
		sent     int
		rejected string
		kind     error
		after    time.Duration
	}{
		{"created and updated", []answer{{201, nil, `{}`}, {200, nil, `{}`}}, 2, "[]", nil, 0},
		{"a 400 rejects that profile only", []answer{{400, nil, `{"errors":[{"code":"invalid","title":"Invalid input."}]}`}, {200, nil, `{}`}}, 1, "[p1]", nil, 0},
		{"a 409 rejects that profile", []answer{{200, nil, `{}`}, {409, nil, `{"errors":[{"code":"duplicate_profile"}]}`}}, 1, "[p2]", nil, 0},
		{"429 with Retry-After", []answer{{429, map[string]string{"Retry-After": "45"}, `{"errors":[{"code":"throttled"}]}`}}, 0, "", fault.ErrRetryable, 45 * time.Second},
		{"503", []answer{{503, nil, ``}}, 0, "", fault.ErrRetryable, 0},
		{"403", []answer{{403, nil, `{"errors":[{"code":"permission_denied"}]}`}}, 0, "", fault.ErrForbidden, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rec apitest.Recorder
			srv := contract(t, &rec, tt.answers...)
			defer srv.Close()
			res, err := build(t, srv).Profiles.SyncProfiles(context.Background(), destination.ProfileBatch{Members: twoMembers})
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
			rej := []string{}
			for _, r := range res.Rejected {
				rej = append(rej, r.ProfileID)
			}
			if res.Sent != tt.sent || fmt.Sprint(rej) != tt.rejected {
				t.Errorf("result = sent %d, rejected %v; want %d, %s", res.Sent, rej, tt.sent, tt.rejected)
			}
			var first struct {
				Data data `json:"data"`
			}
			rec.Calls()[0].JSON(t, &first)
			if first.Data.Type != "profile" || first.Data.Attributes["email"] != "ann@example.com" ||
				fmt.Sprint(first.Data.Attributes["properties"]) != "map[plan:gold]" {
				t.Errorf("first profile sent as %+v; want email as a standard attribute and plan as a property", first.Data)
			}
		})
	}
}

func TestForwardEvents(t *testing.T) {
	var rec apitest.Recorder
	srv := contract(t, &rec, answer{202, nil, ``})
	defer srv.Close()
	ev := destination.Event{ID: "evt-1", Name: "Order Completed", Time: time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC),
		Properties: map[string]any{"value": 19.5, "sku": "A1"}, Member: twoMembers[0]}
	res, err := build(t, srv).Events.ForwardEvents(context.Background(), destination.EventBatch{Events: []destination.Event{ev,
		{ID: "evt-2", Name: "X", Member: destination.Member{ProfileID: "anon"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Sent != 1 || len(res.Rejected) != 1 || res.Rejected[0].ProfileID != "anon" {
		t.Errorf("ForwardEvents() = %+v; want 1 sent, anon rejected", res)
	}
	if n := len(rec.Calls()); n != 1 {
		t.Fatalf("%d requests; want 1 (one event per request, the unidentified one not sent)", n)
	}
	var got struct {
		Data struct {
			Attributes struct {
				UniqueID string  `json:"unique_id"`
				Value    float64 `json:"value"`
				Time     string  `json:"time"`
				Metric   resource
			} `json:"attributes"`
		} `json:"data"`
	}
	rec.Calls()[0].JSON(t, &got)
	a := got.Data.Attributes
	if a.UniqueID != "evt-1" || a.Value != 19.5 || a.Time != "2026-03-04T05:06:07Z" || a.Metric.Data.Attributes["name"] != "Order Completed" {
		t.Errorf("event sent as %+v; want unique_id evt-1, value 19.5, the time and metric name", a)
	}
}
