// Package s3event turns S3 ObjectCreated notifications into file loads:
// it is the Lambda handler of functions/ingest-s3, and local mode feeds it
// the same events for files put in its drop folder.
//
// It lives apart from package ingest so that the ingestion core carries no
// AWS types.
package s3event

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/aurum-cdp/aurum/shared/model/fault"
	"github.com/aurum-cdp/aurum/shared/source/file"
)

// Loader loads one dropped object; *file.Loader implements it.
type Loader interface {
	Load(ctx context.Context, key string) (file.Report, error)
}

// Handler handles S3 event notifications.
type Handler struct {
	loader Loader
	log    *slog.Logger
}

// New returns a handler loading through l. A nil logger discards.
func New(l Loader, log *slog.Logger) *Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Handler{loader: l, log: log}
}

// Handle loads the object of every ObjectCreated record under sources/.
// Other records and keys (the loader's own rejected/ and reports/ files)
// are ignored.
//
// It returns an error only for failures a retry may cure (storage, the
// pipeline, a timeout): Lambda then re-delivers the whole event, and the
// objects already loaded are skipped by their ETag. Bad data (an unknown
// source, a file that cannot be read) is logged and reported, not
// retried; so is an object deleted before it could be read.
func (h *Handler) Handle(ctx context.Context, e events.S3Event) error {
	var errs []error
	for _, r := range e.Records {
		if r.EventName != "" && !strings.HasPrefix(r.EventName, "ObjectCreated:") {
			continue
		}
		// Keys arrive URL-encoded, with + for spaces.
		key, err := url.QueryUnescape(r.S3.Object.Key)
		if err != nil {
			h.log.WarnContext(ctx, "s3event: undecodable key, skipped", "bucket", r.S3.Bucket.Name, "err", err)
			continue
		}
		if !strings.HasPrefix(key, file.SourcesPrefix) || strings.HasSuffix(key, "/") {
			continue
		}
		rep, err := h.loader.Load(ctx, key)
		switch {
		case err == nil:
			h.log.InfoContext(ctx, "s3event: handled", "bucket", r.S3.Bucket.Name, "key", key,
				"skipped", rep.Skipped, "rows", rep.Rows, "rejected", rep.Rejected)
		case errors.Is(err, fault.ErrInvalid), errors.Is(err, fault.ErrNotFound):
			h.log.WarnContext(ctx, "s3event: not loaded", "bucket", r.S3.Bucket.Name, "key", key, "err", err)
		default:
			errs = append(errs, fmt.Errorf("s3event: %s: %w", key, err))
		}
	}
	return errors.Join(errs...)
}
