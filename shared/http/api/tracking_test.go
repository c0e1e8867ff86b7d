package api_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/http/api"
	"github.com/aurum-cdp/aurum/shared/model/fault"
	"github.com/aurum-cdp/aurum/shared/model/profile"
	"github.com/aurum-cdp/aurum/shared/port/store"
)

func hasID(ids []profile.Identifier, typ, value string) bool {
	return slices.Contains(ids, profile.Identifier{Type: typ, Value: value})
}

func TestTrackingCalls(t *testing.T) {
	tests := []struct {
		name      string
		path      string
		body      string
		wantType  string // event type; "" for no event
		wantName  string
		wantProps map[string]any
		wantIDs   []profile.Identifier
	}{
		{
			name:    "identify",
			path:    "/v1/identify",
			body:    `{"userId":"u1","messageId":"m1","traits":{"email":"Ann@Example.com","plan":"gold"}}`,
			wantIDs: []profile.Identifier{{Type: "customer_id", Value: "u1"}, {Type: "email", Value: "ann@example.com"}},
		},
		{
			name:      "track",
			path:      "/v1/track",
			body:      `{"userId":"u1","messageId":"m1","event":"Order Completed","properties":{"revenue":14.99}}`,
			wantType:  "track",
			wantName:  "Order Completed",
			wantProps: map[string]any{"revenue": 14.99},
			wantIDs:   []profile.Identifier{{Type: "customer_id", Value: "u1"}},
		},
		{
			name:      "page",
			path:      "/v1/page",
			body:      `{"anonymousId":"a1","messageId":"m1","name":"Pricing","category":"Docs","properties":{"url":"https://example.com/pricing"}}`,
			wantType:  "page",
			wantName:  "Pricing",
			wantProps: map[string]any{"url": "https://example.com/pricing", "category": "Docs"},
			wantIDs:   []profile.Identifier{{Type: "anonymous_id", Value: "a1"}},
		},
		{
			name:      "screen",
			path:      "/v1/screen",
			body:      `{"userId":"u1","messageId":"m1","name":"Home"}`,
			wantType:  "screen",
			wantName:  "Home",
			wantProps: nil,
			wantIDs:   []profile.Identifier{{Type: "customer_id", Value: "u1"}},
		},
		{
			name:      "group",
			path:      "/v1/group",
			body:      `{"userId":"u1","messageId":"m1","groupId":"g-42","traits":{"industry":"Tech"}}`,
			wantType:  "group",
			wantProps: map[string]any{"groupId": "g-42", "traits": map[string]any{"industry": "Tech"}},
			wantIDs:   []profile.Identifier{{Type: "customer_id", Value: "u1"}},
		},
		{
			name:      "alias",
			path:      "/v1/alias",
			body:      `{"userId":"u1","messageId":"m1","previousId":"anon-7"}`,
			wantType:  "alias",
			wantProps: map[string]any{"previousId": "anon-7"},
			wantIDs:   []profile.Identifier{{Type: "customer_id", Value: "u1"}, {Type: "anonymous_id", Value: "anon-7"}},
		},
		{
			name:     "short track (analytics.js)",
			path:     "/v1/t",
			body:     `{"userId":"u1","messageId":"m1","event":"Signed Up","type":"track"}`,
			wantType: "track",
			wantName: "Signed Up",
			wantIDs:  []profile.Identifier{{Type: "customer_id", Value: "u1"}},
		},
		{
			name:    "short identify",
			path:    "/v1/i",
			body:    `{"userId":"u1","messageId":"m1"}`,
			wantIDs: []profile.Identifier{{Type: "customer_id", Value: "u1"}},
		},
		{
			name:     "short page",
			path:     "/v1/p",
			body:     `{"userId":"u1","messageId":"m1","name":"Home"}`,
			wantType: "page",
			wantName: "Home",
			wantIDs:  []profile.Identifier{{Type: "customer_id", Value: "u1"}},
		},
		{
			name:     "short screen",
			path:     "/v1/s",
			body:     `{"userId":"u1","messageId":"m1","name":"Home"}`,
			wantType: "screen",
			wantName: "Home",
			wantIDs:  []profile.Identifier{{Type: "customer_id", Value: "u1"}},
		},
		{
			name:     "short group",
			path:     "/v1/g",
			body:     `{"userId":"u1","messageId":"m1","groupId":"g1"}`,
			wantType: "group",
			wantIDs:  []profile.Identifier{{Type: "customer_id", Value: "u1"}},
		},
		{
			name:     "short alias",
			path:     "/v1/a",
			body:     `{"userId":"u1","messageId":"m1","previousId":"anon-7"}`,
			wantType: "alias",
			wantIDs:  []profile.Identifier{{Type: "customer_id", Value: "u1"}, {Type: "anonymous_id", Value: "anon-7"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			w := e.do(t, request{path: tt.path, body: tt.body, basic: writeKey})
			if w.Code != http.StatusOK {
				t.Fatalf("POST %s = %d %s; want 200", tt.path, w.Code, w.Body)
			}
			resp := decode[trackResp](t, w)
			if !resp.Success || resp.Accepted != 1 {
				t.Errorf("POST %s body = %+v; want success, accepted 1", tt.path, resp)
			}
			if got := w.Header().Get("Access-Control-Allow-Origin"); got != "*" {
				t.Errorf("Access-Control-Allow-Origin = %q; want *", got)
			}
			recs := e.ingester.records()
			if len(recs) != 1 {
				t.Fatalf("ingester got %d records; want 1", len(recs))
			}
			rec := recs[0]
			if rec.Source != "web" || rec.ID != "m1" {
				t.Errorf("record key = %s; want web/m1", rec.Key())
			}
			if !rec.ReceivedAt.Equal(now) || !rec.ObservedAt.Equal(now) {
				t.Errorf("record times = received %v observed %v; want both %v", rec.ReceivedAt, rec.ObservedAt, now)
			}
			for _, id := range tt.wantIDs {
				if !hasID(rec.Identifiers, id.Type, id.Value) {
					t.Errorf("record identifiers = %v; want %s among them", rec.Identifiers, id)
				}
			}
			if tt.wantType == "" {
				if len(rec.Events) != 0 {
					t.Errorf("record events = %v; want none", rec.Events)
				}
				return
			}
			if len(rec.Events) != 1 {
				t.Fatalf("record events = %v; want one", rec.Events)
			}
			ev := rec.Events[0]
			if ev.ID != "m1" || ev.Type != tt.wantType || ev.Name != tt.wantName || ev.Source != "web" {
				t.Errorf("event = %+v; want id m1, type %s, name %q, source web", ev, tt.wantType, tt.wantName)
			}
			if !ev.Timestamp.Equal(now) {
				t.Errorf("event timestamp = %v; want %v", ev.Timestamp, now)
			}
			if tt.wantProps != nil && fmt.Sprint(ev.Properties) != fmt.Sprint(tt.wantProps) {
				t.Errorf("event properties = %v; want %v", ev.Properties, tt.wantProps)
			}
		})
	}
}

func TestTrackingErrors(t *testing.T) {
	big := strings.Repeat("x", api.DefaultMaxEventBytes)
	bigBatch := `{"batch":[` + strings.Repeat(`{"type":"track","userId":"u1","event":"E","properties":{"p":"`+strings.Repeat("y", 20000)+`"}},`, 30) + `{}]}`
	manyMsgs := `{"batch":[` + strings.Repeat(`{},`, api.DefaultMaxBatchMessages) + `{}]}`
	tests := []struct {
		name     string
		rq       request
		ingErr   error
		want     int
		wantCode string
		wantMsg  string // substring of the message
	}{
		{name: "no write key", rq: request{path: "/v1/track", body: `{"userId":"u1","event":"E"}`},
			want: 401, wantCode: "unauthorized", wantMsg: "missing write key"},
		{name: "unknown write key", rq: request{path: "/v1/track", body: `{"userId":"u1","event":"E"}`, basic: "nope"},
			want: 401, wantCode: "unauthorized", wantMsg: "unknown write key"},
		{name: "unknown body write key", rq: request{path: "/v1/track", body: `{"userId":"u1","event":"E","writeKey":"nope"}`},
			want: 401, wantCode: "unauthorized"},
		{name: "read key is no write key", rq: request{path: "/v1/track", body: `{"userId":"u1","event":"E"}`, basic: readKey},
			want: 403, wantCode: "forbidden"},
		{name: "bearer is no write key", rq: request{path: "/v1/track", body: `{"userId":"u1","event":"E"}`, bearer: writeKey},
			want: 401, wantCode: "unauthorized", wantMsg: "not as a Bearer token"},
		{name: "number out of range", rq: request{path: "/v1/track", body: `{"userId":"u1","event":"E","properties":{"n":1e400}}`, basic: writeKey},
			want: 400, wantCode: "invalid", wantMsg: "properties.n: number out of range"},
		{name: "number out of range in an array", rq: request{path: "/v1/identify", body: `{"userId":"u1","traits":{"l":[1,-1e999]}}`, basic: writeKey},
			want: 400, wantCode: "invalid", wantMsg: "traits.l[1]: number out of range"},
		{name: "bad JSON", rq: request{path: "/v1/track", body: "{\"userId\":\"u1\",\n \"event\": }", basic: writeKey},
			want: 400, wantCode: "invalid", wantMsg: "line 2, column 11"},
		{name: "trailing garbage", rq: request{path: "/v1/track", body: `{"userId":"u1","event":"E"} x`, basic: writeKey},
			want: 400, wantCode: "invalid", wantMsg: "line 1, column 29"},
		{name: "not an object", rq: request{path: "/v1/track", body: `[1,2]`, basic: writeKey},
			want: 400, wantCode: "invalid", wantMsg: "JSON object"},
		{name: "null body", rq: request{path: "/v1/track", body: `null`, basic: writeKey},
			want: 400, wantCode: "invalid", wantMsg: "JSON object"},
		{name: "empty body", rq: request{path: "/v1/track", body: ``, basic: writeKey},
			want: 400, wantCode: "invalid"},
		{name: "message too large", rq: request{path: "/v1/track", body: `{"userId":"u1","event":"E","properties":{"p":"` + big + `"}}`, basic: writeKey},
			want: 400, wantCode: "too_large", wantMsg: "32768"},
		{name: "gzip message too large", rq: request{path: "/v1/track", gzip: true, body: `{"userId":"u1","event":"E","properties":{"p":"` + big + `"}}`, basic: writeKey},
			want: 400, wantCode: "too_large"},
		{name: "batch too large", rq: request{path: "/v1/batch", body: bigBatch, basic: writeKey},
			want: 400, wantCode: "too_large", wantMsg: "512000"},
		{name: "too many messages", rq: request{path: "/v1/batch", body: manyMsgs, basic: writeKey},
			want: 400, wantCode: "too_large", wantMsg: "2501 messages"},
		{name: "batch without batch", rq: request{path: "/v1/batch", body: `{"messages":[]}`, basic: writeKey},
			want: 400, wantCode: "invalid", wantMsg: "batch"},
		{name: "batch not an array", rq: request{path: "/v1/batch", body: `{"batch":{}}`, basic: writeKey},
			want: 400, wantCode: "invalid", wantMsg: "array"},
		{name: "unsupported encoding", rq: request{path: "/v1/track", body: `{}`, basic: writeKey, header: map[string]string{"Content-Encoding": "br"}},
			want: 415, wantCode: "unsupported_encoding"},
		{name: "broken gzip", rq: request{path: "/v1/track", body: `{"userId":"u1"}`, basic: writeKey, header: map[string]string{"Content-Encoding": "gzip"}},
			want: 400, wantCode: "invalid", wantMsg: "gzip"},
		{name: "missing user", rq: request{path: "/v1/track", body: `{"event":"E"}`, basic: writeKey},
			want: 400, wantCode: "invalid", wantMsg: "rejected"},
		{name: "track without event", rq: request{path: "/v1/track", body: `{"userId":"u1"}`, basic: writeKey},
			want: 400, wantCode: "invalid"},
		{name: "group without groupId", rq: request{path: "/v1/group", body: `{"userId":"u1"}`, basic: writeKey},
			want: 400, wantCode: "invalid"},
		{name: "alias without previousId", rq: request{path: "/v1/alias", body: `{"userId":"u1"}`, basic: writeKey},
			want: 400, wantCode: "invalid"},
		{name: "bad timestamp", rq: request{path: "/v1/track", body: `{"userId":"u1","event":"E","timestamp":"yesterday"}`, basic: writeKey},
			want: 400, wantCode: "invalid"},
		{name: "long messageId", rq: request{path: "/v1/track", body: `{"userId":"u1","event":"E","messageId":"` + strings.Repeat("m", 101) + `"}`, basic: writeKey},
			want: 400, wantCode: "invalid"},
		{name: "properties not an object", rq: request{path: "/v1/track", body: `{"userId":"u1","event":"E","properties":[1]}`, basic: writeKey},
			want: 400, wantCode: "invalid"},
		{name: "pipeline busy", rq: request{path: "/v1/track", body: `{"userId":"u1","event":"E"}`, basic: writeKey},
			ingErr: fmt.Errorf("pipeline: commit: %w", fault.ErrRetryable), want: 503, wantCode: "unavailable"},
		{name: "pipeline broken", rq: request{path: "/v1/track", body: `{"userId":"u1","event":"E"}`, basic: writeKey},
			ingErr: errors.New("bbolt: database file /secret/path corrupt"), want: 500, wantCode: "internal", wantMsg: "internal error"},
		{name: "wrong method", rq: request{method: http.MethodGet, path: "/v1/track"},
			want: 405, wantCode: "method_not_allowed"},
		{name: "unknown route", rq: request{path: "/v2/track", body: `{}`, basic: writeKey},
			want: 404, wantCode: "not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.ingester.err = tt.ingErr
			w := e.do(t, tt.rq)
			if w.Code != tt.want {
				t.Fatalf("%s %s = %d %s; want %d", tt.rq.method, tt.rq.path, w.Code, w.Body, tt.want)
			}
			er := decode[errResp](t, w)
			if er.Error.Code != tt.wantCode {
				t.Errorf("error code = %q; want %q", er.Error.Code, tt.wantCode)
			}
			if !strings.Contains(er.Error.Message, tt.wantMsg) {
				t.Errorf("error message = %q; want it to contain %q", er.Error.Message, tt.wantMsg)
			}
			if strings.Contains(w.Body.String(), "/secret/path") {
				t.Errorf("error body %s leaks internal detail", w.Body)
			}
			if tt.want == 503 && w.Header().Get("Retry-After") == "" {
				t.Errorf("503 without Retry-After")
			}
			if tt.want == 405 && w.Header().Get("Allow") == "" {
				t.Errorf("405 without Allow")
			}
			if tt.want != 503 && tt.want != 500 && len(e.ingester.records()) != 0 {
				t.Errorf("ingester got %d records; want none", len(e.ingester.records()))
			}
		})
	}
}

