package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/http/api"
	"github.com/aurum-cdp/aurum/shared/model/fault"
	"github.com/aurum-cdp/aurum/shared/model/profile"
	"github.com/aurum-cdp/aurum/shared/port/store"
)

// withProfiles fills the fake store: p_ann (with p_old merged into it) and
// her events.
func withProfiles(e *env) {
	ann := profile.Profile{
		ID:      "p_ann",
		Version: 3,
		Identifiers: []profile.Identifier{
			{Type: "email", Value: "ann@example.com"},
			{Type: "phone", Value: "+447911123456"},
		},
		Attributes: map[string]profile.Attribute{
			"first_name": {Value: "Ann", Source: "crm", RecordID: "C-1", ObservedAt: now},
		},
		Aggregates:  map[string]any{"orders_count": 2.0},
		RecordCount: 2,
		MergedFrom:  []string{"p_old"},
		CreatedAt:   now,
		UpdatedAt:   now,
	}
	e.profiles.profiles = map[string]profile.Profile{"p_ann": ann}
	e.profiles.redirects = map[string]string{"p_old": "p_ann"}
	e.profiles.owners = map[profile.Identifier]store.Owner{
		{Type: "email", Value: "ann@example.com"}: {Claimant: "p_old", ProfileID: "p_ann"},
		{Type: "phone", Value: "+447911123456"}:   {Claimant: "p_ann", ProfileID: "p_ann"},
	}
	var evs []profile.Event
	for i := range 5 {
		evs = append(evs, profile.Event{ID: fmt.Sprintf("e%d", i), Source: "web", Type: "track", Name: "Viewed",
			Timestamp: now.Add(-time.Duration(i) * time.Hour)})
	}
	e.profiles.events = map[string][]profile.Event{"p_ann": evs}
}

func TestProfileReads(t *testing.T) {
	tests := []struct {
		name     string
		path     string
		want     int
		wantID   string // profile id in the body
		wantCode string
	}{
		{name: "by id", path: "/v1/profiles/p_ann", want: 200, wantID: "p_ann"},
		{name: "merged id follows redirect", path: "/v1/profiles/p_old", want: 200, wantID: "p_ann"},
		{name: "unknown id", path: "/v1/profiles/p_nobody", want: 404, wantCode: "not_found"},
		{name: "by email, normalized", path: "/v1/profiles?identifier=email:%20Ann@Example.COM", want: 200, wantID: "p_ann"},
		{name: "by phone with region", path: "/v1/profiles?identifier=phone:07911%20123456&region=GB", want: 200, wantID: "p_ann"},
		{name: "by phone in E.164", path: "/v1/profiles?identifier=phone:%2B447911123456", want: 200, wantID: "p_ann"},
		{name: "unknown identifier value", path: "/v1/profiles?identifier=email:bob@example.com", want: 404, wantCode: "not_found"},
		{name: "unknown identifier type", path: "/v1/profiles?identifier=ssn:123", want: 400, wantCode: "invalid"},
		{name: "invalid identifier value", path: "/v1/profiles?identifier=email:not-an-address", want: 400, wantCode: "invalid"},
		{name: "identifier without type", path: "/v1/profiles?identifier=ann@example.com", want: 400, wantCode: "invalid"},
		{name: "no identifier", path: "/v1/profiles", want: 400, wantCode: "invalid"},
		{name: "too long id", path: "/v1/profiles/" + strings.Repeat("p", 201), want: 400, wantCode: "invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			withProfiles(e)
			w := e.do(t, request{method: http.MethodGet, path: tt.path, bearer: readKey})
			if w.Code != tt.want {
				t.Fatalf("GET %s = %d %s; want %d", tt.path, w.Code, w.Body, tt.want)
			}
			if tt.want != 200 {
				if er := decode[errResp](t, w); er.Error.Code != tt.wantCode {
					t.Errorf("error code = %q; want %q", er.Error.Code, tt.wantCode)
				}
				if strings.Contains(w.Body.String(), "not-an-address") {
					t.Errorf("error %s echoes the identifier value", w.Body)
				}
				return
			}
			p := decode[profile.Profile](t, w)
			if p.ID != tt.wantID || len(p.Identifiers) != 2 || p.Attributes["first_name"].Source != "crm" {
				t.Errorf("GET %s = %+v; want profile %s with identifiers and provenance", tt.path, p, tt.wantID)
			}
			if got := w.Header().Get("Content-Location"); got != "/v1/profiles/"+tt.wantID {
				t.Errorf("Content-Location = %q; want /v1/profiles/%s", got, tt.wantID)
			}
			if w.Header().Get("Access-Control-Allow-Origin") != "" {
				t.Errorf("read route sends CORS headers")
			}
		})
	}
}

