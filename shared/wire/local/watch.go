package local

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/fsnotify/fsnotify"

	"github.com/aurum-cdp/aurum/shared/source/file"
)

// S3Handler is the Lambda handler of functions/ingest-s3: local mode turns
// every dropped file into the S3 event AWS would send.
type S3Handler interface {
	Handle(ctx context.Context, e events.S3Event) error
}

// DropFolder watches <data>/drop/<source>/ for new files. A file is picked
// up once its size and modification time have stayed the same for one
// poll interval (so half-written files are left alone), handed over to
// the local bucket at sources/<source>/<name> durably (see handOff), and
// loaded by the S3 handler from an ObjectCreated event. Hidden files and
// names ending in .tmp or .part are ignored.
//
// No file is stranded. At start, and every Rescan, the objects under
// sources/<source>/ of the bucket that have no load report (a load cut
// short by a crash or a stop) are loaded again; loads are idempotent, so
// that redoes only what the first load had not committed. A hand-off or a
// load that fails for a reason a retry may cure (the handler's error: the
// store, the disk) is retried with capped exponential backoff until it
// succeeds, logged when the file starts failing and when it recovers.
type DropFolder struct {
	Drop    string // <data>/drop
	Bucket  string // <data>/bucket: the local stand-in for the S3 bucket
	Name    string // bucket name put in the synthesized events
	Sources []string
	Handler S3Handler
	// Done is called after each load with the object's key, the time it
	// was handed over and the handler's error; after a failure only for
	// the first failed attempt (the error then says it is retried).
	Done func(key string, handed time.Time, err error)
	// Idle is called when the folder has no file left to pick up (and no
	// retry waiting) after having handed some over.
	Idle func()
	// Poll is the poll interval; default 300ms.
	Poll time.Duration
	// Rescan is how often the bucket is searched for objects without a
	// load report, besides at start; default 1 minute.
	Rescan time.Duration
	// Backoff is the delay before the first retry of a failed file,
	// doubled after every further failure up to MaxBackoff; defaults 1s
	// and 1 minute.
	Backoff, MaxBackoff time.Duration
	Log                 *slog.Logger
}

type fileState struct {
	size int64
	mod  time.Time
}

func stateOf(info fs.FileInfo) fileState {
	return fileState{size: info.Size(), mod: info.ModTime()}
}

// watchState is what Run remembers between rounds.
type watchState struct {
	// last holds the drop folder's files as last seen, by path.
	last map[string]fileState
	// retries holds the keys whose hand-off or load failed.
	retries map[string]*retrying
	// settled holds the objects whose load ended without a report and
	// without an error (the loader refused them for good), as they were:
	// rescans leave them alone until they change.
	settled map[string]fileState
	// rescanAt is when the bucket is searched next.
	rescanAt time.Time
}

// retrying is a file whose hand-off or load failed.
type retrying struct {
	// path is the drop folder file still to hand over, "" once the object
	// is in the bucket.
	path     string
	failures int
	next     time.Time
}

func newWatchState() *watchState {
	return &watchState{last: map[string]fileState{}, retries: map[string]*retrying{}, settled: map[string]fileState{}}
}

// empty reports whether nothing waits: no file seen, no retry pending.
func (s *watchState) empty() bool { return len(s.last) == 0 && len(s.retries) == 0 }

// Run watches until ctx is done.
func (d *DropFolder) Run(ctx context.Context) error {
	d.defaults()
	w, err := d.watch()
	if err != nil {
		return err
	}
	defer w.Close()
	s := newWatchState()
	tick := time.NewTicker(d.Poll)
	defer tick.Stop()
	busy := false
	for {
		n, err := d.round(ctx, s)
		if err != nil {
			return err
		}
		busy = d.idle(busy, n > 0, s.empty())
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		case <-w.Events:
		case err := <-w.Errors:
			d.Log.Warn("drop folder watcher", "err", err)
		}
	}
}