func TestWriteKeyForms(t *testing.T) {
	tests := []struct {
		name string
		rq   request
	}{
		{name: "basic with colon", rq: request{basic: writeKey}},
		{name: "basic without colon", rq: request{basic: writeKey, noColon: true}},
		{name: "writeKey in body", rq: request{body: `{"userId":"u1","event":"E","writeKey":"` + writeKey + `"}`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			rq := tt.rq
			rq.path = "/v1/track"
			if rq.body == "" {
				rq.body = `{"userId":"u1","event":"E"}`
			}
			w := e.do(t, rq)
			if w.Code != http.StatusOK {
				t.Fatalf("POST /v1/track = %d %s; want 200", w.Code, w.Body)
			}
			recs := e.ingester.records()
			if len(recs) != 1 {
				t.Fatalf("ingester got %d records; want 1", len(recs))
			}
			if strings.Contains(mustJSON(t, recs[0]), writeKey) {
				t.Errorf("record %s keeps the write key", mustJSON(t, recs[0]))
			}
		})
	}
}

func TestWriteKeySources(t *testing.T) {
	t.Setenv("AURUM_TEST_APP_KEY", "app-key")
	addApp := func(cfg *config.Config, d *api.Deps, o *api.Options) {
		app := cfg.Sources[0]
		app.Name = "app"
		app.WriteKeys = []config.SecretRef{{Env: "AURUM_TEST_APP_KEY"}, {SSM: "/aurum/app/key"}}
		cfg.Sources = append(cfg.Sources, app)
		d.Secrets = fakeSecrets{"/aurum/app/key": "app-ssm-key"}
	}
	tests := []struct {
		key  string
		want string // source; "" for 401
	}{
		{key: writeKey, want: "web"},
		{key: "app-key", want: "app"},
		{key: "app-ssm-key", want: "app"},
		{key: "other", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			e := newEnv(t, addApp)
			w := e.do(t, request{path: "/v1/identify", body: `{"userId":"u1"}`, basic: tt.key})
			if tt.want == "" {
				if w.Code != http.StatusUnauthorized {
					t.Errorf("POST with key %s = %d; want 401", tt.key, w.Code)
				}
				return
			}
			if w.Code != http.StatusOK {
				t.Fatalf("POST with key %s = %d %s; want 200", tt.key, w.Code, w.Body)
			}
			if got := e.ingester.records()[0].Source; got != tt.want {
				t.Errorf("record source = %s; want %s", got, tt.want)
			}
		})
	}
}

