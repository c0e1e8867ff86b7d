package local

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/fsnotify/fsnotify"
)

// S3Handler is the Lambda handler of functions/ingest-s3: local mode turns
// every dropped file into the S3 event AWS would send.
type S3Handler interface {
	Handle(ctx context.Context, e events.S3Event) error
}

// DropFolder watches <data>/drop/<source>/ for new files. A file is picked
// up once its size and modification time have stayed the same for one
// poll interval (so half-written files are left alone), moved into the
// local bucket at sources/<source>/<name>, and handed to the S3 handler as
// an ObjectCreated event. Hidden files and names ending in .tmp or .part
// are ignored.
type DropFolder struct {
	Drop    string // <data>/drop
	Bucket  string // <data>/bucket: the local stand-in for the S3 bucket
	Name    string // bucket name put in the synthesized events
	Sources []string
	Handler S3Handler
	// Done is called after each file with its bucket key, the time it was
	// handed over and the handler's error.
	Done func(key string, handed time.Time, err error)
	// Idle is called when the folder has no file left to pick up after
	// having handed some over.
	Idle func()
	// Poll is the poll interval; default 300ms.
	Poll time.Duration
	Log  *slog.Logger
}

type fileState struct {
	size int64
	mod  time.Time
}

// Run watches until ctx is done.
func (d *DropFolder) Run(ctx context.Context) error {
	if d.Poll <= 0 {
		d.Poll = 300 * time.Millisecond
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	w, err := d.watch()
	if err != nil {
		return err
	}
	defer w.Close()
	last := map[string]fileState{}
	tick := time.NewTicker(d.Poll)
	defer tick.Stop()
	busy := false
	for {
		n, err := d.scan(ctx, last)
		if err != nil {
			return err
		}
		busy = d.idle(busy, n > 0, len(last) == 0)
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
// modification time, and returns how many it handed over.
func (d *DropFolder) scan(ctx context.Context, last map[string]fileState) (int, error) {
	var ready []string
	current := map[string]bool{}
	for _, s := range d.Sources {
		r, err := walkSource(filepath.Join(d.Drop, s), last, current)
		if err != nil {
			return 0, fmt.Errorf("local: scan drop folder: %w", err)
		}
		ready = append(ready, r...)
	}
	for p := range last {
		if !current[p] {
			delete(last, p)
		}
	}
	sort.Strings(ready)
	for _, path := range ready {
		delete(last, path)
		if ctx.Err() != nil {
			return 0, nil
		}
		d.hand(ctx, path)
	}
	return len(ready), nil
}

// walkSource records the state of every file under dir in last (marking
// it in current) and returns those whose state had been recorded the same
// before: they are ready. Ignored names (see ignored) are skipped, with
// their folders.
func walkSource(dir string, last map[string]fileState, current map[string]bool) ([]string, error) {
	var ready []string
	err := filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
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
		if e.IsDir() {
			return nil
		}
		info, err := e.Info()
		if err != nil {
			return nil // vanished meanwhile
		}
		st := fileState{size: info.Size(), mod: info.ModTime()}
		current[path] = true
		if prev, ok := last[path]; ok && prev == st {
			ready = append(ready, path)
		}
		last[path] = st
		return nil
	})
	return ready, err
}

// ignored reports names the drop folder leaves alone: hidden files and
// files still being written (.tmp, .part).
func ignored(name string) bool {
	return strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".tmp") || strings.HasSuffix(name, ".part")
}

// hand moves one dropped file into the bucket, as an upload to S3 would,
// and runs the S3 handler on it. Failures are reported through Done; the
// watcher goes on with the next file.
func (d *DropFolder) hand(ctx context.Context, path string) {
	rel, err := filepath.Rel(d.Drop, path)
	key := "sources/" + filepath.ToSlash(rel)
	handed := time.Now()
	if err == nil {
		err = d.move(ctx, path, key)
	}
	if d.Done != nil {
		d.Done(key, handed, err)
	} else if err != nil {
		d.Log.Error("drop folder", "key", key, "err", err)
	}
}

func (d *DropFolder) move(ctx context.Context, path, key string) error {
	dst := filepath.Join(d.Bucket, filepath.FromSlash(key))
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return fmt.Errorf("local: bucket folder: %w", err)
	}
	if err := os.Rename(path, dst); err != nil {
		return fmt.Errorf("local: move into the bucket: %w", err)
	}
	info, err := os.Stat(dst)
	if err != nil {
		return fmt.Errorf("local: stat %s: %w", key, err)
	}
	return d.Handler.Handle(ctx, S3Event(d.Name, key, info.Size()))
}

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
