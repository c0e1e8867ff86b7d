package local

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/aurum-cdp/aurum/shared/adapter/bus"
	"github.com/aurum-cdp/aurum/shared/adapter/dir"
	"github.com/aurum-cdp/aurum/shared/adapter/embedded"
	"github.com/aurum-cdp/aurum/shared/adapter/secrets"
	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/core/activation"
	"github.com/aurum-cdp/aurum/shared/core/pipeline"
	"github.com/aurum-cdp/aurum/shared/core/segment"
	"github.com/aurum-cdp/aurum/shared/core/trigger"
	"github.com/aurum-cdp/aurum/shared/http/api"
	"github.com/aurum-cdp/aurum/shared/lambda/s3event"
	"github.com/aurum-cdp/aurum/shared/model/events"
	"github.com/aurum-cdp/aurum/shared/model/profile"
	"github.com/aurum-cdp/aurum/shared/pattern"
	"github.com/aurum-cdp/aurum/shared/source/file"
	"github.com/aurum-cdp/aurum/shared/wire/app"
	"github.com/aurum-cdp/aurum/shared/wire/web"
)

// Options configure local mode.
type Options struct {
	// ConfigPath is the aurum.yaml to run.
	ConfigPath string
	// Data is the data folder: aurum.db (the embedded store), bucket/ (the
	// stand-in for the S3 bucket: sources/, rejected/, reports/) and drop/
	// (the folder watched for new files, one sub-folder per file source).
	Data string
	// Addr is the HTTP listen address; "127.0.0.1:0" picks a free port.
	Addr string
	// Samples, if set, is a folder with one sub-folder per file source whose
	// files are dropped on first run (when the data folder is new).
	Samples string
	// Out receives the progress lines and summaries meant for people.
	Out io.Writer
	// Logger receives structured logs; nil discards.
	Logger *slog.Logger
	// Ready, if set, is called with the HTTP address once serving.
	Ready func(addr string)
	// Observe, if set, receives every event published on the bus (tests
	// and benchmarks).
	Observe bus.Handler
	// Poll is the drop-folder poll interval; default 300ms.
	Poll time.Duration
}