func TestSecretResolverFailure(t *testing.T) {
	e := newEnv(t, func(cfg *config.Config, d *api.Deps, o *api.Options) {
		cfg.Sources[0].WriteKeys = []config.SecretRef{{SecretsManager: "aurum/web"}}
		d.Secrets = fakeSecrets{"fail": "x"}
	})
	w := e.do(t, request{path: "/v1/identify", body: `{"userId":"u1"}`, basic: writeKey})
	if w.Code != http.StatusServiceUnavailable {
		t.Errorf("POST with an unresolvable key = %d %s; want 503", w.Code, w.Body)
	}
}

// fakeSecrets resolves SSM and Secrets Manager names from a map; the name
// "fail" present in the map makes every unknown name a transient error.
type fakeSecrets map[string]string

func (f fakeSecrets) Resolve(ctx context.Context, ref config.SecretRef) (string, error) {
	name := ref.SSM + ref.SecretsManager
	if v, ok := f[name]; ok {
		return v, nil
	}
	if _, ok := f["fail"]; ok {
		return "", fmt.Errorf("ssm: throttled: %w", fault.ErrRetryable)
	}
	return "", fault.ErrNotFound
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name string
		opt  envOption
	}{
		{name: "shared key", opt: func(cfg *config.Config, d *api.Deps, o *api.Options) {
			app := cfg.Sources[0]
			app.Name = "app"
			cfg.Sources = append(cfg.Sources, app)
		}},
		{name: "no ingester", opt: func(cfg *config.Config, d *api.Deps, o *api.Options) { d.Ingester = nil }},
		{name: "no profiles", opt: func(cfg *config.Config, d *api.Deps, o *api.Options) { d.Profiles = nil }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			deps := api.Deps{Ingester: &fakeIngester{}, Profiles: &fakeProfiles{}}
			var o api.Options
			tt.opt(cfg, &deps, &o)
			if _, err := api.New(cfg.Sources, cfg.Identifiers, deps, o); err == nil {
				t.Errorf("New = nil error; want an error")
			}
		})
	}
}

