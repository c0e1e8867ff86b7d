package api

import (
	"context"
	"net/http"

	"github.com/aurum-cdp/aurum/shared/core/keys"
	"github.com/aurum-cdp/aurum/shared/core/privacy"
	"github.com/aurum-cdp/aurum/shared/http/httperr"
)

// Privacy serves the data-subject routes; *privacy.Service implements it.
type Privacy interface {
	Export(ctx context.Context, id string) (privacy.Export, error)
	Erase(ctx context.Context, id string) (privacy.Erased, error)
}

func notConfigured() *apiError {
	return &apiError{status: http.StatusNotImplemented, code: "not_configured", msg: "privacy routes are not configured on this server"}
}

// privacyRoute authorizes a data-subject route for scope and returns the
// profile id of its path; without a privacy service the route is 501.
func (a *API) privacyRoute(r *http.Request, scope string) (string, error) {
	if err := a.authorize(r.Context(), r, scope); err != nil {
		return "", err
	}
	id, err := pathID(r)
	if err != nil {
		return "", err
	}
	if a.deps.Privacy == nil {
		return "", notConfigured()
	}
	return id, nil
}

// profileProvenance serves GET /v1/profiles/{id}/provenance: for each
// surviving attribute, the source, record id and observation time it
// came from.
func (a *API) profileProvenance(w http.ResponseWriter, r *http.Request) error {
	p, err := a.readPathProfile(r)
	if err != nil {
		return err
	}
	httperr.JSON(w, http.StatusOK, privacy.ProvenanceOf(p))
	return nil
}

// profileExport serves GET /v1/profiles/{id}/export: everything held
// about the person, as one JSON document.
func (a *API) profileExport(w http.ResponseWriter, r *http.Request) error {
	id, err := a.privacyRoute(r, keys.ScopeRead)
	if err != nil {
		return err
	}
	x, err := a.deps.Privacy.Export(r.Context(), id)
	if err != nil {
		return notFoundAs(err, "no such profile", "api: export profile")
	}
	w.Header().Set("Content-Disposition", `attachment; filename="profile-export.json"`)
	httperr.JSON(w, http.StatusOK, x)
	return nil
}

// profileErase serves DELETE /v1/profiles/{id}: the GDPR erasure of the
// person the id resolves to. It needs the erase scope.
func (a *API) profileErase(w http.ResponseWriter, r *http.Request) error {
	id, err := a.privacyRoute(r, keys.ScopeErase)
	if err != nil {
		return err
	}
	res, err := a.deps.Privacy.Erase(r.Context(), id)
	if err != nil {
		return notFoundAs(err, "no such profile", "api: erase profile")
	}
	httperr.JSON(w, http.StatusOK, res)
	return nil
}
