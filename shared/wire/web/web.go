// Package web wires Aurum's HTTP surface over a platform (package app):
// the tracking and profile API, the segment, identity, catalog and
// dashboard routes, and the dashboard's page. functions/api and local mode
// serve it; the other Lambda functions do not import it, so they link
// none of the HTTP layer.
package web

import (
	"fmt"
	"net/http"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/core/keys"
	"github.com/aurum-cdp/aurum/shared/core/privacy"
	"github.com/aurum-cdp/aurum/shared/http/api"
	"github.com/aurum-cdp/aurum/shared/http/catalogapi"
	"github.com/aurum-cdp/aurum/shared/http/dashboard"
	"github.com/aurum-cdp/aurum/shared/http/identityapi"
	"github.com/aurum-cdp/aurum/shared/http/segmentapi"
	"github.com/aurum-cdp/aurum/shared/wire/app"
)

// segmentRoutes are the routes of package segmentapi.
var segmentRoutes = []string{
	"GET /v1/segments", "GET /v1/segments/{id}", "POST /v1/segments/preview",
	"GET /v1/profiles/{id}/segments", "GET /v1/profiles/{id}/segments/history",
}

// API builds the HTTP API of functions/api (and of local mode's server)
// with every route the platform serves mounted on it.
func API(p *app.Platform, opts api.Options) (*api.API, error) {
	opts.Mounts = append(opts.Mounts, mounts(p)...)
	deps := api.Deps{
		// The API catalogues its messages itself, from the raw rows.
		Ingester: p.Requests,
		Observer: p.Console.APIObserver(),
		Profiles: p.Store,
		Secrets:  p.Secrets,
		Now:      p.Clock,
		Logger:   p.Logger,
		Keys:     p.Store, // keys created with `aurum keys` live in the store
	}
	if er, ok := p.Store.(privacy.Store); ok {
		svc, err := p.Privacy(er)
		if err != nil {
			return nil, err
		}
		deps.Privacy = svc
	}
	a, err := api.New(p.Config.Sources, p.Config.Identifiers, deps, opts)
	if err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	return a, nil
}

// Handler is the handler of functions/api and of local mode's server: the
// API, with the dashboard's page in front of it.
func Handler(p *app.Platform, opts api.Options) (http.Handler, error) {
	a, err := API(p, opts)
	if err != nil {
		return nil, err
	}
	return dashboard.WithStatic(a.Handler()), nil
}

// mounts are the routes served beside the API's own, behind its
// authorization: segments, identity, catalog and dashboard.
func mounts(p *app.Platform) []api.Mount {
	// app.New sets p.Clock (time.Now by default).
	segs := segmentapi.Handler(segmentapi.Deps{Eval: p.Segments.Eval, Items: p.Store, Profiles: p.Store, Scan: p.Scan, Now: p.Clock})
	var out []api.Mount
	for _, r := range segmentRoutes {
		out = append(out, api.Mount{Pattern: r, Handler: segs})
	}
	cat := catalogapi.Handler(p.Console.Catalog)
	for _, r := range catalogapi.Routes {
		out = append(out, api.Mount{Pattern: r, Handler: cat})
	}
	dash := dashboard.Handler(p.Console.Dashboard)
	for _, r := range dashboard.Routes {
		out = append(out, api.Mount{Pattern: r, Handler: dash})
	}
	ids := identityapi.Handler(p.Pipeline, identityapi.StatsFrom(p.Identity, p.Store))
	return append(out,
		api.Mount{Pattern: "GET /v1/identity/stats", Handler: ids},
		api.Mount{Pattern: "POST /v1/profiles/{id}/unmerge", Handler: ids, Scope: keys.ScopeAdmin},
	)
}

// Options are the HTTP API's options in AWS: the read and admin keys the
// function's settings reference.
func Options(s app.Settings) api.Options {
	var o api.Options
	if s.ReadKeySSM != "" {
		o.ReadKeys = []config.SecretRef{{SSM: s.ReadKeySSM}}
	}
	if s.AdminKeySSM != "" {
		o.AdminKeys = []config.SecretRef{{SSM: s.AdminKeySSM}}
	}
	return o
}
