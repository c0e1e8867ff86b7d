package segmentapi_test

import (
	"context"
	"encoding/json"
	"iter"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aurum-cdp/aurum/shared/adapter/embedded"
	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/core/pipeline"
	"github.com/aurum-cdp/aurum/shared/core/segment"
	"github.com/aurum-cdp/aurum/shared/http/segmentapi"
	"github.com/aurum-cdp/aurum/shared/model/profile"
)

func TestRoutes(t *testing.T) {
	cfg := &config.Config{
		Version:     1,
		Identifiers: []config.IdentifierType{{Name: "email", Normalizer: "email"}},
		Sources:     []config.Source{{Name: "web", Kind: config.KindAPI}},
		Segments:    []config.Segment{{ID: "gb", Name: "UK", Expr: `has(profile.attributes.country) && profile.attributes.country == "GB"`}},
	}
	st, err := embedded.Open(filepath.Join(t.TempDir(), "a.db"), embedded.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ev, err := segment.New(cfg.Segments, cfg.RFM, segment.Options{})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	pl := pipeline.New(pipeline.ConfigOf(cfg), st, pipeline.Options{Clock: func() time.Time { return now }, Extensions: []pipeline.Extension{segment.NewExtension(ev, st, nil)}})
	res, err := pl.Ingest(context.Background(), []profile.Record{
		{Source: "web", ID: "1", Identifiers: []profile.Identifier{{Type: "email", Value: "a@example.com"}}, Attributes: map[string]any{"country": "GB"}},
		{Source: "web", ID: "2", Identifiers: []profile.Identifier{{Type: "email", Value: "b@example.com"}}, Attributes: map[string]any{"country": "FR"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	gb := res.ProfileIDs[0]
	h := segmentapi.Handler(segmentapi.Deps{
		Eval: ev, Items: st, Profiles: st, Now: func() time.Time { return now },
		Scan: func(ctx context.Context) iter.Seq2[*profile.Profile, error] { return segment.ScanProfiles(ctx, st) },
	})
	tests := []struct {
		name, method, path, body string
		status                   int
		want                     string
	}{
		{"list", "GET", "/v1/segments", "", 200, `"count":1`},
		{"get", "GET", "/v1/segments/gb?sample=5", "", 200, `"profile_id":"` + gb + `"`},
		{"get unknown", "GET", "/v1/segments/nope", "", 404, `not found`},
		{"bad sample", "GET", "/v1/segments/gb?sample=x", "", 400, `sample`},
		{"preview", "POST", "/v1/segments/preview", `{"expr":"profile.attributes.country == \"FR\""}`, 200, `"count":1,"scanned":2`},
		{"preview compile error", "POST", "/v1/segments/preview", `{"expr":"profile.nope"}`, 400, `undefined field 'nope'`},
		{"profile segments", "GET", "/v1/profiles/" + gb + "/segments", "", 200, `"segment_id":"gb"`},
		{"history", "GET", "/v1/profiles/" + gb + "/segments/history", "", 200, `"kind":"entered"`},
		{"unknown profile", "GET", "/v1/profiles/p_x/segments", "", 404, `not found`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, strings.NewReader(tt.body)))
			if rec.Code != tt.status || !strings.Contains(rec.Body.String(), tt.want) {
				t.Errorf("%s %s = %d %s; want %d containing %s", tt.method, tt.path, rec.Code, rec.Body, tt.status, tt.want)
			}
			if !json.Valid(rec.Body.Bytes()) {
				t.Errorf("%s %s: body is not JSON", tt.method, tt.path)
			}
		})
	}
}
