// Package app wires Aurum's parts together. Every Lambda function and local
// mode build their handlers here, from the same configuration, so a
// function never has two code paths: only the adapters handed in differ
// (DynamoDB and S3 in AWS, the bbolt file and a folder locally).
package app

import (
	"context"
	"fmt"
	"iter"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/aurum-cdp/aurum/shared/identity"
	idhttp "github.com/aurum-cdp/aurum/shared/identity/httpapi"

	"github.com/aurum-cdp/aurum/shared/profile"

	"github.com/aurum-cdp/aurum/shared/api"
	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/ingest"
	"github.com/aurum-cdp/aurum/shared/ingest/s3event"
	"github.com/aurum-cdp/aurum/shared/objects"
	"github.com/aurum-cdp/aurum/shared/pipeline"
	"github.com/aurum-cdp/aurum/shared/store"
)

// Parts are the adapters a platform is built from.
type Parts struct {
	Config  *config.Config
	Store   store.Store
	Objects objects.Store
	// Secrets resolves secret references; may be nil locally.
	Secrets api.SecretResolver
	// Logger; nil discards.
	Logger *slog.Logger
	// Clock; nil means time.Now.
	Clock func() time.Time
	// Progress receives file-load progress (local mode's progress line).
	Progress func(ingest.Progress)
	// Scan walks every profile (segment previews); nil where the store
	// offers no scan.
	Scan func(ctx context.Context) iter.Seq2[*profile.Profile, error]
}

// Platform is the wired core: the pipeline and the loaders and handlers
// built on it.
type Platform struct {
	Parts
	Pipeline *pipeline.Pipeline
	Loader   *ingest.Loader
	// Segments keeps memberships current: its extension runs inside every
	// pipeline commit.
	Segments *Segments
	// Console is the data catalog and the dashboard.
	Console *Console
}

// New wires a platform from its parts.
func New(p Parts) (*Platform, error) {
	if p.Config == nil || p.Store == nil {
		return nil, fmt.Errorf("app: a platform needs a config and a store")
	}
	if p.Logger == nil {
		p.Logger = slog.New(slog.DiscardHandler)
	}
	if p.Clock == nil {
		p.Clock = time.Now
	}
	pl := &Platform{Parts: p}
	seg, err := NewSegments(p)
	if err != nil {
		return nil, err
	}
	pl.Segments = seg
	if pl.Console, err = NewConsole(p, seg); err != nil {
		return nil, err
	}
	pl.Pipeline = pipeline.New(p.Config, p.Store, pipeline.Options{
		Clock: p.Clock, Logger: p.Logger,
		Extensions: []pipeline.Extension{seg.Extension},
	})
	if p.Objects != nil {
		l, err := ingest.NewLoader(p.Config, p.Objects, pl.Pipeline, ingest.LoaderOptions{
			Clock: p.Clock, Logger: p.Logger, Progress: p.Progress, Observer: pl.Console.Observer,
		})
		if err != nil {
			return nil, fmt.Errorf("app: %w", err)
		}
		pl.Loader = l
	}
	return pl, nil
}

// S3Handler is the handler of functions/ingest-s3 (and of local mode's
// drop folder).
func (p *Platform) S3Handler() (*s3event.Handler, error) {
	if p.Loader == nil {
		return nil, fmt.Errorf("app: S3 handler needs an object store")
	}
	return s3event.New(p.Loader, p.Logger), nil
}

// HTTP is the handler of functions/api (and of local mode's server).
func (p *Platform) HTTP(opts api.Options) (http.Handler, error) {
	segs := p.Segments.SegmentsHTTP(p.Parts, p.Scan)
	for _, pattern := range []string{
		"GET /v1/segments", "GET /v1/segments/{id}", "POST /v1/segments/preview",
		"GET /v1/profiles/{id}/segments", "GET /v1/profiles/{id}/segments/history",
	} {
		opts.Mounts = append(opts.Mounts, api.Mount{Pattern: pattern, Handler: segs})
	}
	opts.Mounts = append(opts.Mounts, p.Console.Mounts()...)
	eng, err := identity.New(p.Config)
	if err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	opts.Mounts = append(opts.Mounts, api.Mount{
		Pattern: "GET /v1/identity/stats",
		Handler: idhttp.Handler(nil, idhttp.StatsFrom(eng, p.Store)),
	})
	a, err := api.New(p.Config, api.Deps{
		Ingester: p.Console.Ingester(p.Pipeline),
		Profiles: p.Store,
		Secrets:  p.Secrets,
		Now:      p.Clock,
		Logger:   p.Logger,
	}, opts)
	if err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	return p.Console.Handler(a.Handler()), nil
}

// NewLogger returns a JSON logger on w at the level named by
// AURUM_LOG_LEVEL (debug, info, warn, error; default info). Log lines carry
// counts, keys and ids, never personal data.
func NewLogger(w *os.File) *slog.Logger {
	var level slog.Level
	switch strings.ToLower(os.Getenv("AURUM_LOG_LEVEL")) {
	case "debug":
		level = slog.LevelDebug
	case "warn":
		level = slog.LevelWarn
	case "error":
		level = slog.LevelError
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}))
}
