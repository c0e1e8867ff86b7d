// Package catalogapi serves Aurum's data-catalog routes: the overview of
// every source with identifier health and alerts, and one source field by
// field (package catalog assembles both from the store).
//
// The handler carries no authentication: mount it behind the API's read
// authorization (package api, api.Options.Mounts).
package catalogapi

import (
	"context"
	"net/http"

	"github.com/aurum-cdp/aurum/shared/core/catalog"
	"github.com/aurum-cdp/aurum/shared/http/httperr"
)

// Reader reads the catalog; *catalog.Reader implements it.
type Reader interface {
	// Catalog returns every source, identifier health and alerts.
	Catalog(ctx context.Context) (catalog.Catalog, error)
	// Source returns one source's catalog; an unknown source is
	// fault.ErrNotFound.
	Source(ctx context.Context, name string) (catalog.SourceCatalog, error)
}

// Routes are the patterns Handler serves, for api.Options.Mounts.
var Routes = []string{"GET /v1/catalog", "GET /v1/catalog/{source}"}

// Handler serves:
//
//	GET /v1/catalog            every source, identifier health, alerts
//	GET /v1/catalog/{source}   one source: field profiles, identifiers, alerts
func Handler(r Reader) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc(Routes[0], func(w http.ResponseWriter, req *http.Request) {
		c, err := r.Catalog(req.Context())
		if err != nil {
			httperr.Write(w, err)
			return
		}
		httperr.JSON(w, http.StatusOK, c)
	})
	mux.HandleFunc(Routes[1], func(w http.ResponseWriter, req *http.Request) {
		c, err := r.Source(req.Context(), req.PathValue("source"))
		if err != nil {
			httperr.Write(w, err)
			return
		}
		httperr.JSON(w, http.StatusOK, c)
	})
	return mux
}
