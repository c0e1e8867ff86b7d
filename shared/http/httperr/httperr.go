// Package httperr is the one place where Aurum's error kinds (package
// fault) become HTTP statuses and JSON error bodies. The API and every
// handler mounted on it (segments, identity, catalog, dashboard) answer
// errors through it, so a kind maps to the same status everywhere and no
// internal detail leaks.
package httperr

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/aurum-cdp/aurum/shared/model/fault"
)

// Body is the JSON body of every error response:
//
//	{"error": {"code": "not_found", "message": "not found"}}
type Body struct {
	Error Detail `json:"error"`
}

// Detail is an error's code, caller-safe message and optional details.
type Detail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Details any    `json:"details,omitempty"`
}

// Status maps err's kind to a status, a code and a generic message that
// reveals nothing about err itself.
func Status(err error) (status int, code, msg string) {
	switch {
	case errors.Is(err, fault.ErrNotFound):
		return http.StatusNotFound, "not_found", "not found"
	case errors.Is(err, fault.ErrInvalid):
		return http.StatusBadRequest, "invalid", "invalid request"
	case errors.Is(err, fault.ErrTooLarge):
		return http.StatusRequestEntityTooLarge, "too_large", "request too large"
	case errors.Is(err, fault.ErrUnauthorized):
		return http.StatusUnauthorized, "unauthorized", "unauthorized"
	case errors.Is(err, fault.ErrForbidden):
		return http.StatusForbidden, "forbidden", "forbidden"
	case errors.Is(err, fault.ErrConflict):
		return http.StatusConflict, "conflict", "conflict with a concurrent change, retry"
	case errors.Is(err, fault.ErrRetryable), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable, "unavailable", "temporarily unavailable, retry"
	default:
		return http.StatusInternalServerError, "internal", "internal error"
	}
}

// Write answers err. Invalid-input errors carry their own message: by
// convention (fault.Invalidf) their reasons name fields and positions,
// never input values, and the caller needs them (a CEL error's line and
// column, a missing field). Every other kind gets its generic message.
func Write(w http.ResponseWriter, err error) {
	status, code, msg := Status(err)
	if status == http.StatusBadRequest {
		msg = err.Error()
	}
	WriteJSON(w, status, Body{Error: Detail{Code: code, Message: msg}})
}

// WriteJSON writes v as the JSON body of a response with the given status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}
