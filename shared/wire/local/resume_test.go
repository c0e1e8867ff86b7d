package local_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aurum-cdp/aurum/shared/adapter/dir"
	"github.com/aurum-cdp/aurum/shared/adapter/embedded"
	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/kit/synth"
	"github.com/aurum-cdp/aurum/shared/port/objects"
	"github.com/aurum-cdp/aurum/shared/port/store"
	"github.com/aurum-cdp/aurum/shared/source/file"
	"github.com/aurum-cdp/aurum/shared/wire/app"
	"github.com/aurum-cdp/aurum/shared/wire/local"
)

// inputMod is the modification time of every generated input file: the
// default observed_at of its records, the same in every data folder.
var inputMod = time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)

// inputKeys are the objects of the generated input, in load order.
var inputKeys = []string{"sources/crm/contacts.csv", "sources/shop/orders.jsonl"}

// generateInput returns the generated CRM export and shop orders of
// people people, by key.
func generateInput(t *testing.T, people int) map[string][]byte {
	t.Helper()
	var crm, shop bytes.Buffer
	if _, err := synth.Generate(synth.Writers{CRM: &crm, Shop: &shop}, synth.Options{Seed: 7, People: people}); err != nil {
		t.Fatal(err)
	}
	return map[string][]byte{inputKeys[0]: crm.Bytes(), inputKeys[1]: shop.Bytes()}
}

// writeObjects puts the input into the bucket of the data folder data.
func writeObjects(t *testing.T, data string, input map[string][]byte) {
	t.Helper()
	for key, b := range input {
		path := filepath.Join(data, "bucket", filepath.FromSlash(key))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(path, inputMod, inputMod); err != nil {
			t.Fatal(err)
		}
	}
}

func loadConfig(t *testing.T) *config.Config {
	t.Helper()
	cfg, err := config.Load("../../../aurum.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// openData opens the store and the bucket of the data folder data until
// the test ends.
func openData(t *testing.T, data string) (*embedded.Store, *dir.Store) {
	t.Helper()
	st, err := embedded.OpenData(data)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	objs, err := dir.New(filepath.Join(data, "bucket"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { objs.Close() })
	return st, objs
}

func newPlatform(t *testing.T, cfg *config.Config, st store.Store, objs objects.Store) *app.Platform {
	t.Helper()
	p, err := app.New(app.Parts{Config: cfg, Store: st, Objects: objs, AtomicStats: true}) // as local mode
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// cutStore is the embedded store failing, as a full disk would, once it
// has committed budget change sets: the commit that crosses the budget
// writes the change sets within it, then fails (a crash between two
// commit steps).
type cutStore struct {
	*embedded.Store
	budget int
}

func (s *cutStore) Commit(ctx context.Context, changes ...store.Change) error {
	if len(changes) <= s.budget {
		s.budget -= len(changes)
		return s.Store.Commit(ctx, changes...)
	}
	n := s.budget
	s.budget = 0
	if err := s.Store.Commit(ctx, changes[:n]...); err != nil {
		return err
	}
	return fmt.Errorf("embedded: commit: %w", syscall.ENOSPC)
}

// TestReloadAfterPartialLoad cuts loads short after a number of commits,
// then loads every object without a report again, as local mode does at
// start, and once more: the store ends as one clean load left it.
func TestReloadAfterPartialLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("loads generated files several times")
	}
	ctx := context.Background()
	cfg := loadConfig(t)
	input := generateInput(t, 800)

	cleanData := t.TempDir()
	writeObjects(t, cleanData, input)
	cleanSt, cleanObjs := openData(t, cleanData)
	counting := &cutStore{Store: cleanSt, budget: math.MaxInt}
	clean := newPlatform(t, cfg, counting, cleanObjs)
	var used []int // change sets committed after each key
	for _, k := range inputKeys {
		if _, err := clean.Loader.Load(ctx, k); err != nil {
			t.Fatalf("clean Load(%s): %v", k, err)
		}
		used = append(used, math.MaxInt-counting.budget)
	}
	want := stateOf(t, cfg, cleanSt)

	if used[0] <= file.DefaultBatchSize {
		t.Fatalf("the first file took %d change sets; want more than a batch", used[0])
	}
	for _, tt := range []struct {
		name   string
		budget int
	}{
		{"cut before the first commit", 0},
		{"cut inside the first batch", 123},
		{"cut inside the last batch of the first file", used[0] - 5},
		{"cut in the second file", (used[0] + used[1]) / 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			data := t.TempDir()
			writeObjects(t, data, input)
			st, objs := openData(t, data)
			cut := newPlatform(t, cfg, &cutStore{Store: st, budget: tt.budget}, objs)
			var err error
			for _, k := range inputKeys {
				if _, err = cut.Loader.Load(ctx, k); err != nil {
					break // the first failure ends the run, as a crash would
				}
			}
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("cut run: Load = %v; want ENOSPC", err)
			}
			partial := stateOf(t, cfg, st)
			if partial.Records >= want.Records {
				t.Fatalf("cut run committed %d records; want fewer than the clean run's %d", partial.Records, want.Records)
			}
			resumed := newPlatform(t, cfg, st, objs)
			duplicates := 0
			for round := range 2 {
				for _, k := range inputKeys {
					rep, err := resumed.Loader.Load(ctx, k)
					if err != nil {
						t.Fatalf("reload %d of %s: %v", round+1, k, err)
					}
					if round == 1 && !rep.Skipped {
						t.Errorf("second reload of %s: Skipped false; want the stored report (same ETag)", k)
					}
					if round == 0 {
						duplicates += rep.Duplicates
					}
				}
			}
			compareStates(t, "after the reloads", stateOf(t, cfg, st), want)
			if tt.budget > 0 && duplicates == 0 {
				t.Errorf("reload reported no duplicates; want the rows the cut run had committed counted as such")
			}
		})
	}
}

