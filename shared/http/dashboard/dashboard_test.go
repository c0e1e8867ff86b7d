package dashboard_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aurum-cdp/aurum/shared/adapter/embedded"
	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/core/segment"
	"github.com/aurum-cdp/aurum/shared/http/dashboard"
	"github.com/aurum-cdp/aurum/shared/model/events"
	"github.com/aurum-cdp/aurum/shared/port/store"
)

func openStore(t *testing.T) *embedded.Store {
	t.Helper()
	st, err := embedded.Open(filepath.Join(t.TempDir(), "aurum.db"), embedded.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func TestRecorderKeepsNewestFirst(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	now := time.Now().UTC() // the store judges expiry by its own clock
	r := dashboard.NewRecorder(st, func() time.Time { return now })
	for i, id := range []string{"b", "c", "a"} {
		env, err := events.New(events.TypeTriggerFired, now, events.TriggerFired{TriggerID: "t-" + id, FiringID: id, ProfileID: "p",
			FiredAt: now.Add(time.Duration(i) * time.Minute)}, id)
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Handle(ctx, env); err != nil {
			t.Fatalf("Handle = %v", err)
		}
	}
	other, _ := events.New(events.TypeProfileUpdated, now, map[string]string{}, "x")
	if err := r.Handle(ctx, other); err != nil {
		t.Fatalf("Handle(ProfileUpdated) = %v; want it ignored", err)
	}
	got, err := dashboard.Recent(ctx, st, 2, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].FiringID != "a" || got[1].FiringID != "c" {
		t.Errorf("Recent(2) = %+v; want firings a then c (newest first)", got)
	}
	later, _ := dashboard.Recent(ctx, st, 10, now.Add(dashboard.DefaultFiredTTL+time.Hour))
	if len(later) != 0 {
		t.Errorf("Recent after the TTL = %d firings; want 0", len(later))
	}
}

func TestSegmentTrend(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	cfg, err := config.Parse("t.yaml", []byte("version: 1\nidentifiers: [{name: email, normalizer: email}]\nsources: [{name: s, kind: file, format: csv, mapping: {identifiers: [{type: email, field: e}]}}]\n"+
		"segments:\n  - {id: vip, name: VIPs, expr: 'has(profile.aggregates.x)'}\n"))
	if err != nil {
		t.Fatal(err)
	}
	ev, err := segment.New(cfg.Segments, cfg.RFM, segment.Options{})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Hour) // the store judges expiry by its own clock
	setCount := func(n int64) {
		if err := st.Commit(ctx, store.Change{Items: []store.ItemWrite{{Op: store.ItemPut,
			Item: store.Item{Kind: segment.KindCount, Key: "vip", Sort: "00", N: n}}}}); err != nil {
			t.Fatal(err)
		}
	}
	srvNow := now
	h := dashboard.Handler(dashboard.Deps{Store: st, Segments: ev, Now: func() time.Time { return srvNow }, SnapshotEvery: time.Hour})
	get := func() []dashboard.Trend {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/v1/dashboard/segments/trend?days=7", nil))
		if rec.Code != 200 {
			t.Fatalf("trend = %d %s", rec.Code, rec.Body)
		}
		var out struct{ Segments []dashboard.Trend }
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatal(err)
		}
		return out.Segments
	}
	setCount(3)
	get()
	setCount(5)
	get() // same hour: no new snapshot
	srvNow = now.Add(2 * time.Hour)
	tr := get()
	if len(tr) != 1 || tr[0].Count != 5 || len(tr[0].Points) != 2 || tr[0].Points[0].Count != 3 || tr[0].Points[1].Count != 5 {
		t.Errorf("trend = %+v; want vip now 5 with snapshots 3 then 5", tr)
	}
}

func TestStatic(t *testing.T) {
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "api") })
	srv := httptest.NewServer(dashboard.WithStatic(api))
	defer srv.Close()
	tests := []struct{ path, want string }{
		{"/", `<script src="/assets/app.js"`},
		{"/assets/app.js", "async function route()"},
		{"/assets/app.css", ".card"},
		{"/v1/catalog", "api"},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			resp, err := http.Get(srv.URL + tc.path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != 200 || !strings.Contains(string(b), tc.want) {
				t.Errorf("GET %s = %d, %.80q…; want 200 containing %q", tc.path, resp.StatusCode, b, tc.want)
			}
		})
	}
}
