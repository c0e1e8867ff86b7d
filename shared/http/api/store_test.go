package api_test

import (
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/aurum-cdp/aurum/shared/adapter/embedded"
	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/core/pipeline"
	"github.com/aurum-cdp/aurum/shared/http/api"
)

// withStore serves the API from a real pipeline over the embedded store.
// The config adds an identifier type no rule links on
// (stripe_customer_id, from traits.stripe_id).
func withStore(t *testing.T) envOption {
	return func(c *config.Config, d *api.Deps, _ *api.Options) {
		c.Identifiers = append(c.Identifiers, config.IdentifierType{Name: "stripe_customer_id", Normalizer: "id"})
		c.Identity.Rules = []config.MatchRule{{Name: "same-customer", Kind: "exact", Identifiers: []string{"customer_id"}}}
		src := &c.Sources[0].Mapping
		src.Identifiers = append(src.Identifiers, config.IdentifierField{Type: "stripe_customer_id", Field: config.Field{Field: "traits.stripe_id"}})
		st, err := embedded.Open(filepath.Join(t.TempDir(), "aurum.db"), embedded.Options{NoSync: true})
		if err != nil {
			t.Fatalf("embedded.Open: %v", err)
		}
		t.Cleanup(func() { st.Close() })
		d.Ingester = pipeline.New(pipeline.ConfigOf(c), st, pipeline.Options{Clock: func() time.Time { return now }})
		d.Profiles = st
	}
}

func TestStoreBackedReads(t *testing.T) {
	e := newEnv(t, withStore(t))
	for _, body := range []string{
		`{"type":"identify","userId":"C1","traits":{"stripe_id":"cus_123"}}`,
		`{"type":"track","userId":"C1","event":"A","messageId":"m1"}`,
		`{"type":"track","userId":"C1","event":"B","messageId":"m2"}`,
		`{"type":"track","userId":"C1","event":"C","messageId":"m3"}`,
	} {
		if w := e.do(t, request{path: "/v1/batch", basic: writeKey, body: `{"batch":[` + body + `]}`}); w.Code != http.StatusOK {
			t.Fatalf("POST /v1/batch = %d %s; want 200", w.Code, w.Body)
		}
	}
	w := e.do(t, request{method: http.MethodGet, path: "/v1/profiles?identifier=stripe_customer_id:cus_123", bearer: readKey})
	if w.Code != http.StatusOK {
		t.Fatalf("GET by stripe_customer_id = %d %s; want 200 (every configured type is indexed for look-up)", w.Code, w.Body)
	}
	id := decode[struct {
		ID string `json:"id"`
	}](t, w).ID

	type page struct {
		Events     []struct{ ID string } `json:"events"`
		NextCursor string                `json:"next_cursor"`
	}
	w = e.do(t, request{method: http.MethodGet, path: "/v1/profiles/" + id + "/events?limit=2", bearer: readKey})
	first := decode[page](t, w)
	if len(first.Events) != 2 || first.NextCursor == "" {
		t.Fatalf("first page = %+v; want 2 events and a cursor", first)
	}
	w = e.do(t, request{method: http.MethodGet, path: "/v1/profiles/" + id + "/events?limit=2&cursor=" + first.NextCursor, bearer: readKey})
	if second := decode[page](t, w); w.Code != http.StatusOK || len(second.Events) != 1 || second.Events[0].ID == first.Events[0].ID {
		t.Errorf("second page = %d %+v; want the one remaining event", w.Code, second)
	}
	for _, bad := range []string{"bad-cursor-value", "AAAAAAAAAAAAAAAAAAAA", first.NextCursor + "x", "zz"} {
		w := e.do(t, request{method: http.MethodGet, path: "/v1/profiles/" + id + "/events?cursor=" + bad, bearer: readKey})
		if er := decode[errResp](t, w); w.Code != http.StatusBadRequest || er.Error.Message != "invalid cursor" {
			t.Errorf("GET events?cursor=%s = %d %s; want 400 invalid cursor", bad, w.Code, w.Body)
		}
	}
}
