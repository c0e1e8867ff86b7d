// Package replay measures identity resolution in streaming mode: it feeds
// files, in order, through local mode's ingest path (the file loader over
// an object store, in the loader's batches, into the pipeline wired by
// package app) and reads back the profile each record ended in, so that
// the clusters can be scored like those of batch mode (identity.ScorePairs).
//
// The caller hands in the stores (an embedded store, usually opened with
// NoSync in a temporary folder, and an objects/dir bucket) and owns them.
package replay

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/core/identity"
	"github.com/aurum-cdp/aurum/shared/model/fault"
	"github.com/aurum-cdp/aurum/shared/port/objects"
	"github.com/aurum-cdp/aurum/shared/port/store"
	"github.com/aurum-cdp/aurum/shared/source/file"
	"github.com/aurum-cdp/aurum/shared/wire/app"
)

// File is one input file of a source declared in the configuration.
type File struct {
	Source, Path string
}

// Parts are the stores a replay writes to.
type Parts struct {
	Config  *config.Config
	Store   store.Store
	Objects objects.Store
	// Clock; nil means time.Now.
	Clock func() time.Time
}

// Run is a finished replay.
type Run struct {
	st store.Store
	// Keys are the object keys the files were loaded from, in input order:
	// the loader names a record without a mapped id <key>#<line>.
	Keys []string
	// Reports are the loader's reports, in input order.
	Reports []file.Report
	// Elapsed is the time spent loading (copying the files into the bucket
	// not included).
	Elapsed time.Duration
}

// Load copies every file into the bucket under sources/<source>/ and
// loads them one after the other, as a drop folder would when files
// arrive in this order.
func Load(ctx context.Context, p Parts, files []File) (*Run, error) {
	pl, err := app.New(app.Parts{Config: p.Config, Store: p.Store, Objects: p.Objects, Clock: p.Clock})
	if err != nil {
		return nil, fmt.Errorf("replay: %w", err)
	}
	r := &Run{st: p.Store}
	for i, f := range files {
		key := file.SourcesPrefix + f.Source + "/" + strconv.Itoa(i+1) + "-" + filepath.Base(f.Path)
		if err := put(ctx, p.Objects, key, f.Path); err != nil {
			return nil, err
		}
		r.Keys = append(r.Keys, key)
	}
	start := time.Now()
	for _, key := range r.Keys {
		rep, err := pl.Loader.Load(ctx, key)
		if err != nil {
			return nil, fmt.Errorf("replay: load %s: %w", key, err)
		}
		r.Reports = append(r.Reports, rep)
	}
	r.Elapsed = time.Since(start)
	return r, nil
}

func put(ctx context.Context, objs objects.Store, key, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	defer f.Close()
	if err := objs.Put(ctx, key, f, "application/octet-stream"); err != nil {
		return fmt.Errorf("replay: copy %s: %w", key, err)
	}
	return nil
}

// ProfileID returns the live profile that the record source/id ended in,
// and "" for a record the store does not hold (a rejected row).
func (r *Run) ProfileID(ctx context.Context, source, id string) (string, error) {
	_, pid, err := r.st.Record(ctx, source, id)
	if errors.Is(err, fault.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("replay: %w", err)
	}
	live, err := identity.ResolveID(ctx, r.st, pid)
	if err != nil {
		return "", fmt.Errorf("replay: record %s/%s: %w", source, id, err)
	}
	return live, nil
}

// Stats returns the streaming match statistics the pipeline kept.
func (r *Run) Stats(ctx context.Context, eng *identity.Engine) (identity.Stats, error) {
	s, err := eng.StreamStats(ctx, r.st)
	if err != nil {
		return identity.Stats{}, fmt.Errorf("replay: %w", err)
	}
	return s, nil
}