// Run runs local mode until ctx is done.
func Run(ctx context.Context, o Options) error {
	o = o.withDefaults()
	cfg, err := config.Load(o.ConfigPath)
	if err != nil {
		return err
	}
	fresh, err := prepareData(o.Data)
	if err != nil {
		return err
	}
	if fresh && o.Samples != "" {
		// Marked before the store exists, cleared once every sample is in
		// the drop folder: a crash in between copies them again on the
		// next start (a file already loaded loads as duplicates).
		if err := markSamples(o.Data); err != nil {
			return err
		}
	}
	st, err := embedded.OpenData(o.Data)
	if err != nil {
		return fmt.Errorf("local: open store (is another aurum local using %s?): %w", o.Data, err)
	}
	defer st.Close()
	objs, err := dir.New(filepath.Join(o.Data, "bucket"))
	if err != nil {
		return fmt.Errorf("local: bucket folder: %w", err)
	}
	defer objs.Close()
	in, err := assemble(o, cfg, st, objs)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return fmt.Errorf("local: listen on %s: %w", o.Addr, err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	drop := in.dropFolder(ctx, fileSources(cfg))
	if o.Samples != "" && samplesPending(o.Data) {
		n, err := copySamples(o.Samples, drop.Drop, drop.Sources)
		if err != nil {
			return err
		}
		if err := os.Remove(samplesMark(o.Data)); err != nil {
			return fmt.Errorf("local: samples: %w", err)
		}
		fmt.Fprintf(o.Out, "first run: dropped %d sample files from %s into %s\n", n, o.Samples, drop.Drop)
	}
	return in.serve(ctx, cancel, ln, drop)
}

// withDefaults returns o with its output and logger set: nil discards.
func (o Options) withDefaults() Options {
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// prepareData creates the data folder's bucket folder and reports whether
// the folder is new (it holds no store yet).
func prepareData(data string) (fresh bool, err error) {
	if _, err := os.Stat(embedded.DataPath(data)); errors.Is(err, fs.ErrNotExist) {
		fresh = true
	}
	if err := os.MkdirAll(filepath.Join(data, "bucket"), 0o755); err != nil {
		return false, fmt.Errorf("local: data folder: %w", err)
	}
	return fresh, nil
}

// fileSources returns the names of the configuration's file sources: the
// drop folder's sub-folders.
func fileSources(cfg *config.Config) []string {
	var names []string
	for _, s := range cfg.SourcesOfKind(config.KindFile) {
		names = append(names, s.Name)
	}
	return names
}

// instance is local mode's platform with the parts that run it: the
// store, the relay waking on commits, the bus and the triggers.
type instance struct {
	o        Options
	st       *embedded.Store
	objs     *dir.Store
	p        *app.Platform
	progress *progress
	// wake receives the due times the segment extension writes.
	wake     chan time.Time
	s3h      *s3event.Handler
	handler  http.Handler
	bus      *bus.Bus
	relay    *Relay
	triggers *trigger.Engine
	sched    *trigger.StoreScheduler
	// dests runs the destinations (docs/destinations.md).
	dests *activation.Runner
}

// assemble wires the platform on the store and the bucket folder, its
// HTTP handler and its bus.
func assemble(o Options, cfg *config.Config, st *embedded.Store, objs *dir.Store) (*instance, error) {
	in := &instance{o: o, st: st, objs: objs, progress: newProgress(o.Out)}
	// Commits with outbox events wake the relay (see notify.go).
	sst, committed := newSignalingStore(st)
	if err := in.platform(cfg, sst); err != nil {
		return nil, err
	}
	var err error
	if in.s3h, err = in.p.S3Handler(); err != nil {
		return nil, err
	}
	// Local mode serves one developer on loopback: reads need no key from
	// there, and there is no per-key rate limit (API Gateway throttles in
	// AWS, plus the per-instance limit of the api function).
	if in.handler, err = web.Handler(in.p, api.Options{AllowUnauthenticatedReads: true, RatePerSecond: -1}); err != nil {
		return nil, err
	}
	if err := in.wireBus(cfg, committed); err != nil {
		return nil, err
	}
	return in, nil
}

// platform builds the platform over sst. Time-based segment
// re-evaluation: the extension reports every due time it writes, waking
// the scheduler's timer loop.
func (in *instance) platform(cfg *config.Config, sst *signalingStore) error {
	p, err := app.New(app.Parts{
		Config:  cfg,
		Store:   sst,
		Objects: in.objs,
		Secrets: secrets.New(nil, nil, nil),
		Logger:  in.o.Logger,
		// The catalog statistics of request paths are written in bulk,
		// not once per request (a read-merge-write of every field each
		// time); catalogLoop flushes what is pending every catalogFlush.
		CatalogFlush: app.CatalogFlush{Rows: 1000, MaxAge: catalogFlush},
		// One bbolt transaction holds a record and its identity counters:
		// a crash cannot commit one without the other.
		AtomicStats: true,
		// Concurrent requests share commits: one bbolt transaction (one
		// fsync) for what arrived while the previous one ran.
		GroupCommit: pipeline.DefaultGroupRecords,
		Progress:    in.progress.update,
		Scan: func(ctx context.Context) iter.Seq2[*profile.Profile, error] {
			return segment.ScanProfiles(ctx, in.st)
		},
	})
	if err != nil {
		return err
	}
	in.p = p
	in.wake = make(chan time.Time, 1)
	p.Segments.Extension.OnDue = func(at time.Time) {
		select {
		case in.wake <- at:
		default:
		}
	}
	return nil
}

// wireBus builds the bus and its subscribers: everything published is
// logged at debug level (and observed, when asked); the triggers react to
// what it carries, as EventBridge rules route to functions/triggers in
// AWS, with delayed firings waiting in the store; the dashboard records
// it; and the subscribers of aurum.yaml receive what they match. The
// relay publishes the outbox on it when committed signals.
func (in *instance) wireBus(cfg *config.Config, committed <-chan struct{}) error {
	in.bus = bus.New(in.o.Logger)
	all, err := pattern.Parse([]byte(`{"source":["aurum"]}`))
	if err != nil {
		return fmt.Errorf("local: %w", err)
	}
	if err := in.bus.Subscribe("log", all, bus.LogHandler(in.o.Logger)); err != nil {
		return fmt.Errorf("local: %w", err)
	}
	if in.o.Observe != nil {
		if err := in.bus.Subscribe("observe", nil, in.o.Observe); err != nil {
			return fmt.Errorf("local: %w", err)
		}
	}
	in.relay = &Relay{Outbox: in.st, Publisher: in.bus, Wake: committed, Log: in.o.Logger}
	if in.triggers, in.sched, _, in.dests, err = in.p.LocalActivation(nil); err != nil {
		return err
	}
	if err := in.bus.Subscribe("triggers", nil, in.triggers.Handle); err != nil {
		return fmt.Errorf("local: %w", err)
	}
	// Each destination is its own subscriber, as each has its own rule to
	// the destinations function in AWS: one that is down is retried (and
	// dead-lettered) alone, and the others receive nothing twice.
	for _, name := range in.dests.Names() {
		handle := func(ctx context.Context, env events.Envelope) error { return in.dests.HandleFor(ctx, name, env) }
		if err := in.bus.Subscribe("destination:"+name, nil, handle); err != nil {
			return fmt.Errorf("local: %w", err)
		}
	}
	if err := in.bus.Subscribe("dashboard", nil, in.p.Console.Recorder.Handle); err != nil {
		return fmt.Errorf("local: %w", err)
	}
	return subscribe(in.bus, cfg, in.o.Out, in.o.Logger)
}

// dropFolder returns the watcher of the data folder's drop/ folder, one
// sub-folder per file source: it hands new files to the S3 handler,
// prints a line per loaded file and, when idle, the summary and the
// dashboard's cluster sizes. Its callbacks use ctx.
func (in *instance) dropFolder(ctx context.Context, sources []string) *DropFolder {
	return &DropFolder{
		Drop:    filepath.Join(in.o.Data, "drop"),
		Bucket:  filepath.Join(in.o.Data, "bucket"),
		Name:    "local",
		Sources: sources,
		Handler: in.s3h,
		Poll:    in.o.Poll,
		Log:     in.o.Logger,
		Done: func(key string, handed time.Time, err error) {
			in.progress.done(ctx, in.objs, key, handed, err)
		},
		Idle: func() {
			in.progress.summary(ctx, in.st)
			// The dashboard's cluster sizes, from a background scan.
			if err := in.p.Console.SnapshotClusters(ctx, in.p.Scan); err != nil {
				in.o.Logger.WarnContext(ctx, "local: cluster sizes", "err", err)
			}
		},
	}
}

// serve runs the drop folder, the relay, the segment and trigger
// schedulers, the sweeper and the HTTP server on ln until ctx is done or
// one of them fails, then stops them (cancel), publishes what is left in
// the outbox and closes the bus.
func (in *instance) serve(ctx context.Context, cancel context.CancelFunc, ln net.Listener, drop *DropFolder) error {
	srv := &http.Server{Handler: in.handler, ReadHeaderTimeout: 10 * time.Second}
	var wg sync.WaitGroup
	if err := startPulls(ctx, &wg, in.p, in.o.Out, in.o.Logger); err != nil {
		return err
	}
	errc := in.start(ctx, &wg, srv, ln, drop)
	addr := ln.Addr().String()
	fmt.Fprintf(in.o.Out, "aurum local: http://%s  (drop files into %s/<source>/, Ctrl-C to stop)\n", addr, drop.Drop)
	if in.o.Ready != nil {
		in.o.Ready(addr)
	}
	runErr := firstError(ctx, errc)
	cancel()
	shut, done := context.WithTimeout(context.Background(), 5*time.Second)
	defer done()
	_ = srv.Shutdown(shut)
	wg.Wait()
	// Publish what is left in the outbox and wait for its delivery (an
	// event is acknowledged only then; what shut cuts short stays in the
	// outbox for the next start) before closing the bus and the store.
	if _, err := in.relay.Drain(shut); err != nil && runErr == nil {
		runErr = err
	}
	if err := in.bus.Close(shut); err != nil && runErr == nil {
		runErr = fmt.Errorf("local: close bus: %w", err)
	}
	return runErr
}

// loops is how many goroutines start runs.
const loops = 8

// catalogFlush is how long the catalog statistics of request paths may
// wait before they are written (the dashboard lags by at most that).
const catalogFlush = 250 * time.Millisecond

// catalogLoop writes the request paths' pending catalog statistics every
// catalogFlush, and once more when ctx ends.
func (in *instance) catalogLoop(ctx context.Context) error {
	obs := in.p.Console.APIObserver()
	tick := time.NewTicker(catalogFlush)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			flushCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := obs.FlushPending(flushCtx); err != nil {
				in.o.Logger.Warn("local: catalog flush", "err", err)
			}
			return nil
		case <-tick.C:
			if err := obs.FlushPending(ctx); err != nil && ctx.Err() == nil {
				in.o.Logger.WarnContext(ctx, "local: catalog flush", "err", err)
			}
		}
	}
}

