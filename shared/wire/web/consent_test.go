package web_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aurum-cdp/aurum/shared/adapter/dir"
	"github.com/aurum-cdp/aurum/shared/adapter/embedded"
	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/core/consent"
	"github.com/aurum-cdp/aurum/shared/http/api"
	"github.com/aurum-cdp/aurum/shared/model/profile"
	"github.com/aurum-cdp/aurum/shared/wire/app"
	"github.com/aurum-cdp/aurum/shared/wire/web"
)

// TestConsentCapturePaths runs the wired platform (real pipeline, bbolt
// store, file loader, HTTP API): consent captured from a CSV drop's
// mapping, from Segment's context.consent and from the API lands on one
// profile, the latest observation per purpose wins (a withdrawal beats an
// older grant, a future-dated grant counts at its arrival), the GDPR
// export carries it with its provenance and erasure removes it.
func TestConsentCapturePaths(t *testing.T) {
	const writeKey, adminKey = "wk-test", "ak-test"
	cfg, err := config.Parse("test.yaml", []byte(`
version: 1
identifiers:
  - {name: customer_id, normalizer: id}
  - {name: email, normalizer: email}
identity:
  rules:
    - {name: same-customer, kind: exact, identifiers: [customer_id]}
    - {name: same-email, kind: exact, identifiers: [email]}
sources:
  - name: web
    kind: api
    write_keys: [{sha256: `+hexSHA(writeKey)+`}]
    mapping:
      identifiers:
        - {type: customer_id, field: userId}
        - {type: email, field: traits.email}
  - name: prefs
    kind: file
    format: csv
    mapping:
      record_id: {field: id, required: true}
      observed_at: {field: changed_at, type: timestamp}
      identifiers:
        - {type: email, field: email}
      attributes:
        consent.email: {field: newsletter, type: bool}
        consent.sms: {field: sms, type: bool}
`))
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	st, err := embedded.Open(filepath.Join(root, "aurum.db"), embedded.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	objs, err := dir.New(filepath.Join(root, "bucket"))
	if err != nil {
		t.Fatal(err)
	}
	clock := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	p, err := app.New(app.Parts{Config: cfg, Store: st, Objects: objs, Clock: func() time.Time { return clock }})
	if err != nil {
		t.Fatal(err)
	}
	h, err := web.Handler(p, api.Options{AdminKeys: []config.SecretRef{{SHA256: hexSHA(adminKey)}}})
	if err != nil {
		t.Fatal(err)
	}
	do := func(method, path, key, body string) *httptest.ResponseRecorder {
		t.Helper()
		r := httptest.NewRequest(method, path, strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		if key == writeKey {
			r.SetBasicAuth(key, "")
		} else if key != "" {
			r.Header.Set("Authorization", "Bearer "+key)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	read := func() profile.Profile {
		t.Helper()
		owners, err := st.Owners(t.Context(), []profile.Identifier{{Type: "email", Value: "ann@example.com"}})
		if err != nil || len(owners) != 1 {
			t.Fatalf("Owners(ann) = %v, %v", owners, err)
		}
		for _, o := range owners {
			pr, err := st.Profile(t.Context(), o.ProfileID)
			if err != nil {
				t.Fatal(err)
			}
			return pr
		}
		return profile.Profile{}
	}
	check := func(step string, want map[string]bool, source map[string]string) {
		t.Helper()
		pr := read()
		for purpose, granted := range want {
			a, ok := pr.Attributes[consent.Attribute(purpose)]
			if !ok || a.Value != granted || a.Source != source[purpose] {
				t.Errorf("%s: consent.%s = %+v; want %v from %s", step, purpose, a, granted, source[purpose])
			}
			if consent.Allowed(pr, []string{purpose}) != granted {
				t.Errorf("%s: Allowed(%s) = %v; want %v", step, purpose, !granted, granted)
			}
		}
	}

	// 1. A file drop: newsletter granted on April 1st, SMS withdrawn.
	csv := "id,email,newsletter,sms,changed_at\nr1,Ann@Example.com,yes,no,2026-04-01T10:00:00Z\n"
	if err := os.MkdirAll(filepath.Join(root, "bucket", "sources", "prefs"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "bucket", "sources", "prefs", "a.csv"), []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	if rep, err := p.Loader.Load(t.Context(), "sources/prefs/a.csv"); err != nil || rep.Accepted != 1 {
		t.Fatalf("Load = %+v, %v; want 1 accepted", rep, err)
	}
	check("file", map[string]bool{"email": true, "sms": false}, map[string]string{"email": "prefs", "sms": "prefs"})

	// 2. Segment: advertising granted, e-mail withdrawn on April 20th.
	track := `{"userId":"C1","messageId":"m1","event":"Viewed","traits":{"email":"ann@example.com"},"timestamp":"2026-04-20T09:00:00Z",
		"context":{"consent":{"categoryPreferences":{"Advertising":true,"Email":false}}}}`
	if w := do(http.MethodPost, "/v1/identify", writeKey, strings.Replace(track, `"event":"Viewed",`, "", 1)); w.Code != 200 {
		t.Fatalf("identify = %d %s", w.Code, w.Body)
	}
	check("segment", map[string]bool{"email": false, "advertising": true, "sms": false}, map[string]string{"email": "web", "advertising": "web", "sms": "prefs"})

	// 3. An older grant arriving late (March) does not undo the withdrawal;
	//    a grant dated 2099 by a client clock counts at its arrival.
	csv2 := "id,email,newsletter,sms,changed_at\nr2,ann@example.com,yes,yes,2026-03-01T10:00:00Z\n"
	os.WriteFile(filepath.Join(root, "bucket", "sources", "prefs", "b.csv"), []byte(csv2), 0o644)
	if _, err := p.Loader.Load(t.Context(), "sources/prefs/b.csv"); err != nil {
		t.Fatal(err)
	}
	check("late older grant", map[string]bool{"email": false, "sms": false}, map[string]string{"email": "web", "sms": "prefs"})

	// 4. The API: the person withdraws advertising now, after a forged
	//    future grant through Segment.
	future := strings.NewReplacer(`"m1"`, `"m2"`, "2026-04-20T09:00:00Z", "2099-01-01T00:00:00Z", `"Email":false`, `"Email":true`).Replace(track)
	if w := do(http.MethodPost, "/v1/track", writeKey, future); w.Code != 200 {
		t.Fatalf("track = %d %s", w.Code, w.Body)
	}
	check("future-dated grant counts at arrival", map[string]bool{"email": true, "advertising": true}, map[string]string{"email": "web", "advertising": "web"})
	clock = clock.Add(time.Minute)
	id := read().ID
	w := do(http.MethodPut, "/v1/profiles/"+id+"/consent", adminKey, `{"purposes":{"advertising":false}}`)
	if w.Code != 200 {
		t.Fatalf("PUT consent = %d %s", w.Code, w.Body)
	}
	check("api withdrawal", map[string]bool{"advertising": false, "email": true}, map[string]string{"advertising": "consent", "email": "web"})
	var answer struct {
		Consent []consent.State `json:"consent"`
	}
	json.Unmarshal(w.Body.Bytes(), &answer)
	if len(answer.Consent) != 3 {
		t.Errorf("PUT answer consent = %+v; want 3 purposes", answer.Consent)
	}

	// 5. The GDPR export carries the consent, with its provenance.
	x := do(http.MethodGet, "/v1/profiles/"+id+"/export", adminKey, "")
	if x.Code != 200 || !strings.Contains(x.Body.String(), `"consent.advertising":{"value":false,"source":"consent"`) ||
		!strings.Contains(x.Body.String(), `"source":"consent"`) {
		t.Errorf("export = %d; want the consent attributes and the consent record:\n%s", x.Code, x.Body)
	}
	// 6. Erasure removes it.
	if w := do(http.MethodDelete, "/v1/profiles/"+id, adminKey, ""); w.Code != 200 {
		t.Fatalf("erase = %d %s", w.Code, w.Body)
	}
	if _, err := st.Profile(t.Context(), id); err == nil {
		t.Errorf("profile %s still readable after erasure", id)
	}
	if w := do(http.MethodGet, "/v1/profiles/"+id+"/consent", adminKey, ""); w.Code != http.StatusNotFound {
		t.Errorf("GET consent after erasure = %d %s; want 404", w.Code, w.Body)
	}
}
