// Package objectstest is the conformance suite every objects.Store
// implementation runs, in the style of go-cloud's drivertest: the same
// behaviour is checked against each technology.
package objectstest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/aurum-cdp/aurum/shared/model/fault"
	"github.com/aurum-cdp/aurum/shared/port/objects"
)

// Options tune the suite for one implementation.
type Options struct {
	// LargeSize is the size of the object written to exercise streaming
	// (multipart) uploads; 0 skips those cases.
	LargeSize int64
}

// Run runs the suite. newStore returns an empty store; it is called once
// per case.
func Run(t *testing.T, newStore func(t *testing.T) objects.Store, opts Options) {
	t.Run("MissingIsNotFound", func(t *testing.T) { testMissing(t, newStore(t)) })
	t.Run("PutOpenStat", func(t *testing.T) { testPutOpenStat(t, newStore(t)) })
	t.Run("EmptyObject", func(t *testing.T) { testEmpty(t, newStore(t)) })
	t.Run("ETagFollowsContent", func(t *testing.T) { testETag(t, newStore(t)) })
	t.Run("FailedPutLeavesNothing", func(t *testing.T) { testFailedPut(t, newStore(t), 10) })
	if opts.LargeSize > 0 {
		t.Run("LargeStreamingPut", func(t *testing.T) { testLarge(t, newStore(t), opts.LargeSize) })
		t.Run("FailedLargePutLeavesNothing", func(t *testing.T) { testFailedPut(t, newStore(t), opts.LargeSize) })
	}
}

func testMissing(t *testing.T, s objects.Store) {
	ctx := context.Background()
	if _, err := s.Stat(ctx, "sources/crm/missing.csv"); !errors.Is(err, fault.ErrNotFound) {
		t.Errorf("Stat(missing) error = %v; want fault.ErrNotFound", err)
	}
	r, _, err := s.Open(ctx, "sources/crm/missing.csv")
	if !errors.Is(err, fault.ErrNotFound) {
		t.Errorf("Open(missing) error = %v; want fault.ErrNotFound", err)
	}
	if r != nil {
		r.Close()
	}
}