// fullBucket is the local bucket refusing writes with ENOSPC while full
// is set.
type fullBucket struct {
	*dir.Store
	full     atomic.Bool
	refusals atomic.Int32
}

func (b *fullBucket) Put(ctx context.Context, key string, r io.Reader, contentType string) error {
	if b.full.Load() {
		b.refusals.Add(1)
		return fmt.Errorf("objects/dir: put %s: %w", key, syscall.ENOSPC)
	}
	return b.Store.Put(ctx, key, r, contentType)
}

// lines collects log output; safe for concurrent use.
type lines struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestDropFolderWhileTheBucketIsFull runs the drop folder on the real
// loader over a bucket that refuses writes (no room for the rejected rows
// and the report): the dropped file is handed over, its load retried
// until the bucket has room again, and the store ends as after a clean
// load.
func TestDropFolderWhileTheBucketIsFull(t *testing.T) {
	if testing.Short() {
		t.Skip("loads generated files")
	}
	cfg := loadConfig(t)
	input := generateInput(t, 150)
	const key = "sources/crm/contacts.csv"

	cleanData := t.TempDir()
	writeObjects(t, cleanData, map[string][]byte{key: input[key]})
	cleanSt, cleanObjs := openData(t, cleanData)
	if _, err := newPlatform(t, cfg, cleanSt, cleanObjs).Loader.Load(context.Background(), key); err != nil {
		t.Fatal(err)
	}
	want := stateOf(t, cfg, cleanSt)

	data := t.TempDir()
	st, objs := openData(t, data)
	bucket := &fullBucket{Store: objs}
	bucket.full.Store(true)
	h, err := newPlatform(t, cfg, st, bucket).S3Handler()
	if err != nil {
		t.Fatal(err)
	}
	var logs lines
	var failures, successes atomic.Int32
	d := &local.DropFolder{
		Drop: filepath.Join(data, "drop"), Bucket: filepath.Join(data, "bucket"), Name: "local",
		Sources: []string{"crm"}, Handler: h, Poll: 5 * time.Millisecond,
		Backoff: time.Millisecond, MaxBackoff: 20 * time.Millisecond,
		Log: slog.New(slog.NewTextHandler(&logs, nil)),
		Done: func(_ string, _ time.Time, err error) {
			if err != nil {
				failures.Add(1)
			} else {
				successes.Add(1)
			}
		},
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- d.Run(ctx) }()
	stop := sync.OnceFunc(func() {
		cancel()
		if err := <-errc; err != nil {
			t.Errorf("DropFolder.Run = %v; want nil after cancel", err)
		}
	})
	defer stop()
	drop := filepath.Join(d.Drop, "crm", "contacts.csv")
	if err := os.MkdirAll(filepath.Dir(drop), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(drop+".tmp", input[key], 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(drop+".tmp", inputMod, inputMod); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(drop+".tmp", drop); err != nil {
		t.Fatal(err)
	}
	report := filepath.Join(d.Bucket, filepath.FromSlash(file.ReportKey(key)))
	waitUntil(t, "three refused writes", func() bool { return bucket.refusals.Load() >= 3 })
	if _, err := os.Stat(report); err == nil {
		t.Fatalf("a report exists while the bucket is full")
	}
	if _, err := os.Stat(drop); err == nil {
		t.Errorf("the file is still in the drop folder; want it handed over to the bucket")
	}
	bucket.full.Store(false)
	waitUntil(t, "the report", func() bool { _, err := os.Stat(report); return err == nil })
	stop()
	if f, s := failures.Load(), successes.Load(); f != 1 || s != 1 {
		t.Errorf("Done called with an error %d times and without %d times; want once each", f, s)
	}
	for _, tt := range []struct {
		msg  string
		want int
	}{
		{"level=WARN msg=\"drop folder: failed, retrying with backoff\"", 1},
		{"level=INFO msg=\"drop folder: recovered\"", 1},
	} {
		if got := strings.Count(logs.String(), tt.msg); got != tt.want {
			t.Errorf("log lines %s: %d; want %d; log:\n%s", tt.msg, got, tt.want, logs.String())
		}
	}
	compareStates(t, "after the bucket had room again", stateOf(t, cfg, st), want)
}

// waitUntil polls cond until it holds, failing t after a minute.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}