// start runs local mode's loops in goroutines counted by wg; each sends
// its outcome on the returned channel, which has room for all of them.
func (in *instance) start(ctx context.Context, wg *sync.WaitGroup, srv *http.Server, ln net.Listener, drop *DropFolder) <-chan error {
	errc := make(chan error, loops)
	wg.Add(loops)
	go func() { defer wg.Done(); errc <- drop.Run(ctx) }()
	go func() { defer wg.Done(); errc <- in.relay.Run(ctx) }()
	go func() {
		defer wg.Done()
		errc <- in.p.Segments.Scheduler.Run(ctx, segment.RealClock, 30*time.Second, in.wake)
	}()
	go func() { defer wg.Done(); errc <- in.sched.Run(ctx, time.Second, in.triggers.Fire) }()
	go func() { defer wg.Done(); errc <- sweep(ctx, in.st, time.Minute) }()
	go func() { defer wg.Done(); errc <- in.catalogLoop(ctx) }()
	go func() { defer wg.Done(); errc <- resyncLoop(ctx, in.dests, in.o.Logger) }()
	go func() {
		defer wg.Done()
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("local: http: %w", err)
			return
		}
		errc <- nil
	}()
	return errc
}

// firstError waits until ctx is done or a loop fails, and returns the
// failure (nil when ctx ended first). A loop ending without error does
// not stop the others.
func firstError(ctx context.Context, errc <-chan error) error {
	var err error
	for err == nil && ctx.Err() == nil {
		select {
		case <-ctx.Done():
		case err = <-errc:
		}
	}
	return err
}

