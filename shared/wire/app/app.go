// Package app wires Aurum's parts together. Every Lambda function and local
// mode build their handlers here, from the same configuration, so a
// function never has two code paths: only the adapters handed in differ
// (DynamoDB and S3 in AWS, the bbolt file and a folder locally).
package app

import (
	"context"
	"fmt"
	"iter"
	"log/slog"
	"os"
	"time"

	"github.com/aurum-cdp/aurum/shared/core/segment"
	"github.com/aurum-cdp/aurum/shared/wire/settings"

	"github.com/aurum-cdp/aurum/shared/core/privacy"

	"github.com/aurum-cdp/aurum/shared/core/identity"

	"github.com/aurum-cdp/aurum/shared/model/profile"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/core/pipeline"
	"github.com/aurum-cdp/aurum/shared/http/api"
	"github.com/aurum-cdp/aurum/shared/lambda/s3event"
	"github.com/aurum-cdp/aurum/shared/port/objects"
	"github.com/aurum-cdp/aurum/shared/port/store"
	"github.com/aurum-cdp/aurum/shared/source/file"
)

// Parts are the adapters a platform is built from.
type Parts struct {
	Config  *config.Config
	Store   store.Store
	Objects objects.Store
	// Secrets resolves secret references; may be nil locally.
	Secrets api.SecretResolver
	// Logger; nil discards.
	Logger *slog.Logger
	// Clock; nil means time.Now.
	Clock func() time.Time
	// Progress receives file-load progress (local mode's progress line).
	Progress func(file.Progress)
	// CatalogFlush batches the catalog writes of request paths (tracking
	// API, webhooks, bus events); the zero value flushes after every
	// request, which suits local mode.
	CatalogFlush CatalogFlush
	// Scan walks every profile (segment previews); nil where the store
	// offers no scan.
	Scan func(ctx context.Context) iter.Seq2[*profile.Profile, error]
	// AtomicStats writes identity counters inside each record's change set
	// (pipeline.Options.AtomicStats): local mode's embedded store.
	AtomicStats bool
	// GroupCommit, when above 0, puts the request paths (tracking API,
	// webhooks; Platform.Requests) behind a pipeline.GroupCommit taking up to that
	// many records per commit, so concurrent requests share commits:
	// local mode, where one process serves every client. File loads and
	// pulls keep their own batches (and their reports' profile counts). In AWS an instance serves one request at a time:
	// there is nothing to group.
	GroupCommit int
	// Precompiled are segments compiled ahead of time (aurum compile);
	// nil compiles every segment from source.
	Precompiled *segment.Precompiled
	// Appender, when set, takes tracked events of known profiles as one
	// appended item each; Pipeline.Fold (functions/fold, on the table's
	// stream) applies them. Only a deployment that runs the fold sets it.
	Appender store.Appender
}

// CatalogFlush says when request paths write their catalog statistics:
// once Rows rows are pending or the oldest is MaxAge old (checked at the
// end of each request).
type CatalogFlush struct {
	Rows   int
	MaxAge time.Duration
}

// Platform is the wired core: the pipeline and the loaders and handlers
// built on it.
type Platform struct {
	Parts
	Pipeline *pipeline.Pipeline
	// Ingester is what every ingestion path feeds: the pipeline, behind
	// the suppression list of erased identifiers when the configuration
	// asks for it (privacy.suppress_erased).
	Ingester pipeline.Ingester
	// Requests is what the request paths (tracking API, webhooks) feed:
	// Ingester, behind a group commit when Parts.GroupCommit asks for one.
	Requests pipeline.Ingester
	Loader   *file.Loader
	// Segments keeps memberships current: its extension runs inside every
	// pipeline commit.
	Segments *Segments
	// Identity is the compiled identity engine, shared by the pipeline,
	// the statistics route and the dashboard.
	Identity *identity.Engine
	// Console is the data catalog and the dashboard.
	Console *Console
}

// New wires a platform from its parts.
func New(p Parts) (*Platform, error) {
	if p.Config == nil || p.Store == nil {
		return nil, fmt.Errorf("app: a platform needs a config and a store")
	}
	if p.Logger == nil {
		p.Logger = slog.New(slog.DiscardHandler)
	}
	if p.Clock == nil {
		p.Clock = time.Now
	}
	pl := &Platform{Parts: p}
	eng, err := identity.New(p.Config.Identifiers, &p.Config.Identity)
	if err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	pl.Identity = eng
	seg, err := NewSegments(p)
	if err != nil {
		return nil, err
	}
	pl.Segments = seg
	if pl.Console, err = NewConsole(p, seg, eng); err != nil {
		return nil, err
	}
	pl.Pipeline = pipeline.New(pipeline.ConfigOf(p.Config), p.Store, pipeline.Options{
		Clock: p.Clock, Logger: p.Logger,
		// The record index (id.rec) lists each record and its idempotency
		// keys under its profile, so unmerge and erasure find them without
		// scanning.
		Extensions:  []pipeline.Extension{seg.Extension},
		Identity:    eng,
		Appender:    p.Appender,
		AtomicStats: p.AtomicStats,
	})
	pl.Ingester = pl.Pipeline
	if p.Config.Privacy != nil && p.Config.Privacy.SuppressErased {
		pl.Ingester = privacy.Suppress(pl.Pipeline, p.Store)
	}
	if p.Objects != nil {
		l, err := file.NewLoader(p.Config.Sources, p.Config.Identifiers, p.Objects, pl.Ingester, file.LoaderOptions{
			Clock: p.Clock, Logger: p.Logger, Progress: p.Progress, Observer: pl.Console.Observer,
		})
		if err != nil {
			return nil, fmt.Errorf("app: %w", err)
		}
		pl.Loader = l
	}
	pl.Requests = pl.Ingester
	if p.GroupCommit > 0 {
		pl.Requests = pipeline.NewGroupCommit(pl.Ingester, p.GroupCommit)
	}
	return pl, nil
}

// S3Handler is the handler of functions/ingest-s3 (and of local mode's
// drop folder).
func (p *Platform) S3Handler() (*s3event.Handler, error) {
	if p.Loader == nil {
		return nil, fmt.Errorf("app: S3 handler needs an object store")
	}
	return s3event.New(p.Loader, p.Logger), nil
}

// NewLogger returns a JSON logger on w at the level named by
// AURUM_LOG_LEVEL (settings.Logger).
func NewLogger(w *os.File) *slog.Logger { return settings.Logger(w) }
