package app

import (
	"context"
	"fmt"
	"iter"

	"github.com/aurum-cdp/aurum/shared/core/catalog"
	"github.com/aurum-cdp/aurum/shared/core/identity"
	"github.com/aurum-cdp/aurum/shared/core/pipeline"
	"github.com/aurum-cdp/aurum/shared/http/dashboard"
	"github.com/aurum-cdp/aurum/shared/model/profile"
)

// Console is the data catalog and the dashboard, wired over the platform's
// store: the observer every ingestion path feeds, the dashboard's recorder
// and snapshots, and what package web needs to mount the read routes.
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
	// Dashboard are the dependencies of the dashboard's routes (package
	// web mounts them).
	Dashboard dashboard.Deps
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
		Dashboard: deps,
		parts:     p,
	}, nil
}

// Ingester wraps the ingester of a path that does not hand the observer
// its rows (bus events) so that its records are catalogued. The HTTP API
// takes the observer itself (APIObserver) and must not be wrapped.
func (c *Console) Ingester(next pipeline.Ingester) pipeline.Ingester {
	return catalog.Observing(next, c.requests)
}

// APIObserver is the observer of the tracking and webhook routes
// (api.Deps.Observer): it sees raw tracking messages and field errors.
func (c *Console) APIObserver() *catalog.ThrottledObserver { return c.requests }

// SnapshotClusters stores the cluster-size histogram from a scan of every
// profile (local mode, in the background: never on a request path).
func (c *Console) SnapshotClusters(ctx context.Context, scan func(ctx context.Context) iter.Seq2[*profile.Profile, error]) error {
	if scan == nil {
		return nil
	}
	return dashboard.SnapshotClusters(ctx, c.Dashboard.Store, scan(ctx), c.parts.Clock())
}
