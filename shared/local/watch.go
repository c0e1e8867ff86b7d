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
	// Done is called after each file with its bucket key and the handler's error.
	Done     func(key string, err error)
	Interval time.Duration
	Log      *slog.Logger
}

type fileState struct {
	size int64
	mod  time.Time
}

// Run watches until ctx is done.
func (d *DropFolder) Run(ctx context.Context) error {
	if d.Interval <= 0 {
		d.Interval = 300 * time.Millisecond
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("local: watch drop folder: %w", err)
	}
	defer w.Close()
	for _, s := range d.Sources {
		dir := filepath.Join(d.Drop, s)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("local: create drop folder: %w", err)
		}
		if err := w.Add(dir); err != nil {
			return fmt.Errorf("local: watch %s: %w", dir, err)
		}
	}
	last := map[string]fileState{}
	tick := time.NewTicker(d.Interval)
	defer tick.Stop()
	for {
		if err := d.scan(ctx, last); err != nil {
			return err
		}
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

// scan hands over every file that was already seen with the same size and
// modification time.
func (d *DropFolder) scan(ctx context.Context, last map[string]fileState) error {
	var ready []string
	current := map[string]bool{}
	for _, s := range d.Sources {
		dir := filepath.Join(d.Drop, s)
		err := filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					return nil
				}
				return err
			}
			name := e.Name()
			if strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".tmp") || strings.HasSuffix(name, ".part") {
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
		if err != nil {
			return fmt.Errorf("local: scan drop folder: %w", err)
		}
	}
	for p := range last {
		if !current[p] {
			delete(last, p)
		}
	}
	sort.Strings(ready)
	for _, path := range ready {
		delete(last, path)
		if err := d.hand(ctx, path); err != nil {
			return err
		}
	}
	return nil
}

// hand moves one dropped file into the bucket and runs the S3 handler.
func (d *DropFolder) hand(ctx context.Context, path string) error {
	rel, err := filepath.Rel(d.Drop, path)
	if err != nil {
		return fmt.Errorf("local: drop path: %w", err)
	}
	key := "sources/" + filepath.ToSlash(rel)
	dst := filepath.Join(d.Bucket, filepath.FromSlash(key))
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return fmt.Errorf("local: bucket folder: %w", err)
	}
	if err := os.Rename(path, dst); err != nil {
		return fmt.Errorf("local: move %s into the bucket: %w", rel, err)
	}
	info, err := os.Stat(dst)
	if err != nil {
		return fmt.Errorf("local: stat %s: %w", key, err)
	}
	err = d.Handler.Handle(ctx, S3Event(d.Name, key, info.Size()))
	if d.Done != nil {
		d.Done(key, err)
	}
	return nil
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
