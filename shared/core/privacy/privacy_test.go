package privacy_test

import (
	"encoding/json"
	"errors"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aurum-cdp/aurum/shared/adapter/embedded"
	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/core/catalog"
	"github.com/aurum-cdp/aurum/shared/core/identity"
	"github.com/aurum-cdp/aurum/shared/core/pipeline"
	"github.com/aurum-cdp/aurum/shared/core/privacy"
	"github.com/aurum-cdp/aurum/shared/core/segment"
	"github.com/aurum-cdp/aurum/shared/core/trigger"
	"github.com/aurum-cdp/aurum/shared/model/fault"
	"github.com/aurum-cdp/aurum/shared/model/profile"
	"github.com/aurum-cdp/aurum/shared/port/store"
)

var t0 = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func testConfig(suppress bool) *config.Config {
	return &config.Config{
		Version: 1,
		Identifiers: []config.IdentifierType{
			{Name: "customer_id", Normalizer: "id"},
			{Name: "email", Normalizer: "email"},
			{Name: "phone", Normalizer: "phone"},
		},
		Sources: []config.Source{
			{Name: "web", Kind: config.KindAPI, WriteKeys: []config.SecretRef{{Env: "K"}}},
			{Name: "crm", Kind: config.KindFile, Format: config.FormatCSV},
		},
		Golden:   config.Golden{Aggregates: []config.Aggregate{{Name: "orders_count", Event: "Order Completed", Function: config.AggCount}}},
		Segments: []config.Segment{{ID: "buyers", Expr: `has(profile.aggregates.orders_count) && profile.aggregates.orders_count >= 1`}},
		Privacy:  &config.Privacy{SuppressErased: suppress},
	}
}

type world struct {
	st  *embedded.Store
	pl  *pipeline.Pipeline
	svc *privacy.Service
	in  pipeline.Ingester
}

