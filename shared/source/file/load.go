package file

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/core/mapping"
	"github.com/aurum-cdp/aurum/shared/core/pipeline"
	"github.com/aurum-cdp/aurum/shared/model/fault"
	"github.com/aurum-cdp/aurum/shared/model/profile"
	"github.com/aurum-cdp/aurum/shared/port/objects"
)

// Key prefixes in the bucket.
const (
	// SourcesPrefix is where file drops land: sources/<source>/<name>.
	SourcesPrefix = "sources/"
	// RejectedPrefix holds one JSON Lines file of bad rows per load.
	RejectedPrefix = "rejected/"
	// ReportsPrefix holds one JSON load report per load.
	ReportsPrefix = "reports/"
)

// DefaultBatchSize is how many records the loader hands the pipeline at a
// time unless LoaderOptions.BatchSize says otherwise.
const DefaultBatchSize = 500

// ReportKey returns the key of the load report of the object at key.
func ReportKey(key string) string { return ReportsPrefix + key + ".json" }

// RejectedKey returns the key of the rejected rows of the object at key.
func RejectedKey(key string) string { return RejectedPrefix + key + ".jsonl" }

// SourceOfKey returns the source name of a drop key sources/<source>/...,
// and false for any other key.
func SourceOfKey(key string) (string, bool) {
	rest, ok := strings.CutPrefix(key, SourcesPrefix)
	if !ok {
		return "", false
	}
	name, file, ok := strings.Cut(rest, "/")
	if !ok || name == "" || file == "" || strings.HasSuffix(file, "/") {
		return "", false
	}
	return name, true
}

// Ingester is what the loader feeds: the pipeline.
type Ingester interface {
	Ingest(ctx context.Context, recs []profile.Record) (pipeline.Result, error)
}

// Progress is reported while a file loads.
type Progress struct {
	// Key of the object being loaded.
	Key string
	// Rows read so far, and how many of them were rejected.
	Rows, Rejected int
	// Done is set on the last report of a load.
	Done bool
}

// LoaderOptions tune a Loader. The zero value is ready to use.
type LoaderOptions struct {
	// Clock gives the arrival time of records; default time.Now.
	Clock func() time.Time
	// BatchSize is how many records go to the pipeline at a time; default
	// DefaultBatchSize.
	BatchSize int
	// Logger receives one line per load (counts, keys, line numbers and
	// field names only, never values); default discards.
	Logger *slog.Logger
	// Progress, if set, is called after every batch and at the end of a
	// load, from the loading goroutine.
	Progress func(Progress)
	// MaxRowBytes bounds one row; default DefaultMaxRowBytes.
	MaxRowBytes int
	// Observer, if set, sees every mapped row and is flushed after every
	// batch (the data catalog, package catalog). A failed flush is logged
	// and does not stop the load.
	Observer Observer
}

// Observer sees the rows of a load as read, with the record and field
// errors their mapping gave; *catalog.Observer implements it. Observe
// must not keep row or rec.
type Observer interface {
	Observe(source string, row map[string]any, rec profile.Record, errs []mapping.FieldError)
	Flush(ctx context.Context) error
}

// Report is the load report of one object, stored at ReportKey(key).
//
// Rows = Accepted + Rejected. Accepted rows were mapped and handed to the
// pipeline; Duplicates counts those the pipeline had already committed
// (a re-delivered record). Rejected rows could not be read or failed a
// fatal field check; both they and the accepted rows that lost a value
// (FieldsDropped counts the values) are listed in the rejected file, which
// is written on every load (empty when nothing was rejected) so that it
// never describes an older version of the object.
type Report struct {
	Source          string    `json:"source"`
	Key             string    `json:"key"`
	ETag            string    `json:"etag"`
	Size            int64     `json:"size"`
	Format          string    `json:"format"`
	Rows            int       `json:"rows"`
	Accepted        int       `json:"accepted"`
	Rejected        int       `json:"rejected"`
	FieldsDropped   int       `json:"fields_dropped"`
	Duplicates      int       `json:"duplicates"`
	ProfilesCreated int       `json:"profiles_created"`
	Merges          int       `json:"merges"`
	StartedAt       time.Time `json:"started_at"`
	FinishedAt      time.Time `json:"finished_at"`
	DurationMS      int64     `json:"duration_ms"`
	RowsPerSecond   float64   `json:"rows_per_second"`
	RejectedKey     string    `json:"rejected_key"`
	// Error says why the file could not be read to its end (a bad header,
	// a corrupt gzip stream); the rows before it were loaded.
	Error string `json:"error,omitempty"`
	// Skipped is set on the stored report Load returns when the object was
	// already loaded with the same ETag.
	Skipped bool `json:"skipped,omitempty"`
}

