package httperr_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"testing"

	"github.com/aurum-cdp/aurum/shared/http/httperr"
	"github.com/aurum-cdp/aurum/shared/model/fault"
)

func TestWrite(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		status int
		code   string
		msg    string
	}{
		{"not found", fmt.Errorf("store: profile p1: %w", fault.ErrNotFound), 404, "not_found", "not found"},
		{"invalid keeps its reason", fault.Invalidf("expr 1:8: undefined field"), 400, "invalid", "invalid input: expr 1:8: undefined field"},
		{"too large", fault.ErrTooLarge, 413, "too_large", "request too large"},
		{"unauthorized", fault.ErrUnauthorized, 401, "unauthorized", "unauthorized"},
		{"forbidden", fault.ErrForbidden, 403, "forbidden", "forbidden"},
		{"conflict", fmt.Errorf("x: %w", fault.ErrConflict), 409, "conflict", "conflict with a concurrent change, retry"},
		{"retryable", fault.ErrRetryable, 503, "unavailable", "temporarily unavailable, retry"},
		{"cancelled", context.Canceled, 503, "unavailable", "temporarily unavailable, retry"},
		{"internal hides detail", errors.New("dynamo: table aurum-prod: secret detail"), 500, "internal", "internal error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			httperr.Write(rec, tt.err)
			var b httperr.Body
			if err := json.Unmarshal(rec.Body.Bytes(), &b); err != nil {
				t.Fatalf("body %q: %v", rec.Body, err)
			}
			if rec.Code != tt.status || b.Error.Code != tt.code || b.Error.Message != tt.msg {
				t.Errorf("Write(%v) = %d %+v; want %d %s %q", tt.err, rec.Code, b.Error, tt.status, tt.code, tt.msg)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q; want application/json", ct)
			}
		})
	}
}

func TestJSON(t *testing.T) {
	tests := []struct {
		name   string
		status int
		v      any
		want   int
		body   string
	}{
		{"value", 201, map[string]string{"q": "a<b&c"}, 201, `{"q":"a<b&c"}` + "\n"},
		{"does not encode", 200, map[string]any{"f": func() {}}, 500, `{"error":{"code":"internal","message":"internal error"}}` + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			httperr.JSON(rec, tt.status, tt.v)
			if rec.Code != tt.want || rec.Body.String() != tt.body {
				t.Errorf("JSON(%d, %v) = %d %q; want %d %q", tt.status, tt.v, rec.Code, rec.Body, tt.want, tt.body)
			}
			for h, want := range map[string]string{"Content-Type": "application/json", "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"} {
				if got := rec.Header().Get(h); got != want {
					t.Errorf("JSON(%d, %v): %s = %q; want %q", tt.status, tt.v, h, got, want)
				}
			}
		})
	}
}

func TestNotImplemented(t *testing.T) {
	rec := httptest.NewRecorder()
	httperr.NotImplemented(rec, "preview is not available")
	var b httperr.Body
	if err := json.Unmarshal(rec.Body.Bytes(), &b); err != nil {
		t.Fatalf("body %q: %v", rec.Body, err)
	}
	if rec.Code != 501 || b.Error.Code != "not_implemented" || b.Error.Message != "preview is not available" {
		t.Errorf("NotImplemented = %d %+v; want 501 not_implemented %q", rec.Code, b.Error, "preview is not available")
	}
}

func TestIntParam(t *testing.T) {
	tests := []struct {
		name, query string
		want        int
		err         string
	}{
		{"absent takes the default", "", 20, ""},
		{"in range", "n=7", 7, ""},
		{"low bound", "n=1", 1, ""},
		{"high bound", "n=100", 100, ""},
		{"below", "n=0", 0, "invalid input: n: want an integer from 1 to 100"},
		{"above", "n=101", 0, "invalid input: n: want an integer from 1 to 100"},
		{"not a number", "n=x", 0, "invalid input: n: want an integer from 1 to 100"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := httperr.IntParam(httptest.NewRequest("GET", "/?"+tt.query, nil), "n", 20, 1, 100)
			if tt.err == "" {
				if err != nil || got != tt.want {
					t.Errorf("IntParam(%q) = %d, %v; want %d, nil", tt.query, got, err, tt.want)
				}
				return
			}
			if err == nil || err.Error() != tt.err || !errors.Is(err, fault.ErrInvalid) {
				t.Errorf("IntParam(%q) = %d, %v; want error %q of kind invalid", tt.query, got, err, tt.err)
			}
		})
	}
}
