package api_test

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aurum-cdp/aurum/shared/adapter/embedded"
	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/core/keys"
	"github.com/aurum-cdp/aurum/shared/core/privacy"
	"github.com/aurum-cdp/aurum/shared/http/api"
	"github.com/aurum-cdp/aurum/shared/model/fault"
)

const (
	adminKey   = "dev-admin-key"
	hookSecret = "whsec_dev_secret"
)

// appMounts are the routes shared/wire/app mounts into the API (segments,
// identity statistics, catalog, dashboard); keep in step with
// app.Platform.HTTP until the app exports its mount list.
var appMounts = []string{
	"GET /v1/segments", "GET /v1/segments/{id}", "POST /v1/segments/preview",
	"GET /v1/profiles/{id}/segments", "GET /v1/profiles/{id}/segments/history",
	"GET /v1/identity/stats", "GET /v1/catalog", "GET /v1/catalog/{source}",
	"GET /v1/dashboard/identity", "GET /v1/dashboard/segments/trend",
	"GET /v1/dashboard/profiles/{id}/merges", "GET /v1/dashboard/triggers",
}

// fakePrivacy answers export and erase for p_ann, and not found otherwise.
type fakePrivacy struct{ erased []string }

func (f *fakePrivacy) Export(ctx context.Context, id string) (privacy.Export, error) {
	if id != "p_ann" {
		return privacy.Export{}, fault.ErrNotFound
	}
	return privacy.Export{ExportedAt: now, ProfileIDs: []string{"p_ann"}}, nil
}

func (f *fakePrivacy) Erase(ctx context.Context, id string) (privacy.Erased, error) {
	if id != "p_ann" {
		return privacy.Erased{}, fault.ErrNotFound
	}
	f.erased = append(f.erased, id)
	return privacy.Erased{ProfileID: id}, nil
}

// withEverything adds a Stripe webhook source, admin keys, stored keys,
// the privacy routes and the app's mounts.
func withEverything(t testing.TB, ks keys.Store, pv api.Privacy) envOption {
	return func(cfg *config.Config, d *api.Deps, o *api.Options) {
		cfg.Sources = append(cfg.Sources, config.Source{Name: "stripe", Kind: config.KindWebhook,
			Webhook: &config.WebhookSource{Preset: config.PresetStripeCharges, Secret: &config.SecretRef{Env: "AURUM_TEST_HOOK_SECRET"}}})
		o.AdminKeys = []config.SecretRef{{SHA256: sha256Hex(adminKey)}}
		ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
		for _, p := range appMounts {
			o.Mounts = append(o.Mounts, api.Mount{Pattern: p, Handler: ok})
		}
		d.Keys = ks
		d.Privacy = pv
	}
}

