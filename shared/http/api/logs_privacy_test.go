package api_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestNewRoutesLogNoPII extends TestLogsCarryNoPII to the webhook,
// provenance, export and erase routes, including failures (bad
// signature, rejected items, unknown profiles, wrong scopes).
func TestNewRoutesLogNoPII(t *testing.T) {
	t.Setenv("AURUM_TEST_HOOK_SECRET", hookSecret)
	pii := []string{"annabelle.smith@example.com", "Annabelle", "Smith", "+447700900123", "cus_SECRET42", "ann@example.com", hookSecret, adminKey, readKey}
	e := newEnv(t, withEverything(t, keyStore(t), &fakePrivacy{}))
	withProfiles(e)
	cfg := testConfig()
	withEverything(t, nil, nil)(cfg, nil2(), nil3())
	charge := `{"id":"evt_pii_1","type":"charge.succeeded","created":1764331500,"data":{"object":{"id":"ch_1","customer":"cus_SECRET42",` +
		`"billing_details":{"email":"annabelle.smith@example.com","name":"Annabelle Smith","phone":"+447700900123"}}}}`
	bad := `{"id":"evt_pii_2","type":"charge.succeeded","data":{"object":{"billing_details":{"email":"Annabelle","name":"Smith"}}}}`
	reqs := []request{
		{path: "/v1/webhooks/stripe", body: charge, header: signedStripe(t, cfg, charge)},
		{path: "/v1/webhooks/stripe", body: bad, header: signedStripe(t, cfg, bad)},
		{path: "/v1/webhooks/stripe", body: charge, header: map[string]string{"Stripe-Signature": "t=1,v1=annabelle.smith@example.com"}},
		{method: http.MethodGet, path: "/v1/profiles/p_ann/provenance", bearer: readKey},
		{method: http.MethodGet, path: "/v1/profiles/p_ann/export", bearer: readKey},
		{method: http.MethodGet, path: "/v1/profiles/annabelle.smith@example.com/export", bearer: readKey},
		{method: http.MethodDelete, path: "/v1/profiles/p_ann", bearer: readKey},
		{method: http.MethodDelete, path: "/v1/profiles/p_ann", bearer: adminKey},
		{method: http.MethodDelete, path: "/v1/profiles/Annabelle", bearer: adminKey},
	}
	codes := map[int]bool{}
	for _, rq := range reqs {
		codes[e.do(t, rq).Code] = true
	}
	for _, c := range []int{200, 401, 403, 404} {
		if !codes[c] {
			t.Errorf("no request answered %d; the test should cover it", c)
		}
	}
	logs := e.logs.String()
	if n := strings.Count(strings.TrimSpace(logs), "\n") + 1; n < len(reqs) {
		t.Fatalf("got %d log lines; want at least %d:\n%s", n, len(reqs), logs)
	}
	for _, s := range pii {
		if strings.Contains(logs, s) {
			t.Errorf("logs contain %q:\n%s", s, logs)
		}
	}
}
