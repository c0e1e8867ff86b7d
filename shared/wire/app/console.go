package app

import (
	"context"
	"fmt"
	"iter"
	"net/http"

	"github.com/aurum-cdp/aurum/shared/core/catalog"
	"github.com/aurum-cdp/aurum/shared/core/identity"
	"github.com/aurum-cdp/aurum/shared/http/api"
	"github.com/aurum-cdp/aurum/shared/http/catalogapi"
	"github.com/aurum-cdp/aurum/shared/http/dashboard"
	"github.com/aurum-cdp/aurum/shared/model/profile"
)

// Console is the data catalog and the dashboard, wired over the platform's
// store: the observer every ingestion path feeds, and the read routes.
type Console struct {
	// Observer catalogues the rows of file loads (ingest.LoaderOptions),
	// the messages of the tracking API and the items of webhooks
	// (api.Deps.Observer) and, through Ingester, the records of bus
	// events.
	Observer *catalog.Observer
	Catalog  *catalog.Reader
	// Recorder keeps recent TriggerFired events: subscribe Recorder.Handle
	// on the bus (local mode) or route TriggerFired to it.
	Recorder *dashboard.Recorder
	// Snapshots stores segment count snapshots (also taken lazily when a
	// trend is read).
	Snapshots *dashboard.Snapshotter
	deps      dashboard.Deps
	parts     Parts
	// requests observes the request paths (API, bus), flushed in bulk as
	// Parts.CatalogFlush says.
	requests *catalog.ThrottledObserver
}

// NewConsole wires the catalog and the dashboard.
func NewConsole(p Parts, seg *Segments, eng *identity.Engine) (*Console, error) {
	cfg := p.Config
	obs, err := catalog.NewObserver(cfg.Sources, cfg.Identifiers, p.Store, catalog.ObserverOptions{Clock: p.Clock, Logger: p.Logger})
	if err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	rd, err := catalog.NewReader(cfg.Sources, cfg.Identifiers, p.Store)
	if err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	deps := dashboard.Deps{Store: p.Store, Identity: eng, Segments: seg.Eval, Now: p.Clock}
	return &Console{
		requests:  catalog.Throttled(obs, p.CatalogFlush.Rows, p.CatalogFlush.MaxAge),
		Observer:  obs,
		Catalog:   rd,
		Recorder:  dashboard.NewRecorder(p.Store, p.Clock),
		Snapshots: dashboard.NewSnapshotter(deps),
		deps:      deps,
		parts:     p,
	}, nil
}

// Mounts are the catalog and dashboard JSON routes, for api.Options.Mounts
// (behind read authorization).
func (c *Console) Mounts() []api.Mount {
	cat := catalogapi.Handler(c.Catalog)
	dash := dashboard.Handler(c.deps)
	var out []api.Mount
	for _, r := range catalogapi.Routes {
		out = append(out, api.Mount{Pattern: r, Handler: cat})
	}
	for _, r := range dashboard.Routes {
		out = append(out, api.Mount{Pattern: r, Handler: dash})
	}
	return out
}

// Ingester wraps the ingester of a path that does not hand the observer
// its rows (bus events) so that its records are catalogued. The HTTP API
// takes the observer itself (APIObserver) and must not be wrapped.
func (c *Console) Ingester(next api.Ingester) api.Ingester {
	return catalog.Observing(next, c.requests)
}

// APIObserver is the observer of the tracking and webhook routes
// (api.Deps.Observer): it sees raw tracking messages and field errors.
func (c *Console) APIObserver() api.Observer { return c.requests }

// Handler serves the dashboard page in front of the API handler h.
func (c *Console) Handler(h http.Handler) http.Handler { return dashboard.WithStatic(h) }

// SnapshotClusters stores the cluster-size histogram from a scan of every
// profile (local mode, in the background: never on a request path).
func (c *Console) SnapshotClusters(ctx context.Context, scan func(ctx context.Context) iter.Seq2[*profile.Profile, error]) error {
	if scan == nil {
		return nil
	}
	return dashboard.SnapshotClusters(ctx, c.deps.Store, scan(ctx), c.parts.Clock())
}