func (d *DropFolder) defaults() {
	if d.Poll <= 0 {
		d.Poll = 300 * time.Millisecond
	}
	if d.Rescan <= 0 {
		d.Rescan = time.Minute
	}
	if d.Backoff <= 0 {
		d.Backoff = time.Second
	}
	if d.MaxBackoff < d.Backoff {
		d.MaxBackoff = max(time.Minute, d.Backoff)
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
}

// round is one pass: the bucket's objects without a report when a rescan
// is due, then the retries that are due, then the drop folder. It returns
// how many files it handed over.
func (d *DropFolder) round(ctx context.Context, s *watchState) (int, error) {
	n := 0
	if now := time.Now(); !now.Before(s.rescanAt) {
		n += d.recover(ctx, s)
		s.rescanAt = now.Add(d.Rescan)
	}
	n += d.retryDue(ctx, s)
	m, err := d.scan(ctx, s)
	return n + m, err
}

// watch creates the sources' drop folders and watches them.
func (d *DropFolder) watch() (*fsnotify.Watcher, error) {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("local: watch drop folder: %w", err)
	}
	for _, s := range d.Sources {
		dir := filepath.Join(d.Drop, s)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			w.Close()
			return nil, fmt.Errorf("local: create drop folder: %w", err)
		}
		if err := w.Add(dir); err != nil {
			w.Close()
			return nil, fmt.Errorf("local: watch %s: %w", dir, err)
		}
	}
	return w, nil
}

// idle tracks whether the folder is busy after a scan that handed files
// over (handed) or not, with no file left waiting (empty): the first scan
// finding it empty after busy ones calls Idle. It returns the new state.
func (d *DropFolder) idle(busy, handed, empty bool) bool {
	switch {
	case handed:
		return true
	case busy && empty:
		if d.Idle != nil {
			d.Idle()
		}
		return false
	}
	return busy
}

// scan hands over every file that was already seen with the same size and
// modification time, and returns how many it handed over. A file whose key
// has a retry pending becomes that retry's file instead.
func (d *DropFolder) scan(ctx context.Context, s *watchState) (int, error) {
	var ready []string
	current := map[string]bool{}
	for _, src := range d.Sources {
		r, err := walkSource(filepath.Join(d.Drop, src), s.last, current)
		if err != nil {
			return 0, fmt.Errorf("local: scan drop folder: %w", err)
		}
		ready = append(ready, r...)
	}
	for p := range s.last {
		if !current[p] {
			delete(s.last, p)
		}
	}
	sort.Strings(ready)
	n := 0
	for _, path := range ready {
		if ctx.Err() != nil {
			return n, nil
		}
		key, err := d.keyOf(path)
		if err != nil {
			d.Log.Warn("drop folder: file skipped", "path", path, "err", err)
			continue
		}
		delete(s.last, path)
		if r, ok := s.retries[key]; ok {
			r.path = path
			continue
		}
		d.hand(ctx, s, key, path)
		n++
	}
	return n, nil
}

// keyOf returns the bucket key of the drop folder file at path.
func (d *DropFolder) keyOf(path string) (string, error) {
	rel, err := filepath.Rel(d.Drop, path)
	if err != nil {
		return "", err
	}
	return file.SourcesPrefix + filepath.ToSlash(rel), nil
}

// objectPath returns the file of the object at key in the bucket.
func (d *DropFolder) objectPath(key string) string {
	return filepath.Join(d.Bucket, filepath.FromSlash(key))
}

// walkSource records the state of every file under dir in last (marking
// it in current) and returns those whose state had been recorded the same
// before: they are ready. Ignored names (see ignored) are skipped, with
// their folders.
func walkSource(dir string, last map[string]fileState, current map[string]bool) ([]string, error) {
	var ready []string
	err := walkFiles(dir, func(path string, info fs.FileInfo) {
		st := stateOf(info)
		current[path] = true
		if prev, ok := last[path]; ok && prev == st {
			ready = append(ready, path)
		}
		last[path] = st
	})
	return ready, err
}

