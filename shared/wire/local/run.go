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
	"github.com/aurum-cdp/aurum/shared/core/segment"
	"github.com/aurum-cdp/aurum/shared/http/api"
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
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	cfg, err := config.Load(o.ConfigPath)
	if err != nil {
		return err
	}
	fresh := false
	dbPath := filepath.Join(o.Data, "aurum.db")
	if _, err := os.Stat(dbPath); errors.Is(err, fs.ErrNotExist) {
		fresh = true
	}
	if err := os.MkdirAll(filepath.Join(o.Data, "bucket"), 0o755); err != nil {
		return fmt.Errorf("local: data folder: %w", err)
	}
	st, err := embedded.Open(dbPath, embedded.Options{Timeout: 2 * time.Second})
	if err != nil {
		return fmt.Errorf("local: open store (is another aurum local using %s?): %w", o.Data, err)
	}
	defer st.Close()
	// Commits with outbox events wake the relay (see notify.go).
	sst, committed := newSignalingStore(st)
	objs, err := dir.New(filepath.Join(o.Data, "bucket"))
	if err != nil {
		return fmt.Errorf("local: bucket folder: %w", err)
	}
	defer objs.Close()

	progress := newProgress(o.Out)
	p, err := app.New(app.Parts{
		Config:   cfg,
		Store:    sst,
		Objects:  objs,
		Secrets:  secrets.New(nil, nil, nil),
		Logger:   o.Logger,
		Progress: progress.update,
		Scan: func(ctx context.Context) iter.Seq2[*profile.Profile, error] {
			return segment.ScanProfiles(ctx, st)
		},
	})
	if err != nil {
		return err
	}
	// Time-based segment re-evaluation: the extension reports every due
	// time it writes, waking the scheduler's timer loop.
	wake := make(chan time.Time, 1)
	p.Segments.Extension.OnDue = func(at time.Time) {
		select {
		case wake <- at:
		default:
		}
	}
	s3h, err := p.S3Handler()
	if err != nil {
		return err
	}
	// Local mode serves one developer on loopback: reads need no key from
	// there, and there is no per-key rate limit (API Gateway throttles in
	// AWS, plus the per-instance limit of the api function).
	h, err := web.Handler(p, api.Options{AllowUnauthenticatedReads: true, RatePerSecond: -1})
	if err != nil {
		return err
	}

	// The bus: everything published is logged at debug level; later
	// issues subscribe segments and triggers here, as EventBridge rules do
	// in AWS.
	b := bus.New(o.Logger)
	all, err := pattern.Parse([]byte(`{"source":["aurum"]}`))
	if err != nil {
		return fmt.Errorf("local: %w", err)
	}
	if err := b.Subscribe("log", all, bus.LogHandler(o.Logger)); err != nil {
		return fmt.Errorf("local: %w", err)
	}
	if o.Observe != nil {
		if err := b.Subscribe("observe", nil, o.Observe); err != nil {
			return fmt.Errorf("local: %w", err)
		}
	}
	relay := &Relay{Outbox: st, Publisher: b, Wake: committed, Log: o.Logger}

	// Triggers react to what the bus carries, as EventBridge rules route to
	// functions/triggers in AWS; delayed firings wait in the store.
	eng, sched, _, err := p.LocalTriggers(nil)
	if err != nil {
		return err
	}
	if err := b.Subscribe("triggers", nil, eng.Handle); err != nil {
		return fmt.Errorf("local: %w", err)
	}
	if err := b.Subscribe("dashboard", nil, p.Console.Recorder.Handle); err != nil {
		return fmt.Errorf("local: %w", err)
	}
	if err := subscribe(b, cfg, o.Out, o.Logger); err != nil {
		return err
	}

	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return fmt.Errorf("local: listen on %s: %w", o.Addr, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}

	var sources []string
	for _, s := range cfg.SourcesOfKind(config.KindFile) {
		sources = append(sources, s.Name)
	}
	drop := &DropFolder{
		Drop:    filepath.Join(o.Data, "drop"),
		Bucket:  filepath.Join(o.Data, "bucket"),
		Name:    "local",
		Sources: sources,
		Handler: s3h,
		Poll:    o.Poll,
		Log:     o.Logger,
		Done: func(key string, handed time.Time, err error) {
			progress.done(ctx, objs, key, handed, err)
		},
		Idle: func() {
			progress.summary(ctx, st)
			// The dashboard's cluster sizes, from a background scan.
			if err := p.Console.SnapshotClusters(ctx, p.Scan); err != nil {
				o.Logger.WarnContext(ctx, "local: cluster sizes", "err", err)
			}
		},
	}
	if fresh && o.Samples != "" {
		n, err := copySamples(o.Samples, drop.Drop, sources)
		if err != nil {
			return err
		}
		fmt.Fprintf(o.Out, "first run: dropped %d sample files from %s into %s\n", n, o.Samples, drop.Drop)
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	if err := startPulls(ctx, &wg, p, o.Out, o.Logger); err != nil {
		return err
	}
	errc := make(chan error, 6)
	wg.Add(6)
	go func() { defer wg.Done(); errc <- drop.Run(ctx) }()
	go func() { defer wg.Done(); errc <- relay.Run(ctx) }()
	go func() {
		defer wg.Done()
		errc <- p.Segments.Scheduler.Run(ctx, segment.RealClock, 30*time.Second, wake)
	}()
	go func() { defer wg.Done(); errc <- sched.Run(ctx, time.Second, eng.Fire) }()
	go func() { defer wg.Done(); errc <- sweep(ctx, st, time.Minute) }()
	go func() {
		defer wg.Done()
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("local: http: %w", err)
			return
		}
		errc <- nil
	}()
	addr := ln.Addr().String()
	fmt.Fprintf(o.Out, "aurum local: http://%s  (drop files into %s/<source>/, Ctrl-C to stop)\n", addr, drop.Drop)
	if o.Ready != nil {
		o.Ready(addr)
	}

	var runErr error
	for runErr == nil && ctx.Err() == nil {
		select {
		case <-ctx.Done():
		case runErr = <-errc:
		}
	}
	cancel()
	shut, done := context.WithTimeout(context.Background(), 5*time.Second)
	defer done()
	_ = srv.Shutdown(shut)
	wg.Wait()
	// Publish what is left in the outbox before closing the store.
	if _, err := relay.Drain(shut); err != nil && runErr == nil {
		runErr = err
	}
	if err := b.Close(shut); err != nil && runErr == nil {
		runErr = fmt.Errorf("local: close bus: %w", err)
	}
	return runErr
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
	rc, _, rerr := objs.Open(ctx, file.ReportKey(key))
	if rerr != nil {
		if err == nil {
			err = rerr
		}
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
		pat, err := s.Pattern.Compile()
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
