// Package s3fake serves an in-process fake S3 (gofakes3 with its memory
// backend) for tests, and returns a real aws-sdk-go-v2 S3 client pointed at
// it, so tests exercise the SDK's own encoding, signing and error decoding.
package s3fake

import (
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// New starts a fake S3 holding the given (empty) buckets, stopped when the
// test ends, and returns a client for it.
func New(t testing.TB, buckets ...string) *awss3.Client {
	t.Helper()
	backend := s3mem.New()
	for _, b := range buckets {
		if err := backend.CreateBucket(b); err != nil {
			t.Fatalf("s3fake: create bucket %s: %v", b, err)
		}
	}
	srv := httptest.NewServer(gofakes3.New(backend).Server())
	t.Cleanup(srv.Close)
	return awss3.New(awss3.Options{
		Region:       "eu-west-1",
		BaseEndpoint: aws.String(srv.URL),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
	})
}
