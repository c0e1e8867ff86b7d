package api_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/http/api"
	"github.com/aurum-cdp/aurum/shared/model/profile"
)

func withAdmin(cfg *config.Config, d *api.Deps, o *api.Options) {
	o.AdminKeys = []config.SecretRef{{SHA256: sha256Hex(adminKey)}}
}

func TestTrackingCapturesSegmentConsent(t *testing.T) {
	e := newEnv(t)
	body := `{"userId":"u1","event":"Viewed","timestamp":"2025-11-29T11:00:00Z",
		"context":{"consent":{"categoryPreferences":{"Advertising":true,"Analytics":false,"Functional":"yes"}}}}`
	w := e.do(t, request{path: "/v1/track", body: body, basic: writeKey})
	if w.Code != http.StatusOK {
		t.Fatalf("POST /v1/track = %d %s", w.Code, w.Body)
	}
	rec := e.ingester.records()[0]
	want := map[string]any{"consent.advertising": true, "consent.analytics": false}
	for k, v := range want {
		if rec.Attributes[k] != v {
			t.Errorf("record attribute %s = %v; want %v", k, rec.Attributes[k], v)
		}
	}
	if _, ok := rec.Attributes["consent.functional"]; ok {
		t.Errorf("a non-boolean category was taken: %v", rec.Attributes)
	}
	if want := time.Date(2025, 11, 29, 11, 0, 0, 0, time.UTC); !rec.ObservedAt.Equal(want) {
		t.Errorf("observed_at = %v; want the message's timestamp %v", rec.ObservedAt, want)
	}
	resp := decode[trackResp](t, w)
	found := false
	for _, r := range resp.Warnings {
		for _, fe := range r.Errors {
			found = found || fe.Field == "context.consent.categoryPreferences.Functional"
		}
	}
	if !found {
		t.Errorf("no warning for the non-boolean category: %s", w.Body)
	}
}

func TestPutConsent(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		status  int
		purpose map[string]any
		at      time.Time
	}{
		{"grant and withdraw", `{"purposes":{"email":true,"ads":false}}`, 200, map[string]any{"consent.email": true, "consent.ads": false}, now},
		{"observed_at given", `{"purposes":{"email":false},"observed_at":"2025-11-01T08:00:00Z"}`, 200, map[string]any{"consent.email": false}, time.Date(2025, 11, 1, 8, 0, 0, 0, time.UTC)},
		{"no purposes", `{"purposes":{}}`, 400, nil, time.Time{}},
		{"not a boolean", `{"purposes":{"email":"yes"}}`, 400, nil, time.Time{}},
		{"purpose not normalised", `{"purposes":{"E-mail":true}}`, 400, nil, time.Time{}},
		{"not JSON", `{"purposes":`, 400, nil, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, withAdmin)
			withProfiles(e)
			e.profiles.profiles["p_1"] = profile.Profile{ID: "p_1", Attributes: map[string]profile.Attribute{"consent.email": {Value: true, Source: "consent", RecordID: "r", ObservedAt: now}}}
			w := e.do(t, request{method: http.MethodPut, path: "/v1/profiles/p_old/consent", body: tt.body, bearer: adminKey})
			if w.Code != tt.status {
				t.Fatalf("PUT consent = %d %s; want %d", w.Code, w.Body, tt.status)
			}
			recs := e.ingester.records()
			if tt.status != 200 {
				if len(recs) != 0 {
					t.Errorf("a refused call ingested %d records", len(recs))
				}
				return
			}
			if len(recs) != 1 {
				t.Fatalf("ingested %d records; want 1", len(recs))
			}
			rec := recs[0]
			if rec.Source != "consent" || len(rec.Identifiers) != 2 || !rec.ReceivedAt.Equal(now) || !rec.ObservedAt.Equal(tt.at) {
				t.Errorf("record = %+v; want source consent, the profile's 2 identifiers, received %v, observed %v", rec, now, tt.at)
			}
			if len(rec.Attributes) != len(tt.purpose) {
				t.Errorf("record attributes = %v; want %v", rec.Attributes, tt.purpose)
			}
			for k, v := range tt.purpose {
				if rec.Attributes[k] != v {
					t.Errorf("record %s = %v; want %v", k, rec.Attributes[k], v)
				}
			}
			got := decode[struct {
				ProfileID string `json:"profile_id"`
				Consent   []struct {
					Purpose string `json:"purpose"`
					Granted bool   `json:"granted"`
				} `json:"consent"`
			}](t, w)
			if got.ProfileID != "p_1" || len(got.Consent) != 1 || got.Consent[0].Purpose != "email" {
				t.Errorf("answer = %+v; want the read-back profile p_1's consent", got)
			}
		})
	}
}

func TestPutConsentRetryIsANoOp(t *testing.T) {
	e := newEnv(t, withAdmin)
	withProfiles(e)
	e.profiles.profiles["p_1"] = e.profiles.profiles["p_ann"]
	for range 2 {
		w := e.do(t, request{method: http.MethodPut, path: "/v1/profiles/p_ann/consent", body: `{"purposes":{"email":true},"record_id":"pref-centre-42"}`, bearer: adminKey})
		if w.Code != 200 {
			t.Fatalf("PUT = %d %s", w.Code, w.Body)
		}
	}
	recs := e.ingester.records()
	if len(recs) != 2 || recs[0].Key() != recs[1].Key() || recs[0].Key() != "consent/pref-centre-42" {
		t.Errorf("records %d, keys %v; want the same key consent/pref-centre-42 twice (the pipeline's idempotency)", len(recs), recs)
	}
	w := e.do(t, request{method: http.MethodPut, path: "/v1/profiles/nobody/consent", body: `{"purposes":{"email":true}}`, bearer: adminKey})
	if w.Code != http.StatusNotFound {
		t.Errorf("PUT for an unknown profile = %d; want 404", w.Code)
	}
}

func TestGetConsent(t *testing.T) {
	e := newEnv(t)
	withProfiles(e)
	p := e.profiles.profiles["p_ann"]
	p.Attributes["consent.ads"] = profile.Attribute{Value: false, Source: "web", RecordID: "m1", ObservedAt: now}
	w := e.do(t, request{method: http.MethodGet, path: "/v1/profiles/p_ann/consent", bearer: readKey})
	if w.Code != 200 {
		t.Fatalf("GET consent = %d %s", w.Code, w.Body)
	}
	got := decode[struct {
		Consent []struct {
			Purpose  string `json:"purpose"`
			Source   string `json:"source"`
			RecordID string `json:"record_id"`
			Granted  bool   `json:"granted"`
		} `json:"consent"`
	}](t, w)
	if len(got.Consent) != 1 || got.Consent[0].Granted || got.Consent[0].Purpose != "ads" || got.Consent[0].Source != "web" || got.Consent[0].RecordID != "m1" {
		t.Errorf("GET consent = %s; want ads withdrawn only", w.Body)
	}
}