func testPutOpenStat(t *testing.T, s objects.Store) {
	ctx := context.Background()
	for _, key := range []string{
		"sources/crm/2024-06-01.csv",
		"sources/crm/with space+plus é.csv",
		"reports/sources/crm/2024-06-01.csv.json",
	} {
		t.Run(key, func(t *testing.T) {
			before := time.Now().Add(-time.Minute)
			want := []byte("email,name\nann@example.com,Ann\n" + key)
			if err := s.Put(ctx, key, bytes.NewReader(want), "text/csv"); err != nil {
				t.Fatalf("Put(%q) error = %v", key, err)
			}
			r, info, err := s.Open(ctx, key)
			if err != nil {
				t.Fatalf("Open(%q) error = %v", key, err)
			}
			got, err := io.ReadAll(r)
			r.Close()
			if err != nil {
				t.Fatalf("read %q: %v", key, err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("Open(%q) content = %q; want %q", key, got, want)
			}
			if info.Size != int64(len(want)) {
				t.Errorf("Open(%q) Size = %d; want %d", key, info.Size, len(want))
			}
			if info.ETag == "" {
				t.Errorf("Open(%q) ETag is empty", key)
			}
			if info.LastModified.Before(before) || info.LastModified.After(time.Now().Add(time.Minute)) {
				t.Errorf("Open(%q) LastModified = %v; want about now", key, info.LastModified)
			}
			st, err := s.Stat(ctx, key)
			if err != nil {
				t.Fatalf("Stat(%q) error = %v", key, err)
			}
			if st.Size != info.Size || st.ETag != info.ETag || !st.LastModified.Equal(info.LastModified) {
				t.Errorf("Stat(%q) = %+v; want the Open info %+v", key, st, info)
			}
		})
	}
}

func testEmpty(t *testing.T, s objects.Store) {
	ctx := context.Background()
	key := "rejected/sources/crm/clean.csv.jsonl"
	if err := s.Put(ctx, key, bytes.NewReader(nil), "application/x-ndjson"); err != nil {
		t.Fatalf("Put(empty) error = %v", err)
	}
	r, info, err := s.Open(ctx, key)
	if err != nil {
		t.Fatalf("Open(empty) error = %v", err)
	}
	got, _ := io.ReadAll(r)
	r.Close()
	if len(got) != 0 || info.Size != 0 {
		t.Errorf("Open(empty) = %d bytes, Size %d; want 0, 0", len(got), info.Size)
	}
}

func testETag(t *testing.T, s objects.Store) {
	ctx := context.Background()
	put := func(key, content string) objects.Info {
		t.Helper()
		if err := s.Put(ctx, key, bytes.NewReader([]byte(content)), ""); err != nil {
			t.Fatalf("Put(%q) error = %v", key, err)
		}
		info, err := s.Stat(ctx, key)
		if err != nil {
			t.Fatalf("Stat(%q) error = %v", key, err)
		}
		return info
	}
	a := put("a/x.csv", "one")
	b := put("a/y.csv", "one")
	if a.ETag != b.ETag {
		t.Errorf("ETag of equal contents: %q and %q; want equal", a.ETag, b.ETag)
	}
	c := put("a/x.csv", "two")
	if c.ETag == a.ETag {
		t.Errorf("ETag after overwrite with new content = %q; want it to change", c.ETag)
	}
	r, _, err := s.Open(ctx, "a/x.csv")
	if err != nil {
		t.Fatalf("Open after overwrite: %v", err)
	}
	got, _ := io.ReadAll(r)
	r.Close()
	if string(got) != "two" {
		t.Errorf("content after overwrite = %q; want %q", got, "two")
	}
}

var errBroken = errors.New("broken reader")

func testFailedPut(t *testing.T, s objects.Store, size int64) {
	ctx := context.Background()
	key := "rejected/sources/crm/x.csv.jsonl"
	body := io.MultiReader(io.LimitReader(&pattern{}, size), failing{})
	if err := s.Put(ctx, key, body, ""); err == nil {
		t.Fatalf("Put(failing reader of %d bytes) error = nil; want an error", size)
	}
	if _, err := s.Stat(ctx, key); !errors.Is(err, fault.ErrNotFound) {
		t.Errorf("Stat after failed Put error = %v; want fault.ErrNotFound", err)
	}

	// A failed overwrite keeps the previous version.
	if err := s.Put(ctx, key, bytes.NewReader([]byte("old")), ""); err != nil {
		t.Fatalf("Put(old) error = %v", err)
	}
	body = io.MultiReader(io.LimitReader(&pattern{}, size), failing{})
	if err := s.Put(ctx, key, body, ""); err == nil {
		t.Fatalf("Put(failing overwrite) error = nil; want an error")
	}
	r, _, err := s.Open(ctx, key)
	if err != nil {
		t.Fatalf("Open after failed overwrite: %v", err)
	}
	got, _ := io.ReadAll(r)
	r.Close()
	if string(got) != "old" {
		t.Errorf("content after failed overwrite = %.20q (%d bytes); want %q", got, len(got), "old")
	}
}

func testLarge(t *testing.T, s objects.Store, size int64) {
	ctx := context.Background()
	key := "sources/big/large.csv"
	// Hide any Seek so the store sees a stream of unknown length.
	body := struct{ io.Reader }{io.LimitReader(&pattern{}, size)}
	if err := s.Put(ctx, key, body, "text/csv"); err != nil {
		t.Fatalf("Put(%d bytes) error = %v", size, err)
	}
	r, info, err := s.Open(ctx, key)
	if err != nil {
		t.Fatalf("Open(%q) error = %v", key, err)
	}
	defer r.Close()
	if info.Size != size {
		t.Errorf("Open(%q) Size = %d; want %d", key, info.Size, size)
	}
	if err := sameAsPattern(r, size); err != nil {
		t.Errorf("Open(%q) content: %v", key, err)
	}
}

// pattern is an endless deterministic byte stream: abc...zabc...
type pattern struct{ off int }

func (s *pattern) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte('a' + (s.off+i)%26)
	}
	s.off += len(p)
	return len(p), nil
}

// sameAsPattern reads r in chunks aligned to 26 bytes and compares.
func sameAsPattern(r io.Reader, size int64) error {
	want := make([]byte, 26*2048)
	(&pattern{}).Read(want)
	got := make([]byte, len(want))
	var off int64
	for off < size {
		n := int64(len(got))
		if size-off < n {
			n = size - off
		}
		if _, err := io.ReadFull(r, got[:n]); err != nil {
			return fmt.Errorf("at byte %d: %w", off, err)
		}
		if !bytes.Equal(got[:n], want[:n]) {
			return fmt.Errorf("differs in the chunk at byte %d", off)
		}
		off += n
	}
	if n, _ := r.Read(got[:1]); n != 0 {
		return fmt.Errorf("longer than %d bytes", size)
	}
	return nil
}

type failing struct{}

func (failing) Read([]byte) (int, error) { return 0, errBroken }