func TestUnresolvableKeysIgnored(t *testing.T) {
	e := newEnv(t, func(cfg *config.Config, d *api.Deps, o *api.Options) {
		cfg.Sources[0].WriteKeys = append(cfg.Sources[0].WriteKeys,
			config.SecretRef{SSM: "/aurum/web/key"}, config.SecretRef{Env: "AURUM_TEST_UNSET_VARIABLE"})
	})
	if w := e.do(t, request{path: "/v1/identify", body: `{"userId":"u1"}`, basic: writeKey}); w.Code != http.StatusOK {
		t.Errorf("POST with the remaining key = %d %s; want 200", w.Code, w.Body)
	}
	if !strings.Contains(e.logs.String(), "write key ignored") {
		t.Errorf("logs = %s; want a warning about the ignored keys", e.logs)
	}
}

func TestBatchPartialFailure(t *testing.T) {
	e := newEnv(t)
	body := `{"batch":[
		{"type":"identify","userId":"u1","messageId":"m0","traits":{"email":"ann@example.com"}},
		{"type":"track","userId":"u1","messageId":"m1"},
		{"type":"launch","userId":"u1","messageId":"m2"},
		{"type":"track","userId":"u1","messageId":"m3","event":"E","properties":{"p":"` + strings.Repeat("z", api.DefaultMaxEventBytes) + `"}},
		"not an object",
		{"type":"track","anonymousId":"a1","messageId":"m5","event":"Viewed"},
		{"type":"identify","userId":"u2","messageId":"m6","traits":{"email":"not-an-email"}}
	]}`
	w := e.do(t, request{path: "/v1/batch", body: body, basic: writeKey})
	if w.Code != http.StatusOK {
		t.Fatalf("POST /v1/batch = %d %s; want 200", w.Code, w.Body)
	}
	resp := decode[trackResp](t, w)
	if resp.Accepted != 3 {
		t.Errorf("accepted = %d; want 3 (m0, m5, m6)", resp.Accepted)
	}
	want := map[int]string{1: "invalid", 2: "invalid", 3: "too_large", 4: "invalid"}
	got := make(map[int]string)
	for _, r := range resp.Rejected {
		got[r.Index] = r.Code
		if len(r.Errors) == 0 {
			t.Errorf("rejected item %d has no errors", r.Index)
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("rejected = %v; want %v", got, want)
	}
	for _, r := range resp.Rejected {
		if r.Index == 1 && (r.MessageID != "m1" || r.Errors[0].Field != "event") {
			t.Errorf("rejected[1] = %+v; want messageId m1, field event", r)
		}
	}
	if len(resp.Warnings) != 1 || resp.Warnings[0].MessageID != "m6" {
		t.Errorf("warnings = %+v; want one for m6 (invalid email dropped)", resp.Warnings)
	}
	var ids []string
	for _, r := range e.ingester.records() {
		ids = append(ids, r.ID)
	}
	if fmt.Sprint(ids) != "[m0 m5 m6]" {
		t.Errorf("ingested ids = %v; want [m0 m5 m6]", ids)
	}
	if strings.Contains(w.Body.String(), "not-an-email") {
		t.Errorf("response %s echoes an input value", w.Body)
	}
}

func TestBatchAllInvalid(t *testing.T) {
	e := newEnv(t)
	w := e.do(t, request{path: "/v1/batch", body: `{"batch":[{"type":"track","userId":"u1"}]}`, basic: writeKey})
	if w.Code != http.StatusBadRequest {
		t.Fatalf("POST /v1/batch = %d %s; want 400", w.Code, w.Body)
	}
	er := decode[errResp](t, w)
	if !strings.Contains(string(er.Error.Details), `"index":0`) {
		t.Errorf("details = %s; want the rejected message", er.Error.Details)
	}
}

func TestBatchContextAndEmpty(t *testing.T) {
	e := newEnv(t)
	w := e.do(t, request{path: "/v1/batch", body: `{"batch":[]}`, basic: writeKey})
	if w.Code != http.StatusOK || len(e.ingester.calls) != 0 {
		t.Fatalf("empty batch = %d, %d ingest calls; want 200, none", w.Code, len(e.ingester.calls))
	}
	body := `{"batch":[
		{"type":"track","userId":"u1","messageId":"m1","event":"E","context":{"ip":"203.0.113.7"}},
		{"type":"track","userId":"u1","messageId":"m2","event":"E"}
	],"context":{"ip":"198.51.100.1","library":{"name":"analytics-go"},"traits":{"email":"Ann@example.com"}}}`
	w = e.do(t, request{path: "/v1/batch", body: body, basic: writeKey})
	if w.Code != http.StatusOK {
		t.Fatalf("POST /v1/batch = %d %s; want 200", w.Code, w.Body)
	}
	recs := e.ingester.records()
	if len(recs) != 2 {
		t.Fatalf("ingester got %d records; want 2", len(recs))
	}
	ctx0, _ := recs[0].Events[0].Properties["_context"].(map[string]any)
	ctx1, _ := recs[1].Events[0].Properties["_context"].(map[string]any)
	if ctx0["ip"] != "203.0.113.7" || ctx1["ip"] != "198.51.100.1" {
		t.Errorf("_context ips = %v, %v; want the message's own, then the batch's", ctx0["ip"], ctx1["ip"])
	}
	if _, ok := ctx1["traits"]; ok {
		t.Errorf("_context = %v; want context.traits left out", ctx1)
	}
	if !hasID(recs[1].Identifiers, "email", "ann@example.com") {
		t.Errorf("identifiers = %v; want the batch context's email", recs[1].Identifiers)
	}
}

func TestLargeContextNotKept(t *testing.T) {
	e := newEnv(t)
	body := `{"userId":"u1","messageId":"m1","event":"E","context":{"userAgentData":"` + strings.Repeat("u", 3000) + `"}}`
	if w := e.do(t, request{path: "/v1/track", body: body, basic: writeKey}); w.Code != http.StatusOK {
		t.Fatalf("POST /v1/track = %d %s; want 200", w.Code, w.Body)
	}
	if _, ok := e.ingester.records()[0].Events[0].Properties["_context"]; ok {
		t.Errorf("event keeps a %d-byte context; want it dropped", 3000)
	}
}

func TestMessageIDDedupe(t *testing.T) {
	tests := []struct {
		name       string
		first      string
		second     string
		sameID     bool
		wantPrefix string
	}{
		{name: "same messageId",
			first:  `{"userId":"u1","event":"E","messageId":"m-1","sentAt":"2025-11-29T11:59:59Z"}`,
			second: `{"userId":"u1","event":"E","messageId":"m-1","sentAt":"2025-11-29T11:59:59Z"}`,
			sameID: true, wantPrefix: "m-1"},
		{name: "retried payload without messageId",
			first:  `{"userId":"u1","event":"E","timestamp":"2025-11-29T11:00:00Z","sentAt":"2025-11-29T11:00:01Z","_metadata":{"retryCount":0}}`,
			second: `{"timestamp":"2025-11-29T11:00:00Z","event":"E","userId":"u1","sentAt":"2025-11-29T11:05:00Z","_metadata":{"retryCount":1}}`,
			sameID: true, wantPrefix: "aurum-"},
		{name: "different payloads without messageId",
			first:  `{"userId":"u1","event":"E","timestamp":"2025-11-29T11:00:00Z"}`,
			second: `{"userId":"u1","event":"E","timestamp":"2025-11-29T11:00:01Z"}`,
			sameID: false, wantPrefix: "aurum-"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			for _, b := range []string{tt.first, tt.second} {
				if w := e.do(t, request{path: "/v1/track", body: b, basic: writeKey}); w.Code != http.StatusOK {
					t.Fatalf("POST /v1/track = %d %s; want 200", w.Code, w.Body)
				}
			}
			recs := e.ingester.records()
			if len(recs) != 2 {
				t.Fatalf("ingester got %d records; want 2", len(recs))
			}
			if got := recs[0].ID == recs[1].ID; got != tt.sameID {
				t.Errorf("record ids %q, %q: same = %v; want %v", recs[0].ID, recs[1].ID, got, tt.sameID)
			}
			if !strings.HasPrefix(recs[0].ID, tt.wantPrefix) || recs[0].Events[0].ID != recs[0].ID {
				t.Errorf("record id %q, event id %q; want prefix %q and equal ids", recs[0].ID, recs[0].Events[0].ID, tt.wantPrefix)
			}
		})
	}
}

