package api_test

import (
	"encoding/json"
	"net/http"
	"os"
	"testing"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/http/api"
)

// singleRoutes are the single-event routes of the tracking API.
var singleRoutes = []string{"/v1/track", "/v1/identify", "/v1/page", "/v1/screen", "/v1/group", "/v1/alias"}

// FuzzSingleEvent checks that no single-event body makes the API fail
// internally, that only a JSON body is accepted, and that a request
// accepts at most the one message it carries.
func FuzzSingleEvent(f *testing.F) {
	for i, name := range []string{"api-track.json", "api-identify.json"} {
		b, err := os.ReadFile("../../../events/" + name)
		if err != nil {
			f.Fatal(err)
		}
		var gw struct {
			Body string `json:"body"`
		}
		if err := json.Unmarshal(b, &gw); err != nil {
			f.Fatal(err)
		}
		f.Add(uint8(i), gw.Body)
	}
	for _, s := range []string{
		`{"userId":"u1","event":"E","timestamp":"2099-01-01T00:00:00Z","sentAt":"2000-01-01T00:00:00Z"}`,
		`{"anonymousId":"a","name":"Home","properties":{"url":"https://x"}}`,
		`{"userId":"u1","groupId":"g1","traits":{"name":"Acme"}}`,
		`{"userId":"u1","previousId":"a1"}`,
		`{"userId":1e400}`, `{"userId":"u1","traits":{"email":"a\xffb@example.com"}}`,
		`{"userId":"u1","context":[],"integrations":"x","messageId":{}}`,
		`null`, `[]`, `{`, ``,
	} {
		f.Add(uint8(0), s)
		f.Add(uint8(4), s)
	}
	e := newEnv(f, func(_ *config.Config, _ *api.Deps, o *api.Options) { o.RatePerSecond = -1 })
	f.Fuzz(func(t *testing.T, route uint8, body string) {
		path := singleRoutes[int(route)%len(singleRoutes)]
		w := e.do(t, request{path: path, body: body, basic: writeKey})
		if w.Code >= 500 {
			t.Fatalf("POST %s %q = %d %s; want < 500", path, body, w.Code, w.Body)
		}
		if w.Code != http.StatusOK {
			return
		}
		if !json.Valid([]byte(body)) {
			t.Errorf("POST %s %q = 200; want an error for a body that is not JSON", path, body)
		}
		resp := decode[trackResp](t, w)
		if resp.Accepted+resp.Duplicates > 1 {
			t.Errorf("POST %s %q accepted %d + duplicates %d; want at most 1", path, body, resp.Accepted, resp.Duplicates)
		}
		e.ingester.seen, e.ingester.calls = nil, nil
	})
}
