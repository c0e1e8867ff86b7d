// Package objects defines the object storage port: the bucket that file
// drops land in and that ingestion writes its rejected rows and load reports
// to.
//
// Keys are slash-separated paths such as sources/crm/2024-06-01.csv.
// Implementations live in subpackages, one per technology: objects/s3
// (Amazon S3) and objects/dir (a local directory, for local mode). A missing
// object is fault.ErrNotFound.
package objects

import (
	"context"
	"io"
	"time"
)

// Info describes a stored object.
type Info struct {
	// Key is the object's key.
	Key string `json:"key"`
	// Size in bytes.
	Size int64 `json:"size"`
	// ETag changes whenever the content changes. It is opaque: compare it,
	// never parse it. S3 gives it unquoted (a hex MD5 for single-part
	// uploads); objects/dir gives a hex SHA-256 of the content.
	ETag string `json:"etag"`
	// LastModified is when the object was last written.
	LastModified time.Time `json:"last_modified"`
}

// Store reads and writes objects. All methods are safe for concurrent use.
type Store interface {
	// Open opens an object for streaming reads. The caller closes the
	// reader. A missing object is fault.ErrNotFound.
	Open(ctx context.Context, key string) (io.ReadCloser, Info, error)
	// Put writes an object from r, whose length need not be known, with
	// memory bounded whatever the size. The object appears whole or not at
	// all: if reading r fails, Put returns that error and no object (or the
	// previous version of it) remains visible.
	Put(ctx context.Context, key string, r io.Reader, contentType string) error
	// Stat describes an object without reading it. A missing object is
	// fault.ErrNotFound.
	Stat(ctx context.Context, key string) (Info, error)
}