func TestDuplicateResponse(t *testing.T) {
	e := newEnv(t)
	body := `{"batch":[
		{"type":"track","userId":"u1","messageId":"m1","event":"E"},
		{"type":"track","userId":"u1","messageId":"m1","event":"E"}
	]}`
	w := e.do(t, request{path: "/v1/batch", body: body, basic: writeKey})
	resp := decode[trackResp](t, w)
	if resp.Accepted != 1 || resp.Duplicates != 1 || len(e.ingester.records()) != 1 {
		t.Errorf("batch with a repeated message = %+v, %d records ingested; want accepted 1, duplicates 1, 1 record", resp, len(e.ingester.records()))
	}
	w = e.do(t, request{path: "/v1/batch", body: body, basic: writeKey})
	resp = decode[trackResp](t, w)
	if resp.Accepted != 0 || resp.Duplicates != 2 {
		t.Errorf("re-delivered batch = %+v; want accepted 0, duplicates 2", resp)
	}
}

func TestClockSkew(t *testing.T) {
	tests := []struct {
		name string
		path string
		body string
		want time.Time
	}{
		{name: "no client time", path: "/v1/track",
			body: `{"userId":"u1","event":"E"}`, want: now},
		{name: "timestamp without sentAt", path: "/v1/track",
			body: `{"userId":"u1","event":"E","timestamp":"2024-01-02T03:04:05.678+01:00"}`,
			want: time.Date(2024, 1, 2, 2, 4, 5, 678e6, time.UTC)},
		{name: "device clock two hours behind", path: "/v1/track",
			body: `{"userId":"u1","event":"E","originalTimestamp":"2025-11-29T09:55:00Z","sentAt":"2025-11-29T10:00:00Z"}`,
			want: time.Date(2025, 11, 29, 11, 55, 0, 0, time.UTC)},
		{name: "timestamp corrected by sentAt", path: "/v1/track",
			body: `{"userId":"u1","event":"E","timestamp":"2025-11-29T13:59:00Z","sentAt":"2025-11-29T14:00:00Z"}`,
			want: time.Date(2025, 11, 29, 11, 59, 0, 0, time.UTC)},
		{name: "batch sentAt", path: "/v1/batch",
			body: `{"batch":[{"type":"track","userId":"u1","event":"E","timestamp":"2025-11-29T12:30:00Z"}],"sentAt":"2025-11-29T12:31:00Z"}`,
			want: time.Date(2025, 11, 29, 11, 59, 0, 0, time.UTC)},
		{name: "one-digit month as in Segment's docs", path: "/v1/track",
			body: `{"userId":"u1","event":"E","timestamp":"2015-2-02T00:30:08.276Z"}`,
			want: time.Date(2015, 2, 2, 0, 30, 8, 276e6, time.UTC)},
		{name: "unreadable sentAt skips correction", path: "/v1/track",
			body: `{"userId":"u1","event":"E","timestamp":"2025-11-29T10:00:00Z","sentAt":"soon"}`,
			want: time.Date(2025, 11, 29, 10, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			w := e.do(t, request{path: tt.path, body: tt.body, basic: writeKey})
			if w.Code != http.StatusOK {
				t.Fatalf("POST %s = %d %s; want 200", tt.path, w.Code, w.Body)
			}
			rec := e.ingester.records()[0]
			if !rec.Events[0].Timestamp.Equal(tt.want) || !rec.ObservedAt.Equal(tt.want) {
				t.Errorf("event timestamp %v, observed %v; want %v", rec.Events[0].Timestamp, rec.ObservedAt, tt.want)
			}
			if rec.Events[0].Timestamp.Location() != time.UTC {
				t.Errorf("event timestamp location = %v; want UTC", rec.Events[0].Timestamp.Location())
			}
		})
	}
}

