// Package pull runs pull sources: for one source of kind pull it loads
// the checkpoint from the store, asks the connector (a source.Source) for
// the rows after it, maps them with the source's mapping, ingests the
// records through the pipeline and only then commits the new checkpoint.
//
// Delivery is at least once. A run that stops between ingesting a batch
// and committing its checkpoint (a crash, a timeout) leaves the old
// checkpoint, and the next run reads the batch again; its records carry
// the same ids and content, so the pipeline's idempotency keys make them
// duplicates that change nothing. A row that changed at the source since
// is processed again, as an update of the same record.
//
// A run drains the source while the connector says more rows are waiting,
// up to Options.MaxBatches batches and while the context's deadline is
// further than Options.Reserve; a source left with rows waiting is due
// again at once. Rows the mapping rejects are counted and kept, with
// their reasons, in the object store under rejected/pulls/<source>/.
//
// Each source's state (checkpoint, last run, failures, totals) is one
// store item of kind KindState. A run claims the source with a lease in
// that item, and every write checks the item's version, so two schedulers
// never run one source at once (AWS may start a tick while the previous
// one still runs); a run that loses its lease stops.
package pull

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/core/mapping"
	"github.com/aurum-cdp/aurum/shared/core/pipeline"
	"github.com/aurum-cdp/aurum/shared/model/profile"
	"github.com/aurum-cdp/aurum/shared/port/objects"
	"github.com/aurum-cdp/aurum/shared/port/store"
	"github.com/aurum-cdp/aurum/shared/source"
)

// Defaults of Options.
const (
	DefaultMaxBatches = 100
	DefaultLease      = 5 * time.Minute
	DefaultRetryAfter = time.Minute
	DefaultReserve    = 10 * time.Second
)

// Store is the part of store.Store a runner needs: its state item.
type Store interface {
	Item(ctx context.Context, kind, key, sort string) (store.Item, error)
	Commit(ctx context.Context, changes ...store.Change) error
}

// Observer sees every mapped row, as the file loader's observer does;
// *catalog.Observer implements it. Flush runs after every batch.
type Observer interface {
	Observe(source string, row map[string]any, rec profile.Record, errs []mapping.FieldError)
	Flush(ctx context.Context) error
}

// Deps are a runner's collaborators.
type Deps struct {
	// State keeps the source's checkpoint item. Required.
	State Store
	// Ingester receives the mapped records. Required.
	Ingester pipeline.Ingester
	// Rejects, when set, receives the rejected rows of each batch. Without
	// it they are only logged and counted.
	Rejects objects.Store
	// Observer, when set, catalogues the rows.
	Observer Observer
}

// Options tune a runner; the zero value takes the defaults.
type Options struct {
	// MaxBatches bounds the batches read in one run; default 100.
	MaxBatches int
	// Lease is how long a run holds the source before another may take
	// it over (a run that crashed); default 5m. It is renewed with every
	// batch, so it must exceed the time one batch takes.
	Lease time.Duration
	// RetryAfter is how soon a failed run is retried; default 1m, at most
	// the schedule.
	RetryAfter time.Duration
	// Reserve stops a run from reading another batch when the context's
	// deadline is nearer (a Lambda function's timeout); default 10s.
	Reserve time.Duration
	// Clock measures a run's duration; default time.Now.
	Clock func() time.Time
	// Logger; nil discards.
	Logger *slog.Logger
}

// Runner runs one pull source. Its methods are safe for concurrent use;
// the lease keeps concurrent runs of one source apart.
type Runner struct {
	name      string
	connector string
	every     time.Duration
	batch     int
	conn      source.Source
	mapper    *mapping.Mapper
	deps      Deps
	opts      Options
}

// New builds the runner of the pull source name, configured by p, reading
// conn and mapping its rows with m (the source's mapper).
func New(name string, p config.Pull, conn source.Source, m *mapping.Mapper, d Deps, o Options) (*Runner, error) {
	every, err := p.Interval()
	if err != nil {
		return nil, fmt.Errorf("pull %s: %w", name, err)
	}
	if conn == nil || m == nil || d.State == nil || d.Ingester == nil {
		return nil, fmt.Errorf("pull %s: a runner needs a connector, a mapper, a state store and an ingester", name)
	}
	o = o.withDefaults(every)
	return &Runner{
		name: name, connector: p.Connector, every: every, batch: p.BatchSize(),
		conn: conn, mapper: m, deps: d, opts: o,
	}, nil
}

func (o Options) withDefaults(every time.Duration) Options {
	if o.MaxBatches <= 0 {
		o.MaxBatches = DefaultMaxBatches
	}
	if o.Lease <= 0 {
		o.Lease = DefaultLease
	}
	if o.RetryAfter <= 0 {
		o.RetryAfter = DefaultRetryAfter
	}
	o.RetryAfter = min(o.RetryAfter, every)
	if o.Reserve <= 0 {
		o.Reserve = DefaultReserve
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Name returns the source's name.
func (r *Runner) Name() string { return r.name }

// Schedule returns the source's interval.
func (r *Runner) Schedule() time.Duration { return r.every }

// Close closes the connector when it holds resources (io.Closer).
func (r *Runner) Close() error {
	if c, ok := r.conn.(io.Closer); ok {
		if err := c.Close(); err != nil {
			return fmt.Errorf("pull %s: close connector: %w", r.name, err)
		}
	}
	return nil
}