// walkFiles calls f for every regular file under dir (none if dir is
// missing or not a folder), skipping ignored names and their folders.
func walkFiles(dir string, f func(path string, info fs.FileInfo)) error {
	return filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if ignored(e.Name()) {
			if e.IsDir() && path != dir {
				return filepath.SkipDir
			}
			return nil
		}
		if e.IsDir() || path == dir {
			return nil // folders, and a file in the place of dir
		}
		info, err := e.Info()
		if err != nil || !info.Mode().IsRegular() {
			return nil // vanished meanwhile, or not a file
		}
		f(path, info)
		return nil
	})
}

// ignored reports names the drop folder leaves alone: hidden files and
// files still being written (.tmp, .part).
func ignored(name string) bool {
	return strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".tmp") || strings.HasSuffix(name, ".part")
}

// hand hands the drop folder file at path over to the bucket at key (with
// path "", the object is there already) and loads it; a failure schedules
// a retry. The watcher goes on with the next file either way.
func (d *DropFolder) hand(ctx context.Context, s *watchState, key, path string) {
	handed := time.Now()
	if path != "" {
		if err := handOff(path, d.objectPath(key), d.reportPath(key)); err != nil {
			d.fail(s, key, path, handed, fmt.Errorf("local: hand %s over to the bucket: %w", key, err))
			return
		}
	}
	d.load(ctx, s, key, handed)
}

// load runs the S3 handler on the object at key.
func (d *DropFolder) load(ctx context.Context, s *watchState, key string, handed time.Time) {
	info, err := os.Stat(d.objectPath(key))
	if errors.Is(err, fs.ErrNotExist) {
		delete(s.retries, key) // deleted meanwhile: nothing left to load
		return
	}
	if err == nil {
		err = d.Handler.Handle(ctx, S3Event(d.Name, key, info.Size()))
	}
	if err != nil {
		if ctx.Err() != nil {
			return // stopping: the object has no report, the next start loads it
		}
		d.fail(s, key, "", handed, err)
		return
	}
	d.succeed(s, key, info, handed)
}

// succeed ends a load that the handler did not fail.
func (d *DropFolder) succeed(s *watchState, key string, info fs.FileInfo, handed time.Time) {
	if r, ok := s.retries[key]; ok {
		d.Log.Info("drop folder: recovered", "key", key, "failed_attempts", r.failures)
		delete(s.retries, key)
	}
	if d.reported(key) {
		delete(s.settled, key)
	} else {
		s.settled[key] = stateOf(info)
	}
	if d.Done != nil {
		d.Done(key, handed, nil)
	}
}

// fail schedules the retry of key after a failed hand-off (path is the
// drop folder file) or load (path ""). The first failure of a file is
// logged and reported through Done; the following ones only at debug
// level, until it recovers.
func (d *DropFolder) fail(s *watchState, key, path string, handed time.Time, err error) {
	r, ok := s.retries[key]
	if !ok {
		r = &retrying{}
		s.retries[key] = r
	}
	r.path = path
	r.failures++
	wait := backoff(d.Backoff, d.MaxBackoff, r.failures)
	r.next = time.Now().Add(wait)
	if r.failures > 1 {
		d.Log.Debug("drop folder: still failing", "key", key, "attempts", r.failures, "retry_in", wait, "err", err)
		return
	}
	d.Log.Warn("drop folder: failed, retrying with backoff", "key", key, "retry_in", wait, "err", err)
	if d.Done != nil {
		d.Done(key, handed, fmt.Errorf("%w (retrying)", err))
	}
}

// backoff returns the delay after the given number of failures (from 1):
// first, doubled after each further failure, at most limit.
func backoff(first, limit time.Duration, failures int) time.Duration {
	wait := first
	for i := 1; i < failures && wait < limit; i++ {
		wait *= 2
	}
	return min(wait, limit)
}

