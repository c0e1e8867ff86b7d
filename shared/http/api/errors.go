package api

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/aurum-cdp/aurum/shared/http/httperr"
	"github.com/aurum-cdp/aurum/shared/model/fault"
)

// apiError is an error the API wrote itself: its message is safe to show
// to the caller (it never echoes input values).
type apiError struct {
	// kind is a fault kind; status overrides the status it maps to.
	kind    error
	status  int
	code    string
	msg     string
	details any
	// retryAfter, when positive, is sent as Retry-After (seconds).
	retryAfter int
}

func (e *apiError) Error() string { return e.msg }

func (e *apiError) Unwrap() error { return e.kind }

// invalid returns a 400 error with a caller-safe message.
func invalid(msg string) *apiError {
	return &apiError{kind: fault.ErrInvalid, code: "invalid", msg: msg}
}

// statusOf maps an error to its HTTP status, code and a caller-safe
// message. It is the one place where error kinds become statuses. Errors
// that did not come from the API itself are described by their kind only,
// so no internal detail leaks.
func statusOf(err error) (status int, code, msg string) {
	status, code, msg = httperr.Status(err)
	var ae *apiError
	if errors.As(err, &ae) {
		if ae.status != 0 {
			status = ae.status
		}
		if ae.code != "" {
			code = ae.code
		}
		msg = ae.msg
	}
	return status, code, msg
}

// writeError writes err as a JSON error response and returns its status.
func writeError(w http.ResponseWriter, err error) int {
	status, code, msg := statusOf(err)
	body := httperr.Body{Error: httperr.Detail{Code: code, Message: msg}}
	var ae *apiError
	if !errors.As(err, &ae) {
		ae = nil
	} else {
		body.Error.Details = ae.details
	}
	switch status {
	case http.StatusUnauthorized:
		w.Header().Set("WWW-Authenticate", `Basic realm="aurum"`)
	case http.StatusServiceUnavailable:
		w.Header().Set("Retry-After", strconv.Itoa(1))
	case http.StatusTooManyRequests:
		secs := 1
		if ae != nil && ae.retryAfter > 0 {
			secs = ae.retryAfter
		}
		retryAfterHeader(w, secs)
	}
	httperr.JSON(w, status, body)
	return status
}
