// Package s3 is an objects.Store over one Amazon S3 bucket, through
// aws-sdk-go-v2.
//
// Reads stream the object body as S3 sends it. Writes of unknown length go
// through the SDK's transfer manager (feature/s3/transfermanager), which
// switches to a multipart upload past a threshold, so memory stays bounded
// by the part size and concurrency whatever the object's size. S3 errors map
// to the portable kinds of package fault: NoSuchKey and NotFound are
// fault.ErrNotFound, AccessDenied is fault.ErrForbidden, throttling and
// server errors are fault.ErrRetryable.
package s3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/aurum-cdp/aurum/shared/model/fault"
	"github.com/aurum-cdp/aurum/shared/port/objects"
)

// Client is the part of the S3 API the store uses; *s3.Client implements
// it.
type Client = transfermanager.S3APIClient

// Options tune uploads. The zero value is ready to use.
type Options struct {
	// PartSize of multipart uploads in bytes; default 8 MiB, minimum
	// 5 MiB. One Put holds at most about PartSize × (Concurrency + 1) plus
	// 16 MiB (the single-upload threshold) in memory.
	PartSize int64
	// Concurrency of part uploads within one Put; default 2.
	Concurrency int
	// ChecksumWhenRequired sends request checksums only where S3 requires
	// them, instead of a CRC32 on every upload. Some S3-compatible servers
	// need it.
	ChecksumWhenRequired bool
}

// Store is an objects.Store over one bucket. It is safe for concurrent use.
type Store struct {
	client   Client
	bucket   string
	transfer *transfermanager.Client
}

var _ objects.Store = (*Store)(nil)

// New returns a store over bucket through client.
func New(client Client, bucket string, opts Options) *Store {
	if opts.Concurrency <= 0 {
		opts.Concurrency = 2
	}
	tm := transfermanager.New(client, func(o *transfermanager.Options) {
		o.PartSizeBytes = opts.PartSize
		o.Concurrency = opts.Concurrency
		if opts.ChecksumWhenRequired {
			o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		}
	})
	return &Store{client: client, bucket: bucket, transfer: tm}
}

// Bucket returns the bucket the store reads and writes.
func (s *Store) Bucket() string { return s.bucket }

// Open streams the object at key. The caller closes the reader.
func (s *Store) Open(ctx context.Context, key string) (io.ReadCloser, objects.Info, error) {
	out, err := s.client.GetObject(ctx, &awss3.GetObjectInput{
		Bucket: aws.String(s.bucket),
		Key:    aws.String(key),
	})
	if err != nil {
		return nil, objects.Info{}, mapErr("open", key, err)
	}
	info := objects.Info{
		Key:          key,
		Size:         aws.ToInt64(out.ContentLength),
		ETag:         unquote(aws.ToString(out.ETag)),
		LastModified: aws.ToTime(out.LastModified).UTC(),
	}
	return out.Body, info, nil
}

// Stat describes the object at key with a HEAD request.
func (s *Store) Stat(ctx context.Context, key string) (objects.Info, error) {
	out, err := s.client.HeadObject(ctx, &awss3.HeadObjectInput{
		Bucket: aws.String(s.bucket),
		Key:    aws.String(key),
	})
	if err != nil {
		return objects.Info{}, mapErr("stat", key, err)
	}
	return objects.Info{
		Key:          key,
		Size:         aws.ToInt64(out.ContentLength),
		ETag:         unquote(aws.ToString(out.ETag)),
		LastModified: aws.ToTime(out.LastModified).UTC(),
	}, nil
}

// Put uploads r to key, as a multipart upload when it is large. A failed
// multipart upload is aborted, so no partial object becomes visible.
func (s *Store) Put(ctx context.Context, key string, r io.Reader, contentType string) error {
	in := &transfermanager.UploadObjectInput{
		Bucket: aws.String(s.bucket),
		Key:    aws.String(key),
		Body:   r,
	}
	if contentType != "" {
		in.ContentType = aws.String(contentType)
	}
	if _, err := s.transfer.UploadObject(ctx, in); err != nil {
		return mapErr("put", key, err)
	}
	return nil
}

func unquote(etag string) string { return strings.Trim(etag, `"`) }

// mapErr translates S3 errors into fault kinds, keeping the original error
// in the chain.
func mapErr(op, key string, err error) error {
	var (
		noKey    *types.NoSuchKey
		notFound *types.NotFound
	)
	if errors.As(err, &noKey) || errors.As(err, &notFound) {
		return fmt.Errorf("objects/s3: %s %s: %w", op, key, fault.ErrNotFound)
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		switch api.ErrorCode() {
		case "NoSuchKey", "NotFound":
			return fmt.Errorf("objects/s3: %s %s: %w", op, key, fault.ErrNotFound)
		case "AccessDenied", "Forbidden":
			return fmt.Errorf("objects/s3: %s %s: %w: %w", op, key, fault.ErrForbidden, err)
		case "SlowDown", "ServiceUnavailable", "InternalError", "RequestTimeout", "Throttling":
			return fmt.Errorf("objects/s3: %s %s: %w: %w", op, key, fault.ErrRetryable, err)
		}
	}
	return fmt.Errorf("objects/s3: %s %s: %w", op, key, err)
}

// NewFromConfig returns the Store of bucket with an S3 client built from
// the AWS SDK configuration ac and default options.
func NewFromConfig(ac aws.Config, bucket string) *Store {
	return New(awss3.NewFromConfig(ac), bucket, Options{})
}