// retryDue retries the files whose retry is due, in key order, and
// returns how many. A retry whose drop folder file is gone loads what the
// bucket holds at its key, if anything.
func (d *DropFolder) retryDue(ctx context.Context, s *watchState) int {
	now := time.Now()
	var due []string
	for key, r := range s.retries {
		if !now.Before(r.next) {
			due = append(due, key)
		}
	}
	sort.Strings(due)
	for _, key := range due {
		if ctx.Err() != nil {
			break
		}
		d.hand(ctx, s, key, dropFile(s.retries[key].path))
	}
	return len(due)
}

// dropFile returns path if a file is there, else "".
func dropFile(path string) string {
	if path == "" {
		return ""
	}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return ""
	}
	return path
}

// recover loads, in key order, the objects of the bucket that have no
// load report (see unreported), and returns how many.
func (d *DropFolder) recover(ctx context.Context, s *watchState) int {
	keys, err := d.unreported(s)
	if err != nil {
		d.Log.Warn("drop folder: cannot list the bucket's objects without a load report", "err", err)
	}
	if len(keys) > 0 {
		d.Log.Warn("drop folder: objects in the bucket have no load report, loading them", "count", len(keys))
	}
	for _, key := range keys {
		if ctx.Err() != nil {
			break
		}
		d.hand(ctx, s, key, "")
	}
	return len(keys)
}

// unreported lists the keys of the objects under sources/<source>/ of the
// bucket that have no load report, in order, leaving out those with a
// retry pending and those settled unchanged. It costs one directory walk
// and one stat per object.
func (d *DropFolder) unreported(s *watchState) ([]string, error) {
	var keys []string
	var errs []error
	for _, src := range d.Sources {
		err := walkFiles(filepath.Join(d.Bucket, "sources", src), func(path string, info fs.FileInfo) {
			rel, err := filepath.Rel(d.Bucket, path)
			if err != nil {
				return
			}
			key := filepath.ToSlash(rel)
			if _, ok := s.retries[key]; ok || d.reported(key) {
				return
			}
			if st, ok := s.settled[key]; ok && st == stateOf(info) {
				return
			}
			keys = append(keys, key)
		})
		if err != nil {
			errs = append(errs, err)
		}
	}
	sort.Strings(keys)
	return keys, errors.Join(errs...)
}

// reportPath returns the file of the load report of the object at key.
func (d *DropFolder) reportPath(key string) string {
	return filepath.Join(d.Bucket, filepath.FromSlash(file.ReportKey(key)))
}

// reported reports whether the object at key has a load report.
func (d *DropFolder) reported(key string) bool {
	_, err := os.Stat(d.reportPath(key))
	return err == nil
}

// handOff puts the drop folder file at path into the bucket at dst, as an
// upload to S3 would, durably: the file, then the bucket folder's entry
// are synced before the drop folder's entry goes (a rename, or across
// file systems a copy and a removal), so a crash at any point leaves the
// file in the drop folder, in the bucket, or in both.
//
// A file with the bytes dst already holds is not handed over again: its
// drop copy is removed, and the object keeps its modification time (the
// default observed_at of its records). Replacing an object with other
// bytes first removes its load report (at report), so that if the new
// load does not end, the object has no report and the next start loads
// it.
func handOff(path, dst, report string) error {
	same, err := sameContent(path, dst)
	if err != nil {
		return err
	}
	if same {
		return removeDurably(path)
	}
	if err := removeDurably(report); err != nil {
		return fmt.Errorf("retire the old load report: %w", err)
	}
	if err := mkdirDurable(filepath.Dir(dst)); err != nil {
		return err
	}
	if err := syncFile(path); err != nil {
		return err
	}
	err = os.Rename(path, dst)
	if errors.Is(err, syscall.EXDEV) {
		if err := copyDurably(path, dst); err != nil {
			return err
		}
		return removeDurably(path)
	}
	if err != nil {
		return err
	}
	if err := syncDir(filepath.Dir(dst)); err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}

