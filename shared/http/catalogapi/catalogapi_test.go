package catalogapi_test

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/aurum-cdp/aurum/shared/adapter/embedded"
	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/core/catalog"
	"github.com/aurum-cdp/aurum/shared/core/mapping"
	"github.com/aurum-cdp/aurum/shared/http/catalogapi"
)

const testYAML = `
version: 1
identifiers:
  - {name: email, normalizer: email}
sources:
  - name: crm
    kind: file
    format: csv
    mapping:
      record_id: {field: id, required: true}
      identifiers:
        - {type: email, field: email}
      attributes:
        first_name: {field: first, type: name}
  - name: shop
    kind: file
    format: jsonl
    mapping:
      identifiers:
        - {type: email, field: customer.email}
`

// reader observes three crm rows at seen and returns the catalog reader.
func reader(t *testing.T, seen time.Time) *catalog.Reader {
	t.Helper()
	cfg, err := config.Parse("test.yaml", []byte(testYAML))
	if err != nil {
		t.Fatal(err)
	}
	st, err := embedded.Open(filepath.Join(t.TempDir(), "aurum.db"), embedded.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	o, err := catalog.NewObserver(cfg.Sources, cfg.Identifiers, st, catalog.ObserverOptions{Clock: func() time.Time { return seen }})
	if err != nil {
		t.Fatal(err)
	}
	m, err := mapping.New(cfg, "crm")
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 3; i++ {
		row := map[string]any{"id": fmt.Sprintf("C%d", i), "email": fmt.Sprintf("p%d@gmail.com", i), "first": "Ann"}
		rec, errs := m.Map(row)
		o.Observe("crm", row, rec, errs)
	}
	if err := o.Flush(t.Context()); err != nil {
		t.Fatalf("Flush = %v; want nil", err)
	}
	r, err := catalog.NewReader(cfg.Sources, cfg.Identifiers, st)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestHandler(t *testing.T) {
	seen := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	h := catalogapi.Handler(reader(t, seen))
	tests := []struct {
		name, path string
		status     int
		check      func(body map[string]any) error
	}{
		{"overview", "/v1/catalog", 200, func(b map[string]any) error {
			srcs, _ := b["sources"].([]any)
			if len(srcs) != 2 {
				return fmt.Errorf("sources = %v; want crm and shop", srcs)
			}
			if crm := srcs[0].(map[string]any); crm["name"] != "crm" || crm["rows"] != 3.0 {
				return fmt.Errorf("first source = %v; want crm with 3 rows", crm)
			}
			return nil
		}},
		{"source", "/v1/catalog/crm", 200, func(b map[string]any) error {
			if fp, _ := b["field_profiles"].([]any); len(fp) != 3 {
				return fmt.Errorf("field_profiles = %d; want 3 (id, email, first)", len(fp))
			}
			if b["last_seen"] != seen.Format(time.RFC3339) {
				return fmt.Errorf("last_seen = %v; want the clock's time %s", b["last_seen"], seen.Format(time.RFC3339))
			}
			return nil
		}},
		{"unknown source", "/v1/catalog/nope", 404, func(b map[string]any) error {
			if e, _ := b["error"].(map[string]any); e["code"] != "not_found" {
				return fmt.Errorf("error = %v; want code not_found", b["error"])
			}
			return nil
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("GET", tt.path, nil))
			if rec.Code != tt.status {
				t.Fatalf("GET %s = %d %s; want %d", tt.path, rec.Code, rec.Body, tt.status)
			}
			if ct, cc := rec.Header().Get("Content-Type"), rec.Header().Get("Cache-Control"); ct != "application/json" || cc != "no-store" {
				t.Errorf("GET %s: Content-Type %q, Cache-Control %q; want application/json, no-store", tt.path, ct, cc)
			}
			var body map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatalf("GET %s: body %q is not JSON: %v", tt.path, rec.Body, err)
			}
			if err := tt.check(body); err != nil {
				t.Errorf("GET %s: %v", tt.path, err)
			}
		})
	}
}
