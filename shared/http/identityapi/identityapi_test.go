package identityapi_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aurum-cdp/aurum/shared/adapter/embedded"
	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/core/identity"
	"github.com/aurum-cdp/aurum/shared/core/pipeline"
	"github.com/aurum-cdp/aurum/shared/http/identityapi"
	"github.com/aurum-cdp/aurum/shared/model/profile"
)

func TestHandler(t *testing.T) {
	ctx := context.Background()
	cfg := &config.Config{Version: 1,
		Identifiers: []config.IdentifierType{{Name: "email", Normalizer: "email"}, {Name: "phone", Normalizer: "phone"}},
		Sources:     []config.Source{{Name: "crm", Kind: config.KindFile}}}
	st, err := embedded.Open(filepath.Join(t.TempDir(), "a.db"), embedded.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	p := pipeline.New(pipeline.ConfigOf(cfg), st, pipeline.Options{Clock: func() time.Time { return t0 }})
	r := func(id string, ids ...profile.Identifier) profile.Record {
		return profile.Record{Source: "crm", ID: id, ObservedAt: t0, Identifiers: ids}
	}
	e1, e2 := profile.Identifier{Type: "email", Value: "a@x.com"}, profile.Identifier{Type: "email", Value: "b@x.com"}
	res, err := p.Ingest(ctx, []profile.Record{r("1", e1), r("2", e2), r("3", e1, e2)})
	if err != nil {
		t.Fatal(err)
	}
	eng, err := identity.New(cfg.Identifiers, &cfg.Identity)
	if err != nil {
		t.Fatal(err)
	}
	h := identityapi.Handler(p, identityapi.StatsFrom(eng, st))
	for _, tt := range []struct {
		name, method, path, body string
		status                   int
		contains                 string
	}{
		{"bad body", "POST", "/v1/profiles/" + res.ProfileIDs[2] + "/unmerge", `{"nope": 1}`, 400, "body"},
		{"unknown profile", "POST", "/v1/profiles/p_none/unmerge", `{"record": "crm/3"}`, 404, "not found"},
		{"split", "POST", "/v1/profiles/" + res.ProfileIDs[2] + "/unmerge", `{"record": "crm/3", "reason": "test"}`, 200, `"created":true`},
		{"stats", "GET", "/v1/identity/stats", "", 200, `"splits":1`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest(tt.method, tt.path, strings.NewReader(tt.body)))
			if w.Code != tt.status || !strings.Contains(w.Body.String(), tt.contains) {
				t.Errorf("%s %s = %d %s; want %d containing %s", tt.method, tt.path, w.Code, w.Body, tt.status, tt.contains)
			}
			if tt.name == "stats" {
				var s identity.Stats
				if err := json.Unmarshal(w.Body.Bytes(), &s); err != nil || s.Clusters != 3 {
					t.Errorf("stats clusters = %d (%v); want 3 after splitting three records apart", s.Clusters, err)
				}
			}
		})
	}
}
