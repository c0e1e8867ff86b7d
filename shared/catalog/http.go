package catalog

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/aurum-cdp/aurum/shared/fault"
)

// Handler serves the catalog:
//
//	GET /v1/catalog            every source, identifier health, alerts
//	GET /v1/catalog/{source}   one source: field profiles, identifiers, alerts
//
// It carries no authentication: mount it behind the API's read
// authorization (api.Options.Mounts).
func Handler(r *Reader) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/catalog", func(w http.ResponseWriter, req *http.Request) {
		c, err := r.Catalog(req.Context())
		if err != nil {
			fail(w, err)
			return
		}
		reply(w, http.StatusOK, c)
	})
	mux.HandleFunc("GET /v1/catalog/{source}", func(w http.ResponseWriter, req *http.Request) {
		c, err := r.Source(req.Context(), req.PathValue("source"))
		if err != nil {
			fail(w, err)
			return
		}
		reply(w, http.StatusOK, c)
	})
	return mux
}

func reply(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// fail answers with the API's error shape; messages name sources and
// fields, never values.
func fail(w http.ResponseWriter, err error) {
	status, code := http.StatusInternalServerError, "internal"
	switch {
	case errors.Is(err, fault.ErrNotFound):
		status, code = http.StatusNotFound, "not_found"
	case errors.Is(err, fault.ErrInvalid):
		status, code = http.StatusBadRequest, "invalid"
	}
	msg := err.Error()
	if status == http.StatusInternalServerError {
		msg = "catalog unavailable"
	}
	reply(w, status, map[string]any{"error": map[string]string{"code": code, "message": msg}})
}