func TestAliasPreviousID(t *testing.T) {
	tests := []struct {
		name    string
		owners  map[profile.Identifier]store.Owner
		want    profile.Identifier
		notWant profile.Identifier
	}{
		{name: "unknown previousId is an anonymousId",
			want:    profile.Identifier{Type: "anonymous_id", Value: "prev-1"},
			notWant: profile.Identifier{Type: "customer_id", Value: "prev-1"}},
		{name: "previousId claimed as a userId",
			owners:  map[profile.Identifier]store.Owner{{Type: "customer_id", Value: "prev-1"}: {Claimant: "p_9", ProfileID: "p_9"}},
			want:    profile.Identifier{Type: "customer_id", Value: "prev-1"},
			notWant: profile.Identifier{Type: "anonymous_id", Value: "prev-1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.profiles.owners = tt.owners
			w := e.do(t, request{path: "/v1/alias", body: `{"userId":"u2","previousId":"prev-1","messageId":"m1"}`, basic: writeKey})
			if w.Code != http.StatusOK {
				t.Fatalf("POST /v1/alias = %d %s; want 200", w.Code, w.Body)
			}
			ids := e.ingester.records()[0].Identifiers
			if !hasID(ids, "customer_id", "u2") || !hasID(ids, tt.want.Type, tt.want.Value) || hasID(ids, tt.notWant.Type, tt.notWant.Value) {
				t.Errorf("alias identifiers = %v; want customer_id:u2 and %s, not %s", ids, tt.want, tt.notWant)
			}
		})
	}
}

// TestAnalyticsGoRequest replays what github.com/segmentio/analytics-go/v3
// sends: a gzip-free batch with Basic auth and a library context; then the
// same as analytics-python sends it, gzip-compressed.
func TestAnalyticsGoRequest(t *testing.T) {
	body := `{"batch":[{"type":"identify","messageId":"6f3b2a9e-1c4d-4e5f-8a7b-9c0d1e2f3a4b","userId":"019mr8mf4r","traits":{"email":"pgibbons@example.com","name":"Peter Gibbons"},"timestamp":"2025-11-29T11:59:58.123456789Z"},` +
		`{"type":"track","messageId":"0a1b2c3d-4e5f-4a6b-8c7d-8e9f0a1b2c3d","userId":"019mr8mf4r","event":"Item Purchased","properties":{"revenue":39.95,"shipping":"2-day"},"timestamp":"2025-11-29T11:59:59Z"}],` +
		`"messageId":"b1c2d3e4-f5a6-4b7c-8d9e-0f1a2b3c4d5e","sentAt":"2025-11-29T12:00:00Z","context":{"library":{"name":"analytics-go","version":"3.3.0"}}}`
	for _, gz := range []bool{false, true} {
		t.Run(fmt.Sprintf("gzip=%v", gz), func(t *testing.T) {
			e := newEnv(t)
			w := e.do(t, request{path: "/v1/batch", body: body, gzip: gz, basic: writeKey,
				header: map[string]string{"User-Agent": "analytics-go (version: 3.3.0)"}})
			if w.Code != http.StatusOK {
				t.Fatalf("POST /v1/batch = %d %s; want 200", w.Code, w.Body)
			}
			if resp := decode[trackResp](t, w); !resp.Success || resp.Accepted != 2 {
				t.Errorf("response = %+v; want success with 2 accepted", resp)
			}
			if n := len(e.ingester.records()); n != 2 {
				t.Errorf("ingester got %d records; want 2", n)
			}
		})
	}
}