// Loader loads dropped files: it streams an object, maps each row with its
// source's mapping, feeds the pipeline in batches, and writes the rejected
// rows and a load report next to it. Memory stays flat whatever the file
// size. It is safe for concurrent use.
type Loader struct {
	sources []config.Source
	store   objects.Store
	pipe    Ingester
	mappers map[string]*mapping.Mapper
	opts    LoaderOptions
}

// NewLoader builds the mappers of every file source among sources (the
// configuration's); idents are the configuration's identifier types. The
// loader keeps sources to find the source of each key.
func NewLoader(sources []config.Source, idents []config.IdentifierType, store objects.Store, pipe Ingester, opts LoaderOptions) (*Loader, error) {
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = DefaultBatchSize
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	l := &Loader{sources: sources, store: store, pipe: pipe, mappers: make(map[string]*mapping.Mapper), opts: opts}
	for i := range sources {
		src := &sources[i]
		if src.Kind != config.KindFile {
			continue
		}
		m, err := mapping.New(src, idents)
		if err != nil {
			return nil, fmt.Errorf("ingest: source %s: %w", src.Name, err)
		}
		l.mappers[src.Name] = m
	}
	return l, nil
}

// Load loads the object at key, which must be sources/<source>/... for a
// file source. Loading an object whose report already carries its ETag
// changes nothing and returns the stored report with Skipped set.
//
// Errors: a key or source that cannot be loaded, or a file that cannot be
// read to its end, is fault.ErrInvalid (the report is still written when
// the object was found); a missing object is fault.ErrNotFound; any other
// error (storage, pipeline, ctx) leaves no report, so a retry loads again.
func (l *Loader) Load(ctx context.Context, key string) (Report, error) {
	name, ok := SourceOfKey(key)
	if !ok {
		return Report{Key: key}, fault.Invalidf("ingest: key %s: want %s<source>/<file>", key, SourcesPrefix)
	}
	src := l.source(name)
	if src == nil {
		return Report{Key: key}, fault.Invalidf("ingest: key %s: no source %s in the configuration", key, name)
	}
	if src.Kind != config.KindFile {
		return Report{Key: key}, fault.Invalidf("ingest: key %s: source %s is of kind %s, not file", key, name, src.Kind)
	}
	format, err := FormatOf(src, key)
	if err != nil {
		return Report{Key: key, Source: name}, err
	}

	body, info, err := l.store.Open(ctx, key)
	if err != nil {
		return Report{Key: key, Source: name}, fmt.Errorf("ingest: %w", err)
	}
	defer body.Close()

	prev, found, err := l.storedReport(ctx, key)
	if err != nil {
		return Report{Key: key, Source: name}, err
	}
	if found && prev.ETag == info.ETag {
		prev.Skipped = true
		l.opts.Logger.InfoContext(ctx, "ingest: already loaded", "key", key, "source", name, "etag", info.ETag)
		return prev, nil
	}

	run := &load{
		Loader: l,
		src:    src,
		mapper: l.mappers[name],
		info:   info,
		rep: Report{
			Source:      name,
			Key:         key,
			ETag:        info.ETag,
			Size:        info.Size,
			Format:      format,
			StartedAt:   l.opts.Clock().UTC(),
			RejectedKey: RejectedKey(key),
		},
	}
	return run.run(ctx, body)
}