// sameContent reports whether the files at a and b hold the same bytes;
// a missing b holds none.
func sameContent(a, b string) (bool, error) {
	ib, err := os.Stat(b)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	ia, err := os.Stat(a)
	if err != nil {
		return false, err
	}
	if !ib.Mode().IsRegular() || ia.Size() != ib.Size() {
		return false, nil
	}
	fa, err := os.Open(a)
	if err != nil {
		return false, err
	}
	defer fa.Close()
	fb, err := os.Open(b)
	if err != nil {
		return false, err
	}
	defer fb.Close()
	return sameReaders(fa, fb)
}

// sameReaders compares two readers of the same length to their end.
func sameReaders(a, b io.Reader) (bool, error) {
	ba, bb := make([]byte, 64<<10), make([]byte, 64<<10)
	for {
		na, erra := io.ReadFull(a, ba)
		nb, errb := io.ReadFull(b, bb)
		if !bytes.Equal(ba[:na], bb[:nb]) {
			return false, nil
		}
		doneA := errors.Is(erra, io.EOF) || errors.Is(erra, io.ErrUnexpectedEOF)
		doneB := errors.Is(errb, io.EOF) || errors.Is(errb, io.ErrUnexpectedEOF)
		switch {
		case erra != nil && !doneA:
			return false, erra
		case errb != nil && !doneB:
			return false, errb
		case doneA || doneB:
			return doneA && doneB, nil
		}
	}
}

// copyDurably copies src to dst through a synced temporary file renamed
// into place, keeping src's modification time, and syncs dst's folder.
func copyDurably(src, dst string) (err error) {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	info, err := in.Stat()
	if err != nil {
		return err
	}
	tmp := filepath.Join(filepath.Dir(dst), "."+filepath.Base(dst)+"."+rand.Text()+".tmp")
	out, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			out.Close()
			os.Remove(tmp)
		}
	}()
	if _, err = io.Copy(out, in); err != nil {
		return err
	}
	if err = out.Sync(); err != nil {
		return err
	}
	if err = out.Close(); err != nil {
		return err
	}
	if err = os.Chtimes(tmp, info.ModTime(), info.ModTime()); err != nil {
		return err
	}
	if err = os.Rename(tmp, dst); err != nil {
		return err
	}
	return syncDir(filepath.Dir(dst))
}

// removeDurably removes the file at path, if any, and syncs its folder.
func removeDurably(path string) error {
	err := os.Remove(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}

// mkdirDurable creates dir and its missing parents, syncing the parent
// of each folder it creates.
func mkdirDurable(dir string) error {
	if info, err := os.Stat(dir); err == nil && info.IsDir() {
		return nil
	}
	parent := filepath.Dir(dir)
	if parent != dir {
		if err := mkdirDurable(parent); err != nil {
			return err
		}
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		if info, serr := os.Stat(dir); serr != nil || !info.IsDir() {
			return err // not made by someone else meanwhile
		}
	}
	return syncDir(parent)
}

// syncFile flushes the file at path to stable storage.
func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", path, err)
	}
	return nil
}

// syncDir flushes the entries of the folder at dir to stable storage.
func syncDir(dir string) error { return syncFile(dir) }

// S3Event builds the ObjectCreated:Put event S3 sends for key, with the key
// URL-encoded as S3 does.
func S3Event(bucket, key string, size int64) events.S3Event {
	enc := strings.ReplaceAll(url.QueryEscape(key), "%2F", "/")
	return events.S3Event{Records: []events.S3EventRecord{{
		EventVersion: "2.1",
		EventSource:  "aws:s3",
		AWSRegion:    "local",
		EventTime:    time.Now().UTC(),
		EventName:    "ObjectCreated:Put",
		S3: events.S3Entity{
			SchemaVersion: "1.0",
			Bucket:        events.S3Bucket{Name: bucket, Arn: "arn:aws:s3:::" + bucket},
			Object:        events.S3Object{Key: enc, URLDecodedKey: key, Size: size},
		},
	}}}
}
