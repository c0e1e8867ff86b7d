package local

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/aurum-cdp/aurum/shared/source/file"
)

// fakeHandler stands in for the S3 handler: it records the keys it is
// called with, fails as fail says (n counts the calls for the key, from
// 1), and otherwise writes a load report into the bucket, as the loader
// does, unless noReport is set.
type fakeHandler struct {
	bucket   string
	fail     func(key string, n int) error
	noReport bool

	mu    sync.Mutex
	calls []string
}

func (h *fakeHandler) Handle(_ context.Context, e events.S3Event) error {
	key := e.Records[0].S3.Object.URLDecodedKey
	h.mu.Lock()
	h.calls = append(h.calls, key)
	n := 0
	for _, k := range h.calls {
		if k == key {
			n++
		}
	}
	h.mu.Unlock()
	if h.fail != nil {
		if err := h.fail(key, n); err != nil {
			return err
		}
	}
	if h.noReport {
		return nil
	}
	path := filepath.Join(h.bucket, filepath.FromSlash(file.ReportKey(key)))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, []byte("{}\n"), 0o644)
}

// called returns the keys handled so far, in order.
func (h *fakeHandler) called() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.calls)
}

// count returns how many times key was handled.
func (h *fakeHandler) count(key string) int {
	n := 0
	for _, k := range h.called() {
		if k == key {
			n++
		}
	}
	return n
}

// logRecorder keeps the messages logged at every level.
type logRecorder struct {
	mu   sync.Mutex
	msgs []string
}

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	line := r.Level.String() + " " + r.Message
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "key" {
			line += " key=" + a.Value.String()
		}
		return true
	})
	l.msgs = append(l.msgs, line)
	return nil
}
func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logRecorder) WithGroup(string) slog.Handler      { return l }

// count returns how many logged lines contain s.
func (l *logRecorder) count(s string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, m := range l.msgs {
		if strings.Contains(m, s) {
			n++
		}
	}
	return n
}

func (l *logRecorder) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.msgs, "\n")
}

// doneCall is one call of DropFolder.Done.
type doneCall struct {
	key string
	err error
}

// watcher is a DropFolder running in a temporary data folder.
type watcher struct {
	d    *DropFolder
	h    *fakeHandler
	log  *logRecorder
	mu   sync.Mutex
	done []doneCall
	stop func()
}

// newWatcher returns a DropFolder over a temporary data folder with the
// crm and shop sources, fast polls and backoff; start runs it.
func newWatcher(t *testing.T) *watcher {
	t.Helper()
	data := t.TempDir()
	w := &watcher{log: &logRecorder{}}
	w.h = &fakeHandler{bucket: filepath.Join(data, "bucket")}
	w.d = &DropFolder{
		Drop: filepath.Join(data, "drop"), Bucket: filepath.Join(data, "bucket"), Name: "local",
		Sources: []string{"crm", "shop"}, Handler: w.h,
		Poll: 2 * time.Millisecond, Backoff: time.Millisecond, MaxBackoff: 4 * time.Millisecond,
		Log: slog.New(w.log),
		Done: func(key string, _ time.Time, err error) {
			w.mu.Lock()
			defer w.mu.Unlock()
			w.done = append(w.done, doneCall{key, err})
		},
	}
	return w
}

func (w *watcher) start(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- w.d.Run(ctx) }()
	stopped := false
	w.stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-errc; err != nil {
			t.Errorf("DropFolder.Run = %v; want nil after cancel", err)
		}
	}
	t.Cleanup(w.stop)
}

func (w *watcher) doneCalls() []doneCall {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.done)
}

// waitFor polls cond until it holds, failing t after a minute.
func (w *watcher) waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; handled %v; log:\n%s", what, w.h.called(), w.log)
		}
		time.Sleep(time.Millisecond)
	}
}