// source returns the source named name, or nil.
func (l *Loader) source(name string) *config.Source {
	for i := range l.sources {
		if l.sources[i].Name == name {
			return &l.sources[i]
		}
	}
	return nil
}

// storedReport reads the report of an earlier load of key, if any.
func (l *Loader) storedReport(ctx context.Context, key string) (Report, bool, error) {
	r, _, err := l.store.Open(ctx, ReportKey(key))
	if errors.Is(err, fault.ErrNotFound) {
		return Report{}, false, nil
	}
	if err != nil {
		return Report{}, false, fmt.Errorf("ingest: read report: %w", err)
	}
	defer r.Close()
	var rep Report
	if err := json.NewDecoder(io.LimitReader(r, 1<<20)).Decode(&rep); err != nil {
		l.opts.Logger.WarnContext(ctx, "ingest: unreadable report, loading again", "key", ReportKey(key))
		return Report{}, false, nil
	}
	return rep, true, nil
}

// load is one run of Load.
type load struct {
	*Loader
	src    *config.Source
	mapper *mapping.Mapper
	info   objects.Info
	rep    Report
}

// storageError marks errors of the object body, as opposed to what the
// readers find wrong with its content.
type storageError struct{ err error }

func (e *storageError) Error() string { return e.err.Error() }
func (e *storageError) Unwrap() error { return e.err }

// storageReader tags the errors of r as storage errors.
type storageReader struct{ r io.Reader }

func (s storageReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err != nil && err != io.EOF {
		err = &storageError{err}
	}
	return n, err
}

func (ld *load) run(ctx context.Context, body io.Reader) (Report, error) {
	key := ld.rep.Key
	rej := startRejects(ctx, ld.store, ld.rep.RejectedKey)

	dataErr, err := ld.rows(ctx, body, rej)
	if err != nil {
		rej.abort(err)
		return ld.rep, err
	}
	if err := rej.close(); err != nil {
		return ld.rep, fmt.Errorf("ingest: write rejected rows: %w", err)
	}

	finished := ld.opts.Clock().UTC()
	ld.rep.FinishedAt = finished
	d := finished.Sub(ld.rep.StartedAt)
	ld.rep.DurationMS = d.Milliseconds()
	if d > 0 {
		ld.rep.RowsPerSecond = math.Round(float64(ld.rep.Rows)/d.Seconds()*10) / 10
	}
	if dataErr != nil {
		ld.rep.Error = dataErr.Error()
	}
	if err := ld.writeReport(ctx); err != nil {
		return ld.rep, err
	}
	ld.progress(true)

	log := ld.opts.Logger.With("key", key, "source", ld.rep.Source, "rows", ld.rep.Rows,
		"accepted", ld.rep.Accepted, "rejected", ld.rep.Rejected, "fields_dropped", ld.rep.FieldsDropped,
		"duplicates", ld.rep.Duplicates, "duration_ms", ld.rep.DurationMS)
	if dataErr != nil {
		log.WarnContext(ctx, "ingest: file stopped early", "err", dataErr)
		return ld.rep, fmt.Errorf("ingest: %s: %w", key, dataErr)
	}
	log.InfoContext(ctx, "ingest: loaded")
	return ld.rep, nil
}

