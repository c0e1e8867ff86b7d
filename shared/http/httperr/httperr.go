// Package httperr is the one place where Aurum's error kinds (package
// fault) become HTTP statuses and JSON error bodies, and where handlers
// write JSON replies (JSON) and read integer query parameters (IntParam).
// The API and every handler mounted on it (segments, identity, catalog,
// dashboard) answer through it, so a kind maps to the same status
// everywhere, every JSON reply carries the same headers, and no internal
// detail leaks.
package httperr

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

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
	JSON(w, status, Body{Error: Detail{Code: code, Message: msg}})
}

// internalBody is the reply when a value does not encode.
const internalBody = `{"error":{"code":"internal","message":"internal error"}}` + "\n"

// JSON answers v as a JSON body with the given status. Replies are never
// cached (Cache-Control: no-store) nor sniffed as another content type
// (X-Content-Type-Options: nosniff); HTML characters are not escaped. A
// value that does not encode is answered as a 500 internal error instead.
func JSON(w http.ResponseWriter, status int, v any) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		status = http.StatusInternalServerError
		b.Reset()
		b.WriteString(internalBody)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
}

// IntParam returns the integer query parameter name of r, def when it is
// absent, or an error of kind fault.ErrInvalid naming the parameter and
// its range when it is not an integer from lo to hi.
func IntParam(r *http.Request, name string, def, lo, hi int) (int, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, fault.Invalidf("%s: want an integer from %d to %d", name, lo, hi)
	}
	return n, nil
}

// NotImplemented answers 501 with code not_implemented and msg, for a
// route whose collaborator this deployment does not have.
func NotImplemented(w http.ResponseWriter, msg string) {
	JSON(w, http.StatusNotImplemented, Body{Error: Detail{Code: "not_implemented", Message: msg}})
}
