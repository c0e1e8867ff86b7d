package api_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/http/api"
)

// FuzzBatch checks that no batch body, however malformed, makes the API
// fail internally or accept more messages than it was sent.
func FuzzBatch(f *testing.F) {
	seeds := []string{
		`{"batch":[{"type":"identify","userId":"u1","traits":{"email":"ann@example.com"}}]}`,
		`{"batch":[{"type":"track","userId":"u1","event":"E","timestamp":"2015-2-02T00:30:08.276Z","sentAt":"x"}],"context":{"ip":"1.2.3.4"}}`,
		`{"batch":[{"type":"alias","userId":"u1","previousId":"a1"},{"type":"group","anonymousId":"a","groupId":1}]}`,
		`{"batch":[{"type":"page","userId":3,"messageId":7,"properties":[]}],"sentAt":5}`,
		`{"batch":null,"writeKey":"x"}`,
		`{"batch":[null,1,"s",[],{"type":{}}]}`,
		`{"batch":[{"type":"track","userId":"u1","event":"E","context":"c"}],"context":{"traits":{"email":"a@b.c"}}}`,
		`[]`, `{`, ``,
	}
	for _, s := range seeds {
		f.Add(s)
	}
	e := newEnv(f)
	f.Fuzz(func(t *testing.T, body string) {
		w := e.do(t, request{path: "/v1/batch", body: body, basic: writeKey})
		if w.Code >= 500 {
			t.Fatalf("POST /v1/batch %q = %d %s; want < 500", body, w.Code, w.Body)
		}
		if w.Code == http.StatusOK {
			resp := decode[trackResp](t, w)
			if n := strings.Count(body, "{"); resp.Accepted+resp.Duplicates > n {
				t.Errorf("accepted %d + duplicates %d messages from a body with %d objects", resp.Accepted, resp.Duplicates, n)
			}
		}
	})
}

// BenchmarkBatch measures the handler on a typical 100-message batch
// (decode, auth, mapping, response) with a no-op ingester.
func BenchmarkBatch(b *testing.B) {
	var sb strings.Builder
	sb.WriteString(`{"batch":[`)
	for i := range 100 {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(`{"type":"track","userId":"u` + itoa(i) + `","event":"Viewed","messageId":"m` + itoa(i) +
			`","properties":{"path":"/p","revenue":9.5},"context":{"ip":"203.0.113.7","library":{"name":"analytics-node"}},"timestamp":"2025-11-29T11:59:00Z"}`)
	}
	sb.WriteString(`],"sentAt":"2025-11-29T12:00:00Z"}`)
	body := sb.String()
	// The per-key rate limit is measured by its own tests, not here.
	e := newEnv(b, func(_ *config.Config, _ *api.Deps, o *api.Options) { o.RatePerSecond = -1 })
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		r := httptest.NewRequest(http.MethodPost, "/v1/batch", strings.NewReader(body))
		r.SetBasicAuth(writeKey, "")
		w := httptest.NewRecorder()
		e.h.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			b.Fatalf("POST /v1/batch = %d %s", w.Code, w.Body)
		}
		e.ingester.seen = nil
		e.ingester.calls = nil
	}
}
