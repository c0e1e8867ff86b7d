package braze

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

func contract(t *testing.T, rec *apitest.Recorder, status int, header map[string]string, body string) *httptest.Server {
	ex := apitest.Example(t, "testdata/users_track.json")
	return httptest.NewServer(rec.Wrap(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/users/track" {
			t.Errorf("request %s %s; want POST /users/track", r.Method, r.URL.Path)
		}
		if got := r.Header.Get("Authorization"); got != "Bearer rest-key" {
			t.Errorf("Authorization = %q; want Bearer rest-key", got)
		}
		var b map[string]any
		apitest.Call{Body: rec.Calls()[len(rec.Calls())-1].Body}.JSON(t, &b)
		apitest.Conforms(t, b, ex, "attributes[]", "events[].properties")
		for _, arr := range []string{"attributes", "events"} {
			items, _ := b[arr].([]any)
			if len(items) > MaxPerArray {
				t.Errorf("%d %s in one request; the limit is %d", len(items), arr, MaxPerArray)
			}
			for _, it := range items {
				if id, _ := it.(map[string]any)["external_id"].(string); id == "" {
					t.Errorf("%s object without external_id: %v", arr, it)
				}
			}
		}
		for k, v := range header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(status)
		fmt.Fprint(w, body)
	}))
}

func build(t *testing.T, srv *httptest.Server) destination.Sink {
	s, err := Preset().Build(config.Destination{Name: "b", Kind: Name, URL: srv.URL, Credential: &config.SecretRef{Env: "BRAZE"}},
		destination.Env{HTTP: srv.Client(), Secrets: apitest.Secrets{"BRAZE": "rest-key"}})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func members(n int) []destination.Member {
	var out []destination.Member
	for i := range n {
		out = append(out, destination.Member{ProfileID: fmt.Sprintf("p%d", i), Attributes: map[string]any{"external_id": fmt.Sprintf("p%d", i), "first_name": "Ann"}})
	}
	return out
}

func TestTrack(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		header   map[string]string
		body     string
		events   bool
		sent     int
		rejected string
		kind     error
		after    time.Duration
	}{
		{"attributes accepted", 201, nil, `{"message":"success"}`, false, 3, "[]", nil, 0},
		{"events accepted", 201, nil, `{"message":"success"}`, true, 3, "[]", nil, 0},
		{"minor errors reject the indexed objects", 201, nil, `{"message":"success","errors":[{"type":"'external_id' is required","input_array":"attributes","index":2}]}`, false, 2, "[p2]", nil, 0},
		{"fatal 400 naming an object", 400, nil, `{"message":"Invalid","errors":[{"type":"bad time","input_array":"events","index":0}]}`, true, 0, "[p0 p1 p2]", nil, 0},
		{"fatal 400 naming none rejects all", 400, nil, `{"message":"Bad Request"}`, false, 0, "[p0 p1 p2]", nil, 0},
		{"429 with Retry-After", 429, map[string]string{"Retry-After": "3"}, `{"message":"rate limited"}`, false, 0, "", fault.ErrRetryable, 3 * time.Second},
		{"500", 500, nil, ``, true, 0, "", fault.ErrRetryable, 0},
		{"401", 401, nil, `{"message":"Invalid API key"}`, false, 0, "", fault.ErrUnauthorized, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rec apitest.Recorder
			srv := contract(t, &rec, tt.status, tt.header, tt.body)
			defer srv.Close()
			s := build(t, srv)
			var res destination.Result
			var err error
			if tt.events {
				var evs []destination.Event
				for _, m := range members(3) {
					evs = append(evs, destination.Event{ID: "e" + m.ProfileID, Name: "Order Completed", Time: time.Unix(0, 0), Properties: map[string]any{"revenue": 1.0}, Member: m})
				}
				res, err = s.Events.ForwardEvents(context.Background(), destination.EventBatch{Events: evs})
			} else {
				res, err = s.Profiles.SyncProfiles(context.Background(), destination.ProfileBatch{Members: members(3)})
			}
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
		})
	}
}

func TestTrackRefusesMoreThan75(t *testing.T) {
	var rec apitest.Recorder
	srv := contract(t, &rec, 201, nil, `{}`)
	defer srv.Close()
	if _, err := build(t, srv).Profiles.SyncProfiles(context.Background(), destination.ProfileBatch{Members: members(76)}); err == nil {
		t.Error("SyncProfiles(76 members) = nil error; want the limit refused")
	}
	if len(rec.Calls()) != 0 {
		t.Errorf("%d requests; want none", len(rec.Calls()))
	}
}

func TestBuildNeedsURL(t *testing.T) {
	if _, err := Preset().Build(config.Destination{Kind: Name, Credential: &config.SecretRef{Env: "X"}}, destination.Env{Secrets: apitest.Secrets{}}); err == nil {
		t.Error("Build() without url = nil error; want url: missing")
	}
}