// put writes a file under root (the drop folder or the bucket) at the
// slash-separated rel.
func put(t *testing.T, root, rel, body string) string {
	t.Helper()
	path := filepath.Join(root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// drop drops a file into the drop folder at the slash-separated rel,
// written under a temporary name first, as a copy tool would.
func (w *watcher) drop(t *testing.T, rel, body string) string {
	t.Helper()
	tmp := put(t, w.d.Drop, rel+".part", body)
	path := strings.TrimSuffix(tmp, ".part")
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
	return path
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// TestDropFolderLoadsObjectsWithoutReport starts the watcher on a bucket
// left by a crash: the objects of configured sources without a load
// report are loaded, those with one, of other sources, or hidden are not.
func TestDropFolderLoadsObjectsWithoutReport(t *testing.T) {
	w := newWatcher(t)
	b := w.d.Bucket
	put(t, b, "sources/crm/cut-short.csv", "a\n")
	put(t, b, "sources/shop/2024/cut-short.jsonl", "{}\n")
	put(t, b, "sources/crm/loaded.csv", "a\n")
	put(t, b, file.ReportKey("sources/crm/loaded.csv"), "{}\n")
	put(t, b, "sources/unknown/x.csv", "a\n")
	put(t, b, "sources/crm/.contacts.csv.123.tmp", "a\n")
	w.d.Rescan = time.Millisecond
	w.start(t)
	want := []string{"sources/crm/cut-short.csv", "sources/shop/2024/cut-short.jsonl"}
	w.waitFor(t, "the objects without report", func() bool { return len(w.h.called()) >= len(want) })
	// An object appearing later is found by a later rescan; the reported
	// ones are left alone.
	put(t, b, "sources/crm/later.csv", "a\n")
	want = append(want, "sources/crm/later.csv")
	w.waitFor(t, "the later object", func() bool { return len(w.h.called()) >= len(want) })
	w.stop()
	if got := w.h.called(); !slices.Equal(got, want) {
		t.Errorf("handled %v; want %v (in key order, each once)", got, want)
	}
	for _, k := range want {
		if !exists(w.d.reportPath(k)) {
			t.Errorf("%s has no report after recovery", k)
		}
	}
}

// TestDropFolderSettledObjects checks that an object whose load ended
// without a report and without an error (the loader refused it for
// good) is not loaded again by every rescan.
func TestDropFolderSettledObjects(t *testing.T) {
	w := newWatcher(t)
	w.h.noReport = true
	w.d.Rescan = time.Millisecond
	put(t, w.d.Bucket, "sources/crm/refused.bin", "x")
	w.start(t)
	w.waitFor(t, "the refused object", func() bool { return w.h.count("sources/crm/refused.bin") > 0 })
	// A later object is found by a later rescan, which leaves the refused
	// one alone.
	put(t, w.d.Bucket, "sources/crm/later.bin", "x")
	w.waitFor(t, "the later object", func() bool { return w.h.count("sources/crm/later.bin") > 0 })
	put(t, w.d.Bucket, "sources/crm/last.bin", "x")
	w.waitFor(t, "the last object", func() bool { return w.h.count("sources/crm/last.bin") > 0 })
	w.stop()
	if n := w.h.count("sources/crm/refused.bin"); n != 1 {
		t.Errorf("refused object handled %d times; want 1", n)
	}
}

// TestDropFolderRetriesFailedLoads fails the first loads of a file as a
// full disk would: it is retried until it loads, logged once when it
// starts failing and once when it recovers, and reported through Done
// on its first failure and its success.
func TestDropFolderRetriesFailedLoads(t *testing.T) {
	w := newWatcher(t)
	const key = "sources/crm/contacts.csv"
	enospc := fmt.Errorf("write report: %w", syscall.ENOSPC)
	w.h.fail = func(k string, n int) error {
		if k == key && n <= 4 {
			return enospc
		}
		return nil
	}
	w.start(t)
	drop := w.drop(t, "crm/contacts.csv", "a\n")
	w.drop(t, "shop/orders.jsonl", "{}\n")
	w.waitFor(t, "the report", func() bool { return exists(w.d.reportPath(key)) })
	w.waitFor(t, "the other file's report", func() bool { return exists(w.d.reportPath("sources/shop/orders.jsonl")) })
	w.stop()
	if n := w.h.count(key); n != 5 {
		t.Errorf("%s handled %d times; want 5 (4 failures, then success)", key, n)
	}
	if exists(drop) || !exists(w.d.objectPath(key)) {
		t.Errorf("drop file there %v, object there %v; want the file in the bucket only", exists(drop), exists(w.d.objectPath(key)))
	}
	for _, tt := range []struct {
		msg  string
		want int
	}{
		{"WARN drop folder: failed, retrying with backoff key=" + key, 1},
		{"DEBUG drop folder: still failing key=" + key, 3},
		{"INFO drop folder: recovered key=" + key, 1},
		{"key=sources/shop/orders.jsonl", 0},
	} {
		if got := w.log.count(tt.msg); got != tt.want {
			t.Errorf("log lines %q: %d; want %d; log:\n%s", tt.msg, got, tt.want, w.log)
		}
	}
	var calls []string
	for _, c := range w.doneCalls() {
		if c.key == key {
			calls = append(calls, fmt.Sprint(errors.Is(c.err, syscall.ENOSPC)))
		}
	}
	if got := strings.Join(calls, " "); got != "true false" {
		t.Errorf("Done(%s) errors are ENOSPC: %s; want true (first failure) then false (success)", key, got)
	}
}

// TestDropFolderRetriesFailedHandOff makes the hand-off fail (the bucket
// folder of the source is a file, as root ignores permissions): the
// dropped file stays in the drop folder and is handed over once the
// fault is gone.
func TestDropFolderRetriesFailedHandOff(t *testing.T) {
	w := newWatcher(t)
	const key = "sources/crm/contacts.csv"
	blocker := put(t, w.d.Bucket, "sources/crm", "not a folder")
	w.start(t)
	drop := w.drop(t, "crm/contacts.csv", "a\n")
	w.waitFor(t, "retries", func() bool { return w.log.count("still failing key="+key) >= 3 })
	if !exists(drop) || len(w.h.called()) != 0 {
		t.Fatalf("while the hand-off fails: drop file there %v, handled %v; want the file left in the drop folder, not loaded", exists(drop), w.h.called())
	}
	if err := os.Remove(blocker); err != nil {
		t.Fatal(err)
	}
	w.waitFor(t, "the report", func() bool { return exists(w.d.reportPath(key)) })
	w.stop()
	if exists(drop) || !exists(w.d.objectPath(key)) || w.h.count(key) != 1 {
		t.Errorf("drop file there %v, object there %v, handled %d times; want the object handed over and loaded once",
			exists(drop), exists(w.d.objectPath(key)), w.h.count(key))
	}
	if n := w.log.count("failed, retrying with backoff key=" + key); n != 1 {
		t.Errorf("failure logged %d times at warn level; want 1", n)
	}
}

// TestDropFolderReDrop drops files whose key is in the bucket already:
// the same bytes are not handed over again (the drop copy goes, the
// object keeps its time and its report); other bytes replace the object
// and its report.
func TestDropFolderReDrop(t *testing.T) {
	w := newWatcher(t)
	const same, other = "sources/crm/same.csv", "sources/crm/other.csv"
	old := time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)
	for _, k := range []string{same, other} {
		path := put(t, w.d.Bucket, k, "a\n")
		if err := os.Chtimes(path, old, old); err != nil {
			t.Fatal(err)
		}
		put(t, w.d.Bucket, file.ReportKey(k), `{"old":true}`)
	}
	w.h.noReport = true // a report left is the old one
	w.start(t)
	w.drop(t, "crm/same.csv", "a\n")
	w.drop(t, "crm/other.csv", "b\n")
	w.waitFor(t, "both files", func() bool { return len(w.h.called()) == 2 })
	w.stop()
	if exists(filepath.Join(w.d.Drop, "crm", "same.csv")) || exists(filepath.Join(w.d.Drop, "crm", "other.csv")) {
		t.Errorf("drop copies left in the drop folder")
	}
	info, err := os.Stat(w.d.objectPath(same))
	if err != nil || !info.ModTime().Equal(old) {
		t.Errorf("object %s modified %v (%v); want it untouched, modified %v", same, info.ModTime(), err, old)
	}
	if !exists(w.d.reportPath(same)) {
		t.Errorf("report of %s removed; want it kept (same bytes)", same)
	}
	if b, _ := os.ReadFile(w.d.objectPath(other)); string(b) != "b\n" {
		t.Errorf("object %s = %q; want the new bytes", other, b)
	}
	if exists(w.d.reportPath(other)) {
		t.Errorf("old report of %s kept; want it retired with the object it described", other)
	}
}