func TestProfileEvents(t *testing.T) {
	type page struct {
		ProfileID  string          `json:"profile_id"`
		Events     []profile.Event `json:"events"`
		NextCursor string          `json:"next_cursor"`
	}
	e := newEnv(t)
	withProfiles(e)
	var got []string
	path := "/v1/profiles/p_old/events?limit=2"
	for pages := 0; path != ""; pages++ {
		if pages > 5 {
			t.Fatal("pagination does not end")
		}
		w := e.do(t, request{method: http.MethodGet, path: path, bearer: readKey})
		if w.Code != http.StatusOK {
			t.Fatalf("GET %s = %d %s; want 200", path, w.Code, w.Body)
		}
		p := decode[page](t, w)
		if p.ProfileID != "p_ann" || len(p.Events) > 2 {
			t.Errorf("GET %s = profile %s, %d events; want p_ann, at most 2", path, p.ProfileID, len(p.Events))
		}
		for _, ev := range p.Events {
			got = append(got, ev.ID)
		}
		path = ""
		if p.NextCursor != "" {
			path = "/v1/profiles/p_ann/events?limit=2&cursor=" + p.NextCursor
		}
	}
	if fmt.Sprint(got) != "[e0 e1 e2 e3 e4]" {
		t.Errorf("paged events = %v; want [e0 e1 e2 e3 e4]", got)
	}

	errTests := []struct {
		path string
		want int
	}{
		{path: "/v1/profiles/p_ann/events?limit=0", want: 400},
		{path: "/v1/profiles/p_ann/events?limit=501", want: 400},
		{path: "/v1/profiles/p_ann/events?limit=ten", want: 400},
		{path: "/v1/profiles/p_ann/events?cursor=zz", want: 400},
		{path: "/v1/profiles/p_nobody/events", want: 404},
	}
	for _, tt := range errTests {
		t.Run(tt.path, func(t *testing.T) {
			w := e.do(t, request{method: http.MethodGet, path: tt.path, bearer: readKey})
			if w.Code != tt.want {
				t.Errorf("GET %s = %d %s; want %d", tt.path, w.Code, w.Body, tt.want)
			}
		})
	}
}

func TestReadAuth(t *testing.T) {
	noReadKeys := func(cfg *config.Config, d *api.Deps, o *api.Options) { o.ReadKeys = nil }
	localMode := func(cfg *config.Config, d *api.Deps, o *api.Options) {
		o.ReadKeys = nil
		o.AllowUnauthenticatedReads = true
	}
	tests := []struct {
		name string
		opt  envOption
		rq   request
		want int
	}{
		{name: "bearer read key", rq: request{bearer: readKey}, want: 200},
		{name: "basic read key", rq: request{basic: readKey}, want: 200},
		{name: "no key", rq: request{}, want: 401},
		{name: "wrong key", rq: request{bearer: "guess"}, want: 401},
		{name: "write key does not read", rq: request{basic: writeKey}, want: 403},
		{name: "no read keys configured", opt: noReadKeys, rq: request{bearer: readKey}, want: 401},
		{name: "no read keys, no key", opt: noReadKeys, rq: request{}, want: 401},
		{name: "local mode from loopback", opt: localMode,
			rq: request{remote: "127.0.0.1:50000", header: map[string]string{"Host": "127.0.0.1:8080"}}, want: 200},
		{name: "local mode from IPv6 loopback", opt: localMode,
			rq: request{remote: "[::1]:50000", header: map[string]string{"Host": "[::1]:8080"}}, want: 200},
		{name: "local mode from elsewhere", opt: localMode, rq: request{remote: "192.0.2.1:50000"}, want: 401},
		{name: "local mode behind a proxy", opt: localMode,
			rq: request{remote: "127.0.0.1:50000", header: map[string]string{"X-Forwarded-For": "192.0.2.1"}}, want: 401},
		{name: "local mode, lambda source ip", opt: localMode, rq: request{remote: "203.0.113.10"}, want: 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var opts []envOption
			if tt.opt != nil {
				opts = append(opts, tt.opt)
			}
			e := newEnv(t, opts...)
			withProfiles(e)
			rq := tt.rq
			rq.method, rq.path = http.MethodGet, "/v1/profiles/p_ann"
			w := e.do(t, rq)
			if w.Code != tt.want {
				t.Errorf("GET /v1/profiles/p_ann = %d %s; want %d", w.Code, w.Body, tt.want)
			}
			if tt.want == 401 && w.Header().Get("WWW-Authenticate") == "" {
				t.Errorf("401 without WWW-Authenticate")
			}
		})
	}
}

func TestProfileStoreFailure(t *testing.T) {
	e := newEnv(t)
	e.profiles.err = fmt.Errorf("dynamo: get profile p_ann: %w", fault.ErrRetryable)
	w := e.do(t, request{method: http.MethodGet, path: "/v1/profiles/p_ann", bearer: readKey})
	if w.Code != http.StatusServiceUnavailable {
		t.Errorf("GET with a throttled store = %d; want 503", w.Code)
	}
	if strings.Contains(w.Body.String(), "dynamo") {
		t.Errorf("error body %s leaks internal detail", w.Body)
	}
}

func TestHealthz(t *testing.T) {
	e := newEnv(t)
	w := e.do(t, request{method: http.MethodGet, path: "/healthz"})
	if w.Code != http.StatusOK || strings.TrimSpace(w.Body.String()) != `{"status":"ok"}` {
		t.Errorf("GET /healthz = %d %s; want 200 {\"status\":\"ok\"}", w.Code, w.Body)
	}
}