// rows reads, maps and ingests every row. A problem with the file's
// content is returned as dataErr (fault.ErrInvalid), after the rows before
// it were loaded; anything else as err.
func (ld *load) rows(ctx context.Context, body io.Reader, rej *rejects) (dataErr, err error) {
	rows, err := NewRows(storageReader{body}, ReadOptions{Format: ld.rep.Format, CSV: ld.src.CSV, MaxRowBytes: ld.opts.MaxRowBytes})
	if err != nil {
		return ld.classify(err)
	}
	// The object's time, not the clock: loading the same object again
	// must give the same records.
	received := ld.info.LastModified
	if received.IsZero() {
		received = ld.rep.StartedAt
	}
	batch := make([]profile.Record, 0, ld.opts.BatchSize)
	for rows.Next() {
		ld.rep.Rows++
		if ld.rep.Rows%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		line := rows.Line()
		if bad := rows.Bad(); bad != nil {
			if ld.opts.Observer != nil {
				// Counted as a rejected row; Bad names no value.
				ld.opts.Observer.Observe(ld.src.Name, nil, profile.Record{}, []mapping.FieldError{{Reason: bad.Error(), Fatal: true}})
			}
			ld.rep.Rejected++
			if err := rej.add(badEntry(line, bad, rows.Raw())); err != nil {
				return nil, err
			}
			continue
		}
		rec, ferrs := ld.mapper.Map(rows.Row())
		// Completed first: the observer remembers the record key (for
		// erasure), and rejected rows are simply not committed.
		ld.complete(&rec, line, received)
		if ld.opts.Observer != nil {
			ld.opts.Observer.Observe(ld.src.Name, rows.Row(), rec, ferrs)
		}
		if len(ferrs) > 0 {
			entry := rejectEntry{Line: line, Accepted: !mapping.HasFatal(ferrs), Row: rows.Raw(), Errors: make([]rejectReason, len(ferrs))}
			for i, fe := range ferrs {
				entry.Errors[i] = rejectReason{Field: fe.Field, Reason: fe.Reason, Fatal: fe.Fatal}
			}
			if entry.Accepted {
				ld.rep.FieldsDropped += len(ferrs)
			} else {
				ld.rep.Rejected++
			}
			if err := rej.add(entry); err != nil {
				return nil, err
			}
			if !entry.Accepted {
				continue
			}
		}
		ld.rep.Accepted++
		batch = append(batch, rec)
		if len(batch) == ld.opts.BatchSize {
			if err := ld.ingest(ctx, batch); err != nil {
				return nil, err
			}
			batch = make([]profile.Record, 0, ld.opts.BatchSize)
			ld.progress(false)
		}
	}
	if err := ld.ingest(ctx, batch); err != nil {
		return nil, err
	}
	ld.flush(ctx)
	if err := rows.Err(); err != nil {
		return ld.classify(err)
	}
	return nil, nil
}

// classify splits reading errors into content problems and the rest.
func (ld *load) classify(err error) (dataErr, other error) {
	var se *storageError
	switch {
	case errors.As(err, &se):
		return nil, fmt.Errorf("ingest: read %s: %w", ld.rep.Key, se.err)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return nil, err
	case errors.Is(err, fault.ErrInvalid):
		return err, nil
	default: // gzip and UTF-16 decoding errors
		return fmt.Errorf("%w: %w", fault.ErrInvalid, err), nil
	}
}

// complete fills what the mapping leaves to the loader. A row without an
// observed time keeps none: the pipeline then takes the receive time, the
// object's LastModified, for survivorship, after the content key was
// taken (pipeline.ContentKey hashes ObservedAt). So the same bytes under
// another name or time are the same content, and duplicates.
func (ld *load) complete(rec *profile.Record, line int, received time.Time) {
	ln := strconv.Itoa(line)
	if rec.Source == "" {
		rec.Source = ld.src.Name
	}
	if rec.ID == "" {
		rec.ID = ld.rep.Key + "#" + ln
	}
	rec.Location = ld.rep.Key + ":" + ln
	rec.ReceivedAt = received
	mapping.FillEventDefaults(rec)
	for i := range rec.Events {
		ev := &rec.Events[i]
		if ev.Source == "" {
			ev.Source = rec.Source
		}
		if ev.Timestamp.IsZero() {
			ev.Timestamp = received
		}
	}
}

func (ld *load) ingest(ctx context.Context, batch []profile.Record) error {
	if len(batch) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	res, err := ld.pipe.Ingest(ctx, batch)
	if err != nil {
		return fmt.Errorf("ingest: %s: pipeline: %w", ld.rep.Key, err)
	}
	// Sum the counts only: Result.ProfileIDs would grow with the file.
	ld.rep.Duplicates += res.Duplicates
	ld.rep.ProfilesCreated += res.Created
	ld.rep.Merges += res.Merges
	ld.flush(ctx)
	return nil
}

