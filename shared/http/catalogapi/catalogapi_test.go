package catalogapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aurum-cdp/aurum/shared/core/catalog"
	"github.com/aurum-cdp/aurum/shared/http/catalogapi"
	"github.com/aurum-cdp/aurum/shared/model/fault"
)

// reader serves a fixed catalog of one source, crm, or fails with err.
type reader struct {
	crm catalog.SourceCatalog
	err error
}

func (r reader) Catalog(context.Context) (catalog.Catalog, error) {
	return catalog.Catalog{Sources: []catalog.SourceSummary{r.crm.SourceSummary}}, r.err
}

func (r reader) Source(_ context.Context, name string) (catalog.SourceCatalog, error) {
	if r.err != nil {
		return catalog.SourceCatalog{}, r.err
	}
	if name != r.crm.Name {
		return catalog.SourceCatalog{}, fmt.Errorf("catalog: no source %s: %w", name, fault.ErrNotFound)
	}
	return r.crm, nil
}

func TestHandler(t *testing.T) {
	seen := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	crm := catalog.SourceCatalog{
		SourceSummary: catalog.SourceSummary{Name: "crm", Kind: "file", Rows: 3, LastSeen: &seen},
		Fields:        []catalog.FieldProfile{{Field: "id"}, {Field: "email"}},
	}
	ok := reader{crm: crm}
	tests := []struct {
		name, path string
		r          reader
		status     int
		check      func(body map[string]any) error
	}{
		{"overview", "/v1/catalog", ok, 200, func(b map[string]any) error {
			srcs, _ := b["sources"].([]any)
			if len(srcs) != 1 {
				return fmt.Errorf("sources = %v; want crm", srcs)
			}
			if s := srcs[0].(map[string]any); s["name"] != "crm" || s["rows"] != 3.0 {
				return fmt.Errorf("first source = %v; want crm with 3 rows", s)
			}
			return nil
		}},
		{"source", "/v1/catalog/crm", ok, 200, func(b map[string]any) error {
			if fp, _ := b["field_profiles"].([]any); len(fp) != 2 {
				return fmt.Errorf("field_profiles = %d; want 2", len(fp))
			}
			if b["last_seen"] != seen.Format(time.RFC3339) {
				return fmt.Errorf("last_seen = %v; want %s", b["last_seen"], seen.Format(time.RFC3339))
			}
			return nil
		}},
		{"unknown source", "/v1/catalog/nope", ok, 404, errorCode("not_found")},
		{"store unavailable", "/v1/catalog", reader{err: fault.ErrRetryable}, 503, errorCode("unavailable")},
		{"store fails", "/v1/catalog/crm", reader{err: errors.New("bbolt: secret detail")}, 500, errorCode("internal")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			catalogapi.Handler(tt.r).ServeHTTP(rec, httptest.NewRequest("GET", tt.path, nil))
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

// errorCode checks an error body's code.
func errorCode(want string) func(map[string]any) error {
	return func(b map[string]any) error {
		if e, _ := b["error"].(map[string]any); e["code"] != want {
			return fmt.Errorf("error = %v; want code %s", b["error"], want)
		}
		return nil
	}
}

// *catalog.Reader is what the app mounts: it must stay a Reader.
var _ catalogapi.Reader = (*catalog.Reader)(nil)
