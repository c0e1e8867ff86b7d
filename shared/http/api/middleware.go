package api

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// handlerFunc is an HTTP handler that may fail; instrument writes the
// error.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// stats are the counts a handler reports for the request log line.
type stats struct {
	messages, accepted, duplicates, rejected int
	source                                   string
}

type statsKey struct{}

// requestStats returns the stats of the request ctx belongs to, or a
// throwaway value outside instrument.
func requestStats(ctx context.Context) *stats {
	if st, ok := ctx.Value(statsKey{}).(*stats); ok {
		return st
	}
	return &stats{}
}

// statusWriter records the status written.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// instrument turns h into an http.Handler that writes h's error, recovers
// from panics and logs one line per request: method, route pattern,
// status, duration and counts. It never logs the path, query, headers or
// body, which may carry identifiers.
func (a *API) instrument(pattern string, h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		st := &stats{}
		sw := &statusWriter{ResponseWriter: w}
		r = r.WithContext(context.WithValue(r.Context(), statsKey{}, st))
		var err error
		func() {
			defer func() {
				if p := recover(); p != nil {
					err = fmt.Errorf("api: panic in %s: %v", pattern, p)
				}
			}()
			err = h(sw, r)
		}()
		if err != nil {
			if sw.status != 0 {
				// The response is under way; nothing more can be sent.
				a.log.Error("api: error after response started", "route", pattern, "error", err.Error())
			} else {
				writeError(sw, err)
			}
		}
		level := slog.LevelInfo
		attrs := []slog.Attr{
			slog.String("method", r.Method),
			slog.String("route", pattern),
			slog.Int("status", sw.status),
			slog.Duration("duration", time.Since(start)),
		}
		if err != nil {
			_, code, _ := statusOf(err)
			attrs = append(attrs, slog.String("code", code))
		}
		if st.source != "" {
			attrs = append(attrs, slog.String("source", st.source))
		}
		if st.messages > 0 {
			attrs = append(attrs,
				slog.Int("messages", st.messages),
				slog.Int("accepted", st.accepted),
				slog.Int("duplicates", st.duplicates),
				slog.Int("rejected", st.rejected))
		}
		if sw.status >= 500 {
			level = slog.LevelError
			if err != nil {
				// Internal errors are logged for operators; errors of
				// ingestion paths never carry input values.
				attrs = append(attrs, slog.String("error", err.Error()))
			}
		}
		a.log.LogAttrs(r.Context(), level, "http request", attrs...)
	})
}

// methodNotAllowed answers 405 for a known path asked with another method.
func methodNotAllowed(methods []string) handlerFunc {
	allow := strings.Join(methods, ", ")
	return func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Allow", allow)
		return &apiError{status: http.StatusMethodNotAllowed, code: "method_not_allowed",
			msg: fmt.Sprintf("method %s not allowed; use %s", r.Method, allow)}
	}
}