// flush hands the observer's statistics to the store; a failure costs
// statistics only, so it is logged and the load goes on.
func (ld *load) flush(ctx context.Context) {
	if ld.opts.Observer == nil {
		return
	}
	if err := ld.opts.Observer.Flush(ctx); err != nil {
		ld.opts.Logger.WarnContext(ctx, "ingest: observer flush failed", "key", ld.rep.Key, "err", err)
	}
}

func (ld *load) progress(done bool) {
	if ld.opts.Progress != nil {
		ld.opts.Progress(Progress{Key: ld.rep.Key, Rows: ld.rep.Rows, Rejected: ld.rep.Rejected, Done: done})
	}
}

func (ld *load) writeReport(ctx context.Context) error {
	b, err := json.MarshalIndent(ld.rep, "", "  ")
	if err != nil {
		return fmt.Errorf("ingest: encode report: %w", err)
	}
	if err := ld.store.Put(ctx, ReportKey(ld.rep.Key), bytes.NewReader(append(b, '\n')), "application/json"); err != nil {
		return fmt.Errorf("ingest: write report: %w", err)
	}
	return nil
}

// rejectEntry is one line of the rejected file.
type rejectEntry struct {
	Line int `json:"line"`
	// Accepted rows were loaded without the values named in Errors.
	Accepted bool           `json:"accepted,omitempty"`
	Errors   []rejectReason `json:"errors"`
	// Row is the row as read (see Rows.Raw).
	Row any `json:"row"`
	// RowBase64 holds the exact bytes of a bad row whose text is not valid
	// UTF-8 (Row then has U+FFFD in place of the invalid bytes).
	RowBase64 []byte `json:"row_base64,omitempty"`
}

// badEntry is the entry of a row that could not be read.
func badEntry(line int, bad error, raw any) rejectEntry {
	e := rejectEntry{Line: line, Errors: []rejectReason{{Reason: bad.Error()}}, Row: raw}
	if s, ok := raw.(string); ok && !utf8.ValidString(s) {
		e.RowBase64 = []byte(s)
	}
	return e
}

type rejectReason struct {
	// Field is empty when the row as a whole could not be read.
	Field  string `json:"field,omitempty"`
	Reason string `json:"reason"`
	Fatal  bool   `json:"fatal,omitempty"`
}

// rejects streams the rejected file to the store while rows are read, so
// it never sits in memory whole.
type rejects struct {
	pw   *io.PipeWriter
	bw   *bufio.Writer
	enc  *json.Encoder
	done chan error
}

func startRejects(ctx context.Context, store objects.Store, key string) *rejects {
	pr, pw := io.Pipe()
	bw := bufio.NewWriterSize(pw, 64<<10)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	r := &rejects{pw: pw, bw: bw, enc: enc, done: make(chan error, 1)}
	go func() {
		err := store.Put(ctx, key, pr, "application/x-ndjson")
		// Unblock the writer if Put stopped reading early.
		if err != nil {
			pr.CloseWithError(err)
		} else {
			pr.CloseWithError(errors.New("ingest: rejected file already written"))
		}
		r.done <- err
	}()
	return r
}

func (r *rejects) add(e rejectEntry) error {
	if err := r.enc.Encode(e); err != nil {
		return fmt.Errorf("ingest: write rejected rows: %w", err)
	}
	return nil
}

// close completes the rejected file and waits for it to be stored.
func (r *rejects) close() error {
	if err := r.bw.Flush(); err != nil {
		r.pw.CloseWithError(err)
		return <-r.done
	}
	r.pw.Close()
	return <-r.done
}

// abort makes the store drop the rejected file.
func (r *rejects) abort(err error) {
	r.pw.CloseWithError(err)
	<-r.done
}
