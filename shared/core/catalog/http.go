package catalog

import (
	"encoding/json"
	"net/http"

	"github.com/aurum-cdp/aurum/shared/http/httperr"
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

func fail(w http.ResponseWriter, err error) { httperr.Write(w, err) }
