// Package identityapi serves Aurum's identity routes: unmerging a profile and
// the streaming identity statistics.
//
// The handler carries no authentication: mount it behind the API's
// authorization (package api), unmerge behind write access.
package identityapi

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/aurum-cdp/aurum/shared/http/httperr"

	"github.com/aurum-cdp/aurum/shared/core/identity"
	"github.com/aurum-cdp/aurum/shared/core/pipeline"
	"github.com/aurum-cdp/aurum/shared/model/fault"
)

// Unmerger splits profiles (pipeline.Pipeline has it).
type Unmerger interface {
	Unmerge(ctx context.Context, profileID string, w pipeline.Withdrawal) (pipeline.Split, error)
}

// Stats returns the streaming identity statistics; see StatsFrom.
type Stats func(ctx context.Context) (identity.Stats, error)

// StatsFrom returns the Stats of eng's rules over the counters in st.
func StatsFrom(eng *identity.Engine, st identity.ItemReader) Stats {
	return func(ctx context.Context) (identity.Stats, error) { return eng.StreamStats(ctx, st) }
}

// maxBody bounds an unmerge request body.
const maxBody = 16 << 10

// Handler serves:
//
//	POST /v1/profiles/{id}/unmerge   {"record": "source/id"} or {"link": ["source/id", "source/id"]}, optional "reason"
//	GET  /v1/identity/stats          identity.Stats
//
// A nil Unmerger or Stats answers 501 on its route.
func Handler(u Unmerger, stats Stats) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/profiles/{id}/unmerge", func(w http.ResponseWriter, r *http.Request) {
		if u == nil {
			httperr.NotImplemented(w, "unmerge is not available")
			return
		}
		var wd pipeline.Withdrawal
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&wd); err != nil {
			httperr.Write(w, fault.Invalidf("body: want {\"record\": \"source/id\"} or {\"link\": [\"source/id\", \"source/id\"]}"))
			return
		}
		sp, err := u.Unmerge(r.Context(), r.PathValue("id"), wd)
		if err != nil {
			httperr.Write(w, err)
			return
		}
		httperr.JSON(w, http.StatusOK, sp)
	})
	mux.HandleFunc("GET /v1/identity/stats", func(w http.ResponseWriter, r *http.Request) {
		if stats == nil {
			httperr.NotImplemented(w, "identity statistics are not available")
			return
		}
		s, err := stats(r.Context())
		if err != nil {
			httperr.Write(w, err)
			return
		}
		httperr.JSON(w, http.StatusOK, s)
	})
	return mux
}
