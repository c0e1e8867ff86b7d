package api_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestLogsCarryNoPII posts identifiable traits through every path that
// logs (accepted, rejected, batch, profile look-up, failure) and checks
// that no trait or identifier value reaches the log output.
func TestLogsCarryNoPII(t *testing.T) {
	pii := []string{"annabelle.smith@example.com", "Annabelle", "Smith", "+447700900123", "07700 900123", "7700900123", "user-8841", "anon-5512"}
	e := newEnv(t)
	withProfiles(e)
	reqs := []request{
		{path: "/v1/identify", basic: writeKey,
			body: `{"userId":"user-8841","anonymousId":"anon-5512","traits":{"email":"annabelle.smith@example.com","first_name":"Annabelle","last_name":"Smith","phone":"07700 900123"}}`},
		{path: "/v1/batch", basic: writeKey,
			body: `{"batch":[{"type":"identify","userId":"user-8841","traits":{"email":"annabelle.smith@example.com","first_name":"Annabelle"}},` +
				`{"type":"track","userId":"user-8841","properties":{"phone":"07700 900123"}},` +
				`{"type":"identify","userId":"user-8841","timestamp":"Annabelle"}]}`},
		{path: "/v1/track", basic: writeKey, body: `{"userId":"user-8841","traits":{"email":"annabelle.smith@example.com"}}`},
		{path: "/v1/track", basic: "Annabelle", body: `{"userId":"user-8841","event":"E"}`},
		{path: "/v1/track", basic: writeKey, body: `{"userId":"user-8841","event":"Annabelle Smith",}`},
		{method: http.MethodGet, path: "/v1/profiles?identifier=email:annabelle.smith@example.com", bearer: readKey},
		{method: http.MethodGet, path: "/v1/profiles?identifier=phone:07700%20900123&region=GB", bearer: readKey},
		{method: http.MethodGet, path: "/v1/profiles?identifier=email:Annabelle", bearer: readKey},
	}
	for _, rq := range reqs {
		e.do(t, rq)
	}
	e.ingester.err = errBoom
	e.do(t, request{path: "/v1/identify", basic: writeKey, body: `{"userId":"user-8841","traits":{"email":"annabelle.smith@example.com"}}`})

	logs := e.logs.String()
	lines := strings.Split(strings.TrimSpace(logs), "\n")
	if len(lines) < len(reqs)+1 {
		t.Fatalf("got %d log lines; want at least %d:\n%s", len(lines), len(reqs)+1, logs)
	}
	for _, s := range pii {
		if strings.Contains(logs, s) {
			t.Errorf("logs contain %q:\n%s", s, logs)
		}
	}
	var first map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatalf("log line %q: %v", lines[0], err)
	}
	if first["route"] != "POST /v1/identify" || first["status"] != 200.0 || first["messages"] != 1.0 || first["source"] != "web" {
		t.Errorf("first log line = %v; want route POST /v1/identify, status 200, 1 message, source web", first)
	}
}

var errBoom = boomError{}

type boomError struct{}

func (boomError) Error() string { return "pipeline: commit failed" }
