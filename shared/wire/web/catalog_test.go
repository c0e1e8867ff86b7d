package web_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aurum-cdp/aurum/shared/adapter/embedded"
	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/core/catalog"
	"github.com/aurum-cdp/aurum/shared/http/api"
	"github.com/aurum-cdp/aurum/shared/model/profile"
	"github.com/aurum-cdp/aurum/shared/wire/app"
	"github.com/aurum-cdp/aurum/shared/wire/web"
)

func hexSHA(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// TestAPICatalogAndErase sends tracking calls through the wired platform:
// the catalog shows the raw message fields once per message, with the
// mapping's field errors, and erasing the person removes their samples.
func TestAPICatalogAndErase(t *testing.T) {
	const writeKey, adminKey = "wk-test", "ak-test"
	cfg, err := config.Parse("test.yaml", []byte(`
version: 1
identifiers:
  - {name: customer_id, normalizer: id}
  - {name: email, normalizer: email}
sources:
  - name: web
    kind: api
    write_keys: [{sha256: `+hexSHA(writeKey)+`}]
    mapping:
      identifiers:
        - {type: customer_id, field: userId}
        - {type: email, field: traits.email}
      attributes:
        city: {field: traits.city}
`))
	if err != nil {
		t.Fatal(err)
	}
	st, err := embedded.Open(filepath.Join(t.TempDir(), "aurum.db"), embedded.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	p, err := app.New(app.Parts{Config: cfg, Store: st})
	if err != nil {
		t.Fatal(err)
	}
	h, err := web.Handler(p, api.Options{AdminKeys: []config.SecretRef{{SHA256: hexSHA(adminKey)}}})
	if err != nil {
		t.Fatal(err)
	}
	do := func(method, path, key, body string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(method, path, strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		switch {
		case key == writeKey:
			r.SetBasicAuth(key, "")
		case key != "":
			r.Header.Set("Authorization", "Bearer "+key)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	for _, body := range []string{
		`{"userId":"u-quimby","messageId":"msg-quimby-1","traits":{"email":"q.quimby@fastmail.fm","city":"Tórshavn"}}`,
		`{"userId":"u-other","messageId":"msg-other-2","traits":{"email":"not-an-email","city":"Odense"}}`,
	} {
		if w := do(http.MethodPost, "/v1/identify", writeKey, body); w.Code != http.StatusOK {
			t.Fatalf("POST /v1/identify = %d %s; want 200", w.Code, w.Body)
		}
	}
	source := func() catalog.SourceCatalog {
		t.Helper()
		w := do(http.MethodGet, "/v1/catalog/web", adminKey, "")
		var sc catalog.SourceCatalog
		if w.Code != http.StatusOK || json.Unmarshal(w.Body.Bytes(), &sc) != nil {
			t.Fatalf("GET /v1/catalog/web = %d %s; want 200", w.Code, w.Body)
		}
		return sc
	}
	fieldOf := func(sc catalog.SourceCatalog, name string) catalog.FieldProfile {
		t.Helper()
		for _, f := range sc.Fields {
			if f.Field == name {
				return f
			}
		}
		t.Fatalf("catalog of web has no field %s: %+v", name, sc.Fields)
		return catalog.FieldProfile{}
	}
	sc := source()
	if sc.Rows != 2 || sc.Warned != 1 {
		t.Errorf("web rows = %d, warned = %d; want 2 (each message once), 1 (the invalid email)", sc.Rows, sc.Warned)
	}
	if f := fieldOf(sc, "traits.email"); f.Invalid != 1 || !f.PII {
		t.Errorf("traits.email invalid = %d, pii = %v; want 1, true (the mapping's field error on the raw field)", f.Invalid, f.PII)
	}
	if f := fieldOf(sc, "traits.city"); !strings.Contains(strings.Join(f.Samples, ","), "Tórshavn") {
		t.Fatalf("traits.city samples = %v; want Tórshavn (the test needs it)", f.Samples)
	}

	owners, err := st.Owners(t.Context(), []profile.Identifier{{Type: "customer_id", Value: "u-quimby"}})
	if err != nil || len(owners) != 1 {
		t.Fatalf("Owners(u-quimby) = %v, %v; want one owner", owners, err)
	}
	var pid string
	for _, o := range owners {
		pid = o.ProfileID
	}
	if w := do(http.MethodDelete, "/v1/profiles/"+pid, adminKey, ""); w.Code != http.StatusOK {
		t.Fatalf("DELETE /v1/profiles/%s = %d %s; want 200", pid, w.Code, w.Body)
	}
	sc = source()
	tests := []struct {
		field, value string
		want         bool
	}{
		{"traits.city", "Tórshavn", false},
		{"traits.city", "Odense", true},
		{"traits.email", catalog.Mask("q.quimby@fastmail.fm"), false},
		{"messageId", "msg-quimby-1", false},
		{"messageId", "msg-other-2", true},
	}
	for _, tt := range tests {
		t.Run(tt.field+"/"+tt.value, func(t *testing.T) {
			f := fieldOf(sc, tt.field)
			var shown []string
			shown = append(shown, f.Samples...)
			for _, c := range f.Top {
				shown = append(shown, c.Display)
			}
			if got := strings.Contains(strings.Join(shown, "\x00"), tt.value); got != tt.want {
				t.Errorf("%s shows %q after erasure = %v (%q); want %v", tt.field, tt.value, got, shown, tt.want)
			}
		})
	}
}
