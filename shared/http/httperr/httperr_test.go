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