func keyStore(t *testing.T) *embedded.Store {
	t.Helper()
	st, err := embedded.Open(filepath.Join(t.TempDir(), "aurum.db"), embedded.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func storedKey(t *testing.T, st keys.Store, spec keys.Spec) string {
	t.Helper()
	tok, _, err := keys.Create(t.Context(), st, spec, now)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// scopeOf is the scope a route needs: "" for public routes (the SDK
// settings of a write key are public, see settings_test.go), "signature"
// for webhooks.
func scopeOf(pattern string) string {
	method, path, _ := strings.Cut(pattern, " ")
	switch {
	case path == "/healthz" || method == http.MethodOptions || strings.HasPrefix(path, "/v1/projects/"):
		return ""
	case strings.HasPrefix(path, "/v1/webhooks/"):
		return "signature"
	case method == http.MethodDelete:
		return keys.ScopeErase
	case method == http.MethodPut:
		return keys.ScopeAdmin
	case method == http.MethodPost && !strings.HasPrefix(path, "/v1/segments"):
		return keys.ScopeIngest
	}
	return keys.ScopeRead
}

// TestEveryRouteNeedsItsKey walks every registered route with no key, a
// wrong key, and keys of every other scope, and expects 401 or 403.
func TestEveryRouteNeedsItsKey(t *testing.T) {
	t.Setenv("AURUM_TEST_HOOK_SECRET", hookSecret)
	st := keyStore(t)
	e := newEnv(t, withEverything(t, st, &fakePrivacy{}))
	withProfiles(e)
	stored := map[string]string{
		keys.ScopeIngest: storedKey(t, st, keys.Spec{Scopes: []string{keys.ScopeIngest}, Source: "web"}),
		keys.ScopeRead:   storedKey(t, st, keys.Spec{Scopes: []string{keys.ScopeRead}}),
		keys.ScopeErase:  storedKey(t, st, keys.Spec{Scopes: []string{keys.ScopeErase}}),
	}
	configured := map[string]string{keys.ScopeIngest: writeKey, keys.ScopeRead: readKey}
	routes := e.api.Routes()
	if len(routes) < 30 {
		t.Fatalf("Routes() = %d routes; want every route", len(routes))
	}
	for _, pattern := range routes {
		scope := scopeOf(pattern)
		if scope == "" {
			continue
		}
		method, path, _ := strings.Cut(pattern, " ")
		path = strings.NewReplacer("{id}", "p_ann", "{source}", "stripe").Replace(path)
		body := `{"userId":"u1","event":"E","type":"track","batch":[{"type":"track","userId":"u1","event":"E"}],"expr":"true"}`
		type try struct {
			name string
			rq   request
			want int
		}
		tries := []try{
			{"no key", request{}, 401},
			{"wrong bearer key", request{bearer: "guess"}, 401},
			{"wrong basic key", request{basic: "guess"}, 401},
			{"wrong stored key", request{bearer: keys.Prefix + "0123456789ab_guess"}, 401},
		}
		if scope == "signature" {
			tries = append(tries,
				try{"read key instead of a signature", request{bearer: readKey}, 401},
				try{"admin key instead of a signature", request{bearer: adminKey}, 401},
				try{"bad signature", request{header: map[string]string{"Stripe-Signature": "t=1,v1=00"}}, 401})
		}
		for s, k := range stored {
			if scope != "signature" && s != scope {
				tries = append(tries, try{"stored " + s + " key", request{bearer: k, basic: k}, 403})
			}
		}
		for s, k := range configured {
			if scope != "signature" && s != scope {
				tries = append(tries, try{"configured " + s + " key", request{bearer: k, basic: k}, 403})
			}
		}
		if scope == keys.ScopeIngest {
			tries = append(tries, try{"admin key", request{basic: adminKey}, 403})
		}
		for _, tr := range tries {
			t.Run(pattern+"/"+tr.name, func(t *testing.T) {
				rq := tr.rq
				if rq.basic != "" && rq.bearer != "" {
					// One header: Basic for tracking, Bearer elsewhere.
					if scope == keys.ScopeIngest {
						rq.bearer = ""
					} else {
						rq.basic = ""
					}
				}
				rq.method, rq.path, rq.body = method, path, body
				w := e.do(t, rq)
				if w.Code != tr.want {
					t.Errorf("%s %s = %d %s; want %d", method, path, w.Code, w.Body, tr.want)
				}
				er := decode[errResp](t, w)
				if tr.want == 401 && er.Error.Code != "unauthorized" || tr.want == 403 && er.Error.Code != "forbidden" {
					t.Errorf("%s %s error code = %q; want unauthorized or forbidden", method, path, er.Error.Code)
				}
			})
		}
	}
	if len(e.ingester.records()) > 0 {
		t.Errorf("unauthorized requests ingested %d records", len(e.ingester.records()))
	}
}

func TestScopedKeysWork(t *testing.T) {
	st := keyStore(t)
	pv := &fakePrivacy{}
	e := newEnv(t, withEverything(t, st, pv))
	withProfiles(e)
	ingest := storedKey(t, st, keys.Spec{Scopes: []string{keys.ScopeIngest}, Source: "web"})
	eraser := storedKey(t, st, keys.Spec{Scopes: []string{keys.ScopeErase}})
	admin := storedKey(t, st, keys.Spec{Scopes: []string{keys.ScopeAdmin}})
	tests := []struct {
		name string
		rq   request
		want int
	}{
		{"stored ingest key tracks", request{path: "/v1/track", basic: ingest, body: `{"userId":"u1","event":"E"}`}, 200},
		{"stored admin key reads", request{method: http.MethodGet, path: "/v1/profiles/p_ann", bearer: admin}, 200},
		{"read key reads provenance", request{method: http.MethodGet, path: "/v1/profiles/p_ann/provenance", bearer: readKey}, 200},
		{"read key exports", request{method: http.MethodGet, path: "/v1/profiles/p_ann/export", bearer: readKey}, 200},
		{"stored erase key erases", request{method: http.MethodDelete, path: "/v1/profiles/p_ann", bearer: eraser}, 200},
		{"configured admin key erases", request{method: http.MethodDelete, path: "/v1/profiles/p_ann", bearer: adminKey}, 200},
		{"erase of a missing profile", request{method: http.MethodDelete, path: "/v1/profiles/p_nobody", bearer: adminKey}, 404},
		{"stored admin key mounts", request{method: http.MethodGet, path: "/v1/segments", bearer: admin}, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := e.do(t, tt.rq)
			if w.Code != tt.want {
				t.Errorf("%s %s = %d %s; want %d", tt.rq.method, tt.rq.path, w.Code, w.Body, tt.want)
			}
		})
	}
	if len(pv.erased) != 2 {
		t.Errorf("erasures = %v; want 2", pv.erased)
	}
	if _, err := keys.Revoke(t.Context(), st, strings.Split(admin, "_")[1], now); err != nil {
		t.Fatal(err)
	}
	if w := e.do(t, request{method: http.MethodGet, path: "/v1/profiles/p_ann", bearer: admin}); w.Code != 401 {
		t.Errorf("GET with a revoked key = %d; want 401", w.Code)
	}
}

func TestRateLimit(t *testing.T) {
	e := newEnv(t, func(cfg *config.Config, d *api.Deps, o *api.Options) {
		o.RatePerSecond, o.RateBurst = 0.001, 2
	})
	withProfiles(e)
	get := func(key string) *request {
		return &request{method: http.MethodGet, path: "/v1/profiles/p_ann", bearer: key}
	}
	for i := range 2 {
		if w := e.do(t, *get(readKey)); w.Code != 200 {
			t.Fatalf("request %d = %d; want 200 within the burst", i, w.Code)
		}
	}
	w := e.do(t, *get(readKey))
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") == "" {
		t.Fatalf("request over the burst = %d (Retry-After %q); want 429 with Retry-After", w.Code, w.Header().Get("Retry-After"))
	}
	if er := decode[errResp](t, w); er.Error.Code != "rate_limited" {
		t.Errorf("429 code = %q; want rate_limited", er.Error.Code)
	}
	// Buckets are per key: the write key still has its tokens.
	if w := e.do(t, request{path: "/v1/track", basic: writeKey, body: `{"userId":"u1","event":"E"}`}); w.Code != 200 {
		t.Errorf("another key = %d; want 200", w.Code)
	}
}

func TestRateLimitOff(t *testing.T) {
	e := newEnv(t, func(cfg *config.Config, d *api.Deps, o *api.Options) { o.RatePerSecond = -1 })
	withProfiles(e)
	for i := range 300 {
		if w := e.do(t, request{method: http.MethodGet, path: "/healthz"}); w.Code != 200 {
			t.Fatalf("request %d = %d", i, w.Code)
		}
		if w := e.do(t, request{method: http.MethodGet, path: "/v1/profiles/p_ann", bearer: readKey}); w.Code != 200 {
			t.Fatalf("request %d = %d; want 200 with limiting off", i, w.Code)
		}
	}
}

// nil2 and nil3 give envOptions throwaway Deps and Options when only the
// configuration they build is wanted.
func nil2() *api.Deps    { return &api.Deps{} }
func nil3() *api.Options { return &api.Options{} }