// samplesMark is the file that says the samples are still to be copied.
func samplesMark(data string) string { return filepath.Join(data, "samples.pending") }

// markSamples durably creates the samples mark.
func markSamples(data string) error {
	f, err := os.Create(samplesMark(data))
	if err == nil {
		err = f.Sync()
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		return fmt.Errorf("local: samples: %w", err)
	}
	return nil
}

// samplesPending reports whether the samples mark is there.
func samplesPending(data string) bool {
	_, err := os.Stat(samplesMark(data))
	return err == nil
}

// copySamples copies <samples>/<source>/* into <drop>/<source>/ for every
// file source, writing each under a temporary name first so the watcher
// never sees half a file.
func copySamples(samples, drop string, sources []string) (int, error) {
	n := 0
	for _, s := range sources {
		src := filepath.Join(samples, s)
		entries, err := os.ReadDir(src)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return n, fmt.Errorf("local: samples: %w", err)
		}
		if err := os.MkdirAll(filepath.Join(drop, s), 0o755); err != nil {
			return n, fmt.Errorf("local: samples: %w", err)
		}
		for _, e := range entries {
			if e.IsDir() {
				continue
			}
			b, err := os.ReadFile(filepath.Join(src, e.Name()))
			if err != nil {
				return n, fmt.Errorf("local: samples: %w", err)
			}
			dst := filepath.Join(drop, s, e.Name())
			if err := os.WriteFile(dst+".tmp", b, 0o644); err != nil {
				return n, fmt.Errorf("local: samples: %w", err)
			}
			if err := os.Rename(dst+".tmp", dst); err != nil {
				return n, fmt.Errorf("local: samples: %w", err)
			}
			n++
		}
	}
	return n, nil
}