func TestPreflight(t *testing.T) {
	e := newEnv(t)
	w := e.do(t, request{method: http.MethodOptions, path: "/v1/t",
		header: map[string]string{"Origin": "https://shop.example.com", "Access-Control-Request-Method": "POST"}})
	if w.Code != http.StatusNoContent || w.Header().Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("OPTIONS /v1/t = %d, allow-origin %q; want 204, *", w.Code, w.Header().Get("Access-Control-Allow-Origin"))
	}
}

func TestConcurrentRequests(t *testing.T) {
	e := newEnv(t, func(cfg *config.Config, d *api.Deps, o *api.Options) {
		cfg.Sources[0].WriteKeys = []config.SecretRef{{SSM: "/aurum/web/key"}}
		d.Secrets = fakeSecrets{"/aurum/web/key": writeKey}
	})
	const n = 20
	codes := make(chan int, n)
	for i := range n {
		go func() {
			body := fmt.Sprintf(`{"userId":"u%d","event":"E","messageId":"m%d"}`, i, i)
			codes <- e.do(t, request{path: "/v1/track", body: body, basic: writeKey}).Code
		}()
	}
	for range n {
		if c := <-codes; c != http.StatusOK {
			t.Errorf("concurrent POST = %d; want 200", c)
		}
	}
	if got := len(e.ingester.records()); got != n {
		t.Errorf("ingester got %d records; want %d", got, n)
	}
}

func TestFutureTimestampClamped(t *testing.T) {
	tests := []struct {
		name     string
		path     string
		body     string
		want     time.Time
		wantWarn string // field of the expected warning, "" for none
	}{
		{name: "2099 timestamp", path: "/v1/track",
			body: `{"userId":"u1","event":"E","timestamp":"2099-01-01T00:00:00Z"}`,
			want: now, wantWarn: "timestamp"},
		{name: "2099 originalTimestamp on identify", path: "/v1/identify",
			body: `{"userId":"u1","traits":{"plan":"pro"},"originalTimestamp":"2099-01-01T00:00:00Z"}`,
			want: now, wantWarn: "originalTimestamp"},
		{name: "future after skew correction", path: "/v1/track",
			body: `{"userId":"u1","event":"E","timestamp":"2099-01-01T00:00:00Z","sentAt":"2025-11-29T12:00:00Z"}`,
			want: now, wantWarn: "timestamp"},
		{name: "within the tolerance", path: "/v1/track",
			body: `{"userId":"u1","event":"E","timestamp":"2025-11-29T12:04:00Z"}`,
			want: now.Add(4 * time.Minute)},
		{name: "ahead but corrected by sentAt", path: "/v1/track",
			body: `{"userId":"u1","event":"E","timestamp":"2099-01-01T00:00:00Z","sentAt":"2099-01-01T00:00:01Z"}`,
			want: now.Add(-time.Second)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			w := e.do(t, request{path: tt.path, body: tt.body, basic: writeKey})
			if w.Code != http.StatusOK {
				t.Fatalf("POST %s = %d %s; want 200", tt.path, w.Code, w.Body)
			}
			rec := e.ingester.records()[0]
			if !rec.ObservedAt.Equal(tt.want) {
				t.Errorf("observed_at = %v; want %v", rec.ObservedAt, tt.want)
			}
			for _, ev := range rec.Events {
				if !ev.Timestamp.Equal(tt.want) {
					t.Errorf("event timestamp = %v; want %v", ev.Timestamp, tt.want)
				}
			}
			resp := decode[trackResp](t, w)
			got := ""
			for _, r := range resp.Warnings {
				for _, fe := range r.Errors {
					got = fe.Field
				}
			}
			if got != tt.wantWarn {
				t.Errorf("warning field = %q (%s); want %q", got, w.Body, tt.wantWarn)
			}
		})
	}
}

func TestFutureMappedObservedAtClamped(t *testing.T) {
	e := newEnv(t, func(c *config.Config, _ *api.Deps, _ *api.Options) {
		c.Sources[0].Mapping.ObservedAt = &config.Field{Field: "traits.updated_at"}
	})
	w := e.do(t, request{path: "/v1/identify", basic: writeKey,
		body: `{"userId":"u1","traits":{"plan":"pro","updated_at":"2099-01-01T00:00:00Z"}}`})
	if w.Code != http.StatusOK {
		t.Fatalf("POST = %d %s; want 200", w.Code, w.Body)
	}
	if rec := e.ingester.records()[0]; !rec.ObservedAt.Equal(now) {
		t.Errorf("observed_at = %v; want the time received %v", rec.ObservedAt, now)
	}
	if !strings.Contains(w.Body.String(), `"field":"traits.updated_at"`) {
		t.Errorf("body = %s; want a warning on traits.updated_at", w.Body)
	}
}