func newWorld(t *testing.T, suppress bool) *world {
	t.Helper()
	st, err := embedded.Open(filepath.Join(t.TempDir(), "aurum.db"), embedded.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cfg := testConfig(suppress)
	ev, err := segment.New(cfg.Segments, cfg.RFM, segment.Options{})
	if err != nil {
		t.Fatal(err)
	}
	clock := func() time.Time { return t0 }
	pl := pipeline.New(pipeline.ConfigOf(cfg), st, pipeline.Options{Clock: clock,
		Extensions: []pipeline.Extension{segment.NewExtension(ev, st, nil)}})
	svc, err := privacy.New(privacy.ConfigOf(cfg), st, forgetters(t, cfg), privacy.Options{Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	return &world{st: st, pl: pl, svc: svc, in: privacy.Suppress(pl, st)}
}

// forgetters mirrors the registry of shared/wire/app for the packages
// these tests exercise.
func forgetters(t *testing.T, cfg *config.Config) []store.Forgetter {
	t.Helper()
	eng, err := identity.New(cfg.Identifiers, &cfg.Identity)
	if err != nil {
		t.Fatal(err)
	}
	return []store.Forgetter{identity.NewForgetter(eng), segment.NewForgetter(cfg.Segments),
		trigger.NewForgetter(cfg.Triggers), catalog.Forgetter{}, privacy.Suppressions{}}
}

func id(typ, v string) profile.Identifier { return profile.Identifier{Type: typ, Value: v} }

// ann's records: two that start apart (web with customer id, crm with a
// second email and a phone) and a third that merges them, with an order.
func annRecords() []profile.Record {
	return []profile.Record{
		{Source: "web", ID: "msg-annabelle-001", ObservedAt: t0, ReceivedAt: t0,
			Identifiers: []profile.Identifier{id("customer_id", "CUST-77881"), id("email", "annabelle.q@example.com")},
			Attributes:  map[string]any{"first_name": "Annabelle"}},
		{Source: "crm", ID: "crm-row-annabelle-9", ObservedAt: t0, ReceivedAt: t0,
			Identifiers: []profile.Identifier{id("email", "a.quistgaard@example.org"), id("phone", "+447700900123")},
			Attributes:  map[string]any{"last_name": "Quistgaard", "city": "Aarhus"}},
		{Source: "web", ID: "msg-annabelle-002", ObservedAt: t0.Add(time.Hour), ReceivedAt: t0.Add(time.Hour),
			Identifiers: []profile.Identifier{id("customer_id", "CUST-77881"), id("email", "a.quistgaard@example.org")},
			Events: []profile.Event{{ID: "order-annabelle-5", Source: "web", Type: "track", Name: "Order Completed",
				Timestamp: t0.Add(time.Hour), Properties: map[string]any{"total": 99.5}}}},
	}
}

func bobRecord() profile.Record {
	return profile.Record{Source: "web", ID: "msg-bob-1", ObservedAt: t0, ReceivedAt: t0,
		Identifiers: []profile.Identifier{id("email", "bob@example.net")}, Attributes: map[string]any{"first_name": "Bob"}}
}

// rawRows are the rows the records of annRecords and bobRecord were
// mapped from, as the data catalog sees them (tracking calls and a CRM
// row), in the same order.
func rawRows() []map[string]any {
	return []map[string]any{
		{"type": "identify", "messageId": "msg-annabelle-001", "userId": "CUST-77881",
			"traits": map[string]any{"email": "annabelle.q@example.com", "first_name": "Annabelle"}},
		{"id": "crm-row-annabelle-9", "email": "a.quistgaard@example.org", "phone": "+447700900123",
			"last_name": "Quistgaard", "city": "Aarhus"},
		{"type": "track", "messageId": "msg-annabelle-002", "userId": "CUST-77881", "event": "Order Completed",
			"properties": map[string]any{"order_id": "order-annabelle-5", "total": 99.5},
			"context":    map[string]any{"traits": map[string]any{"email": "a.quistgaard@example.org"}}},
		{"type": "identify", "messageId": "msg-bob-1", "traits": map[string]any{"email": "bob@example.net", "first_name": "Bob"}},
	}
}

// TestEraseLeavesNothing ingests a person through the pipeline (two
// sources, an event, a merge, a segment membership) and the data
// catalog, erases them, and walks every item of the store: none may
// mention their identifiers, names, record ids or catalog samples.
func TestEraseLeavesNothing(t *testing.T) {
	w := newWorld(t, false)
	ctx := t.Context()
	recs := append(annRecords(), bobRecord())
	cfg := testConfig(false)
	obs, err := catalog.NewObserver(cfg.Sources, cfg.Identifiers, w.st, catalog.ObserverOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rows := rawRows()
	for i, rec := range recs {
		obs.Observe(rec.Source, rows[i], rec, nil)
	}
	// A row of another person in the same CRM source.
	obs.Observe("crm", map[string]any{"id": "crm-row-other-1", "email": "zed@example.net", "city": "Odense"},
		profile.Record{Source: "crm", ID: "crm-row-other-1"}, nil)
	if err := obs.Flush(ctx); err != nil {
		t.Fatalf("Flush() = %v", err)
	}
	res, err := w.in.Ingest(ctx, recs)
	if err != nil {
		t.Fatalf("Ingest() = %v", err)
	}
	if res.Merges != 1 {
		t.Fatalf("Ingest() merges = %d; want 1 (the test needs a merge)", res.Merges)
	}
	ann, err := w.st.Profile(ctx, res.ProfileIDs[0])
	if err != nil {
		t.Fatal(err)
	}
	if _, in := ann.Segments["buyers"]; !in || len(ann.MergedFrom) != 1 {
		t.Fatalf("profile before erase: segments %v, merged from %v; want buyers and one merge", ann.Segments, ann.MergedFrom)
	}
	secrets := []string{"CUST-77881", "cust-77881", "annabelle.q@example.com", "a.quistgaard@example.org", "+447700900123",
		"7700900123", "Annabelle", "annabelle", "Quistgaard", "quistgaard", "Aarhus", "msg-annabelle-001",
		"crm-row-annabelle-9", "msg-annabelle-002", "order-annabelle-5",
		catalog.Mask("+447700900123")} // the catalog's masked phone
	if n := mentions(t, w.st, secrets); n == 0 {
		t.Fatalf("store mentions none of the person's values before erasure; the scan proves nothing")
	}
	inCatalog := []string{"Aarhus", "a.quistgaard@example.org", "annabelle.q@example.com", "crm-row-annabelle-9",
		"msg-annabelle-001", "order-annabelle-5", catalog.Mask("+447700900123")}
	for _, v := range inCatalog {
		if n := mentionsWhere(t, w.st, []string{v}, isCatalog); n == 0 {
			t.Fatalf("catalog does not mention %q before erasure; the scan proves nothing", v)
		}
	}

	// Erase through a merged-away id: redirects are followed.
	got, err := w.svc.Erase(ctx, ann.MergedFrom[0])
	if err != nil {
		t.Fatalf("Erase() = %v", err)
	}
	if got.ProfileID != ann.ID || got.Counts.Records != 3 || got.Counts.Profiles != 1 || got.Counts.Redirects != 1 {
		t.Errorf("Erase() = %+v; want profile %s, 3 records, 1 profile, 1 redirect", got, ann.ID)
	}
	if n := mentions(t, w.st, secrets); n > 0 {
		t.Errorf("store still mentions the erased person %d times", n)
	}
	for _, v := range []string{"bob@example.net", "Odense", "zed@example.net"} {
		if n := mentionsWhere(t, w.st, []string{v}, isCatalog); n == 0 {
			t.Errorf("catalog lost %q of another person", v)
		}
	}
	if _, err := w.st.Profile(ctx, ann.ID); !errors.Is(err, fault.ErrNotFound) {
		t.Errorf("Profile(erased) = %v; want %v", err, fault.ErrNotFound)
	}
	if _, err := w.svc.Erase(ctx, ann.ID); !errors.Is(err, fault.ErrNotFound) {
		t.Errorf("Erase(erased) = %v; want %v", err, fault.ErrNotFound)
	}
	bob, err := w.st.Profile(ctx, res.ProfileIDs[3])
	if err != nil || bob.Attributes["first_name"].Value != "Bob" {
		t.Errorf("Profile(bob) = %+v, %v; want bob untouched", bob.Attributes, err)
	}
	count, _, err := w.st.Items(ctx, segment.KindCount, "buyers", "", "", 100, "")
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, c := range count {
		total += c.N
	}
	if total != 0 {
		t.Errorf("buyers count after erasure = %d; want 0", total)
	}
	envs, err := w.st.Outbox(ctx, 1000)
	if err != nil {
		t.Fatal(err)
	}
	deleted := 0
	for _, e := range envs {
		if e.DetailType == "ProfileDeleted" && strings.Contains(string(e.Detail), ann.ID) {
			deleted++
		}
	}
	if deleted != 1 {
		t.Errorf("outbox holds %d ProfileDeleted events for %s; want 1", deleted, ann.ID)
	}
}

// mentions counts the items of the store whose bucket key or value
// contains one of values.
func mentions(t *testing.T, st *embedded.Store, values []string) int {
	t.Helper()
	return mentionsWhere(t, st, values, func(string) bool { return true })
}

// isCatalog reports whether a raw key of the embedded store is a data
// catalog item.
func isCatalog(key string) bool { return strings.HasPrefix(key, "cat.") }

// mentionsWhere is mentions over the keys where says.
func mentionsWhere(t *testing.T, st *embedded.Store, values []string, where func(key string) bool) int {
	t.Helper()
	n := 0
	err := st.Scan(t.Context(), func(bucket, key string, value []byte) error {
		if !where(key) {
			return nil
		}
		for _, v := range values {
			if strings.Contains(key, v) || strings.Contains(string(value), v) {
				t.Logf("bucket %s mentions %q", bucket, v)
				n++
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestSuppression(t *testing.T) {
	tests := []struct {
		name     string
		suppress bool
		wantBack bool
	}{
		{"suppress_erased on", true, false},
		{"suppress_erased off", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, tt.suppress)
			ctx := t.Context()
			res, err := w.in.Ingest(ctx, annRecords())
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.svc.Erase(ctx, res.ProfileIDs[0]); err != nil {
				t.Fatalf("Erase() = %v", err)
			}
			// Old data is replayed, plus a new person.
			replay, err := w.in.Ingest(ctx, append(annRecords(), bobRecord()))
			if err != nil {
				t.Fatalf("Ingest(replay) = %v", err)
			}
			owners, err := w.st.Owners(ctx, []profile.Identifier{id("customer_id", "CUST-77881"), id("email", "bob@example.net")})
			if err != nil {
				t.Fatal(err)
			}
			_, back := owners[id("customer_id", "CUST-77881")]
			if back != tt.wantBack {
				t.Errorf("after replay the erased customer id is claimed = %v; want %v (result %+v)", back, tt.wantBack, replay)
			}
			if _, ok := owners[id("email", "bob@example.net")]; !ok {
				t.Errorf("a new person was dropped by the suppression list")
			}
			if tt.suppress && (replay.Duplicates != 3 || replay.ProfileIDs[0] != "" || replay.ProfileIDs[3] == "") {
				t.Errorf("Ingest(replay) = %+v; want 3 suppressed duplicates and bob's profile last", replay)
			}
		})
	}
}

func TestExportAndProvenance(t *testing.T) {
	w := newWorld(t, false)
	ctx := t.Context()
	res, err := w.in.Ingest(ctx, annRecords())
	if err != nil {
		t.Fatal(err)
	}
	x, err := w.svc.Export(ctx, res.ProfileIDs[1])
	if err != nil {
		t.Fatalf("Export() = %v", err)
	}
	b, err := json.Marshal(x)
	if err != nil {
		t.Fatalf("json.Marshal(export) = %v", err)
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("export is not a JSON object: %v\n%s", err, b)
	}
	// The members docs/openapi.yaml lists, with their sizes.
	want := map[string]int{"profile_ids": 2, "records": 3, "events": 1, "segments": 1, "segment_history": 1, "merges": 1}
	for name, n := range want {
		if got := members(t, doc[name]); got != n {
			t.Errorf("export member %s has %d entries; want %d", name, got, n)
		}
	}
	for _, name := range []string{"exported_at", "profile"} {
		if _, ok := doc[name]; !ok {
			t.Errorf("export has no member %s: %s", name, b)
		}
	}
	if len(doc) != len(want)+2 {
		t.Errorf("export has members %v; want exactly those of docs/openapi.yaml", slices.Sorted(maps.Keys(doc)))
	}
	pv := privacy.ProvenanceOf(x.Profile)
	if o := pv.Attributes["last_name"]; o.Source != "crm" || o.RecordID != "crm-row-annabelle-9" || !o.ObservedAt.Equal(t0) {
		t.Errorf("provenance of last_name = %+v; want crm, crm-row-annabelle-9, %v", o, t0)
	}
	if _, err := w.svc.Export(ctx, "p_missing"); !errors.Is(err, fault.ErrNotFound) {
		t.Errorf("Export(missing) = %v; want %v", err, fault.ErrNotFound)
	}
}

// members counts the entries of a JSON array or object (-1 for anything
// else).
func members(t *testing.T, raw json.RawMessage) int {
	t.Helper()
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return -1
	}
	switch v := v.(type) {
	case []any:
		return len(v)
	case map[string]any:
		return len(v)
	}
	return -1
}