// progress prints one line per loaded file and a summary when the drop
// folder falls idle.
type progress struct {
	mu      sync.Mutex
	out     io.Writer
	files   int
	rows    int
	rejects int
	dirty   bool
}

func newProgress(out io.Writer) *progress { return &progress{out: out} }

func (p *progress) update(file.Progress) {}

// done prints the line of one handed-over file from its load report. A
// report that started before the file was handed over is the stored report
// of an earlier load: the loader skipped the file (same ETag).
func (p *progress) done(ctx context.Context, objs *dir.Store, key string, handed time.Time, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.dirty = true
	var rc io.ReadCloser
	if err == nil { // a failed load may have the report of an older one
		rc, _, err = objs.Open(ctx, file.ReportKey(key))
	}
	if err != nil {
		fmt.Fprintf(p.out, "%-40s failed: %v\n", key, err)
		return
	}
	defer rc.Close()
	var r file.Report
	if derr := json.NewDecoder(rc).Decode(&r); derr != nil {
		fmt.Fprintf(p.out, "%-40s report unreadable: %v\n", key, derr)
		return
	}
	if r.Skipped || r.StartedAt.Before(handed) {
		fmt.Fprintf(p.out, "%-40s already loaded (same ETag): skipped\n", key)
		return
	}
	p.files++
	p.rows += r.Rows
	p.rejects += r.Rejected
	line := fmt.Sprintf("%-40s %6d rows  %5d rejected  %4d dropped fields  %5d duplicates  %8.0f rows/s",
		key, r.Rows, r.Rejected, r.FieldsDropped, r.Duplicates, r.RowsPerSecond)
	if r.Error != "" {
		line += "  error: " + r.Error
	}
	if r.Rejected > 0 || r.FieldsDropped > 0 {
		line += "  → " + r.RejectedKey
	}
	fmt.Fprintln(p.out, line)
}

// Stats is what the summary needs from the store.
type Stats interface {
	Stats(ctx context.Context) (embedded.Stats, error)
}

func (p *progress) summary(ctx context.Context, st Stats) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.dirty {
		return
	}
	p.dirty = false
	s, err := st.Stats(ctx)
	if err != nil {
		fmt.Fprintf(p.out, "summary unavailable: %v\n", err)
		return
	}
	fmt.Fprintf(p.out, "summary: %d files, %d rows, %d rejected → %d profiles (%d merged away), %d identifiers, %d records, %d events\n",
		p.files, p.rows, p.rejects, s.Profiles, s.Redirects, s.Identifiers, s.Records, s.Events)
}

// sweep deletes expired store items (idempotency keys, trigger state) every
// interval, as DynamoDB's TTL does in AWS.
func sweep(ctx context.Context, st *embedded.Store, every time.Duration) error {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if _, err := st.Sweep(ctx); err != nil && ctx.Err() == nil {
				return fmt.Errorf("local: sweep expired items: %w", err)
			}
		}
	}
}

// subscribe wires the local subscribers declared in aurum.yaml: what a
// marketing tool's EventBridge rule would receive, posted to a webhook,
// printed, or logged.
func subscribe(b *bus.Bus, cfg *config.Config, out io.Writer, logger *slog.Logger) error {
	for _, s := range cfg.Subscribers {
		pat, err := s.EffectivePattern().Compile()
		if err != nil {
			return fmt.Errorf("local: subscriber %s: %w", s.Name, err)
		}
		var h bus.Handler
		switch {
		case s.Webhook != "":
			h, err = b.WebhookHandler(&http.Client{Timeout: 10 * time.Second}, s.Webhook, 0)
			if err != nil {
				return fmt.Errorf("local: subscriber %s: %w", s.Name, err)
			}
		case s.Print:
			h = b.WriterHandler(out)
		default:
			h = bus.LogHandler(logger)
		}
		if err := b.Subscribe("subscriber:"+s.Name, pat, h); err != nil {
			return fmt.Errorf("local: subscriber %s: %w", s.Name, err)
		}
	}
	return nil
}
