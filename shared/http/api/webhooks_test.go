package api_test

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/source/inbound"
)

// signedStripe returns the Stripe-Signature of body at now.
func signedStripe(t *testing.T, cfg *config.Config, body string) map[string]string {
	t.Helper()
	stripe, _ := cfg.Source("stripe")
	src, err := inbound.New(stripe, cfg.Identifiers)
	if err != nil {
		t.Fatal(err)
	}
	h := src.Sign([]byte(hookSecret), now.Unix(), []byte(body))
	return map[string]string{"Stripe-Signature": h.Get("Stripe-Signature")}
}

func TestWebhooks(t *testing.T) {
	t.Setenv("AURUM_TEST_HOOK_SECRET", hookSecret)
	e := newEnv(t, withEverything(t, keyStore(t), &fakePrivacy{}))
	cfg := testConfig()
	withEverything(t, nil, nil)(cfg, nil2(), nil3())
	sample, err := os.ReadFile("../../../events/webhook-stripe-charge.json")
	if err != nil {
		t.Fatal(err)
	}
	body := string(sample)
	good := signedStripe(t, cfg, body)
	stale := map[string]string{"Stripe-Signature": strings.Replace(good["Stripe-Signature"], "t="+strconv.FormatInt(now.Unix(), 10), "t="+strconv.FormatInt(now.Unix()-3600, 10), 1)}
	tests := []struct {
		name     string
		rq       request
		want     int
		wantBody string
		accepted int
		dups     int
	}{
		{name: "signed charge", rq: request{body: body, header: good}, want: 200, accepted: 1},
		{name: "re-delivery", rq: request{body: body, header: good}, want: 200, dups: 1},
		{name: "tampered body", rq: request{body: strings.Replace(body, "4250", "1", 1), header: good}, want: 401,
			wantBody: `{"error":{"code":"unauthorized","message":"unauthorized"}}`},
		{name: "old timestamp", rq: request{body: body, header: stale}, want: 401},
		{name: "no signature", rq: request{body: body}, want: 401},
		{name: "gzip refused", rq: request{body: body, header: good, gzip: true}, want: 415},
		{name: "unknown source", rq: request{path: "/v1/webhooks/paypal", body: body, header: good}, want: 404},
		{name: "too large", rq: request{body: strings.Repeat(" ", 2<<20), header: good}, want: 413},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rq := tt.rq
			if rq.path == "" {
				rq.path = "/v1/webhooks/stripe"
			}
			w := e.do(t, rq)
			if w.Code != tt.want {
				t.Fatalf("POST %s = %d %s; want %d", rq.path, w.Code, w.Body, tt.want)
			}
			if tt.wantBody != "" && strings.TrimSpace(w.Body.String()) != tt.wantBody {
				t.Errorf("body = %s; want %s", w.Body, tt.wantBody)
			}
			if tt.want == 200 {
				resp := decode[struct {
					EventID    string `json:"event_id"`
					Accepted   int    `json:"accepted"`
					Duplicates int    `json:"duplicates"`
				}](t, w)
				if resp.EventID != "evt_3QnB4dLkdIwHu7ix0AbCdEfG" || resp.Accepted != tt.accepted || resp.Duplicates != tt.dups {
					t.Errorf("response = %+v; want event evt_3QnB4dLkdIwHu7ix0AbCdEfG, %d accepted, %d duplicates", resp, tt.accepted, tt.dups)
				}
			}
		})
	}
	recs := e.ingester.records()
	if len(recs) != 2 || recs[0].ID != "evt_3QnB4dLkdIwHu7ix0AbCdEfG" || recs[0].Source != "stripe" || len(recs[0].Events) != 1 {
		t.Errorf("ingested %+v; want the charge twice (the pipeline de-duplicates) with its event", recs)
	}
}

func TestWebhookSecretMissing(t *testing.T) {
	t.Setenv("AURUM_TEST_HOOK_SECRET", "")
	e := newEnv(t, withEverything(t, keyStore(t), &fakePrivacy{}))
	cfg := testConfig()
	withEverything(t, nil, nil)(cfg, nil2(), nil3())
	body := `{"id":"evt_1","type":"charge.succeeded","data":{"object":{"customer":"c"}}}`
	w := e.do(t, request{path: "/v1/webhooks/stripe", body: body, header: signedStripe(t, cfg, body)})
	if w.Code != 401 || !strings.Contains(e.logs.String(), "webhook secret not available") {
		t.Errorf("webhook without its secret = %d; want 401 and a warning", w.Code)
	}
}
