package s3_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	objs3 "github.com/aurum-cdp/aurum/shared/adapter/s3"
	"github.com/aurum-cdp/aurum/shared/adapter/s3/s3fake"
	"github.com/aurum-cdp/aurum/shared/model/fault"
	"github.com/aurum-cdp/aurum/shared/port/objects"
	"github.com/aurum-cdp/aurum/shared/port/objects/objectstest"
)

func TestConformance(t *testing.T) {
	objectstest.Run(t, func(t *testing.T) objects.Store {
		return objs3.New(s3fake.New(t, "aurum-drops"), "aurum-drops", objs3.Options{PartSize: 5 << 20})
	}, objectstest.Options{LargeSize: 20 << 20})
}

func TestMissingBucketIsNotNotFound(t *testing.T) {
	// A missing bucket is a deployment error worth a retry alert, not a
	// missing object to skip.
	s := objs3.New(s3fake.New(t, "aurum-drops"), "no-such-bucket", objs3.Options{})
	ctx := context.Background()
	_, _, err := s.Open(ctx, "sources/crm/a.csv")
	if err == nil || errors.Is(err, fault.ErrNotFound) {
		t.Errorf("Open in a missing bucket error = %v; want an error other than fault.ErrNotFound", err)
	}
	if err := s.Put(ctx, "sources/crm/a.csv", strings.NewReader("x"), ""); err == nil {
		t.Errorf("Put in a missing bucket error = nil; want an error")
	}
}