func TestGroupTraitsStayOffThePerson(t *testing.T) {
	tests := []struct {
		name string
		opt  envOption
	}{
		{name: "mapped traits fields", opt: func(*config.Config, *api.Deps, *api.Options) {}},
		{name: "attributes_from traits", opt: func(c *config.Config, _ *api.Deps, _ *api.Options) {
			c.Sources[0].Mapping.AttributesFrom = "traits"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.opt)
			w := e.do(t, request{path: "/v1/group", basic: writeKey, body: `{"userId":"u1","groupId":"acme",` +
				`"traits":{"name":"Acme","plan":"enterprise","first_name":"Acme","email":"billing@acme.example"},` +
				`"context":{"traits":{"email":"ann@example.com"}}}`})
			if w.Code != http.StatusOK {
				t.Fatalf("POST /v1/group = %d %s; want 200", w.Code, w.Body)
			}
			rec := e.ingester.records()[0]
			if len(rec.Attributes) != 0 {
				t.Errorf("person attributes = %v; want none from group traits", rec.Attributes)
			}
			if hasID(rec.Identifiers, "email", "billing@acme.example") {
				t.Errorf("identifiers = %v; want no identifier from group traits", rec.Identifiers)
			}
			if !hasID(rec.Identifiers, "email", "ann@example.com") || !hasID(rec.Identifiers, "customer_id", "u1") {
				t.Errorf("identifiers = %v; want the person's userId and context.traits.email", rec.Identifiers)
			}
			ev := rec.Events[0]
			traits, _ := ev.Properties["traits"].(map[string]any)
			if ev.Properties["groupId"] != "acme" || traits["name"] != "Acme" {
				t.Errorf("group event properties = %v; want groupId and the group's traits", ev.Properties)
			}
		})
	}
}

func TestInvalidUTF8IsAFieldError(t *testing.T) {
	bad := "ann\xff@example.com"
	tests := []struct {
		name      string
		path      string
		body      string
		wantCode  int
		wantField string
	}{
		{name: "identify trait", path: "/v1/identify", wantCode: 400, wantField: "traits.email",
			body: `{"userId":"u1","traits":{"email":"` + bad + `"}}`},
		{name: "nested in an array", path: "/v1/track", wantCode: 400, wantField: "properties.items[1].sku",
			body: `{"userId":"u1","event":"E","properties":{"items":[{"sku":"a"},{"sku":"` + "\xc3" + `"}]}}`},
		{name: "a key", path: "/v1/track", wantCode: 400, wantField: "properties",
			body: `{"userId":"u1","event":"E","properties":{"k` + "\xff" + `":1}}`},
		{name: "batch item", path: "/v1/batch", wantCode: 200, wantField: "traits.email",
			body: `{"batch":[{"type":"identify","userId":"u1","traits":{"email":"` + bad + `"}},{"type":"track","userId":"u2","event":"E"}]}`},
		{name: "batch context", path: "/v1/batch", wantCode: 400, wantField: "context.page.title",
			body: `{"batch":[{"type":"track","userId":"u2","event":"E"}],"context":{"page":{"title":"` + "\xfe" + `"}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			w := e.do(t, request{path: tt.path, body: tt.body, basic: writeKey})
			if w.Code != tt.wantCode {
				t.Fatalf("POST %s = %d %s; want %d", tt.path, w.Code, w.Body, tt.wantCode)
			}
			want := `{"field":"` + tt.wantField + `","reason":"invalid UTF-8`
			if !strings.Contains(w.Body.String(), want) {
				t.Errorf("body = %s; want a field error %s…", w.Body, want)
			}
			for _, rec := range e.ingester.records() {
				if hasID(rec.Identifiers, "email", "ann\uFFFD@example.com") {
					t.Errorf("identifiers = %v; want no replaced e-mail", rec.Identifiers)
				}
			}
		})
	}
}

func TestBatchItemNumberOutOfRange(t *testing.T) {
	e := newEnv(t)
	w := e.do(t, request{path: "/v1/batch", basic: writeKey,
		body: `{"batch":[{"type":"track","userId":"u1","event":"E","properties":{"revenue":1e400}},{"type":"track","userId":"u2","event":"E"}]}`})
	if w.Code != http.StatusOK {
		t.Fatalf("POST /v1/batch = %d %s; want 200", w.Code, w.Body)
	}
	resp := decode[trackResp](t, w)
	if len(resp.Rejected) != 1 || len(resp.Rejected[0].Errors) != 1 {
		t.Fatalf("rejected = %+v; want one item with one error", resp.Rejected)
	}
	if fe := resp.Rejected[0].Errors[0]; fe.Field != "properties.revenue" || fe.Reason != "number out of range" {
		t.Errorf("error = %+v; want properties.revenue: number out of range", fe)
	}
}

func TestAllowedTraits(t *testing.T) {
	e := newEnv(t, func(c *config.Config, _ *api.Deps, _ *api.Options) {
		c.Sources[0].AllowedTraits = []string{"email", "first_name"}
		c.Sources[0].Mapping.AttributesFrom = "traits"
	})
	w := e.do(t, request{path: "/v1/identify", basic: writeKey, body: `{"userId":"u1",` +
		`"traits":{"email":"ann@example.com","first_name":"Ann","plan":"enterprise","is_admin":true},` +
		`"context":{"traits":{"phone":"+447911123456","first_name":"Ann"}}}`})
	if w.Code != http.StatusOK {
		t.Fatalf("POST /v1/identify = %d %s; want 200", w.Code, w.Body)
	}
	rec := e.ingester.records()[0]
	if _, ok := rec.Attributes["plan"]; ok {
		t.Errorf("attributes = %v; want no plan (not an allowed trait)", rec.Attributes)
	}
	if _, ok := rec.Attributes["is_admin"]; ok {
		t.Errorf("attributes = %v; want no is_admin (not an allowed trait)", rec.Attributes)
	}
	if rec.Attributes["first_name"] != "Ann" || !hasID(rec.Identifiers, "email", "ann@example.com") {
		t.Errorf("record = %v %v; want the allowed traits first_name and email", rec.Attributes, rec.Identifiers)
	}
	if hasID(rec.Identifiers, "phone", "+447911123456") {
		t.Errorf("identifiers = %v; want no phone from context.traits (not allowed)", rec.Identifiers)
	}
	for _, f := range []string{"traits.plan", "traits.is_admin", "context.traits.phone"} {
		if !strings.Contains(w.Body.String(), `{"field":"`+f+`","reason":"not in the source's allowed_traits; dropped"}`) {
			t.Errorf("body = %s; want a warning on %s", w.Body, f)
		}
	}
}
