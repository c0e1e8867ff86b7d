package embedded

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"os"
	"slices"

	bolt "go.etcd.io/bbolt"
)

// Usage is where the bytes of a store file go: the file, the pages in
// use, the free pages, and each bucket's live data and pages.
type Usage struct {
	// FileBytes is the size of the file on disk (bbolt grows it ahead of
	// need, up to 16 MiB at a time).
	FileBytes int64 `json:"file_bytes"`
	// Bytes is the high-water mark: every page up to the last one in use.
	Bytes int64 `json:"bytes"`
	// FreeBytes is the part of Bytes on free pages (freed by earlier
	// writes and reused by later ones).
	FreeBytes int64 `json:"free_bytes"`
	// Buckets is the usage of each bucket, in name order.
	Buckets []BucketUsage `json:"buckets"`
	// ItemKinds is the live data of each item kind in the items bucket,
	// in name order (no page figures: kinds share pages).
	ItemKinds []BucketUsage `json:"item_kinds"`
}

// BucketUsage is the space one bucket takes.
type BucketUsage struct {
	Name string `json:"name"`
	Keys int    `json:"keys"`
	// KeyBytes and ValueBytes add up the keys and values: the live data.
	KeyBytes   int64 `json:"key_bytes"`
	ValueBytes int64 `json:"value_bytes"`
	// PageBytes is the size of the bucket's pages (branch, leaf and their
	// overflow); InuseBytes the part of it holding keys, values and page
	// headers. Their ratio is the fill factor. A small bucket lives inline
	// in its parent's page: it has InuseBytes but no PageBytes.
	PageBytes  int64 `json:"page_bytes"`
	InuseBytes int64 `json:"inuse_bytes"`
}

// Usage reports where the bytes of the store file go. It reads every key
// and value: use it for operations and benchmarks, not on request paths.
func (s *Store) Usage(ctx context.Context) (Usage, error) {
	var u Usage
	err := s.view(ctx, func(tx *bolt.Tx) error {
		u.Bytes = tx.Size()
		st := s.db.Stats()
		u.FreeBytes = int64(st.FreePageN+st.PendingPageN) * int64(s.db.Info().PageSize)
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			bs := b.Stats()
			bu := BucketUsage{
				Name:       string(name),
				Keys:       bs.KeyN,
				PageBytes:  int64(bs.BranchAlloc + bs.LeafAlloc),
				InuseBytes: int64(bs.BranchInuse + bs.LeafInuse + bs.InlineBucketInuse),
			}
			kinds := map[string]*BucketUsage{}
			err := b.ForEach(func(k, v []byte) error {
				bu.KeyBytes += int64(len(k))
				bu.ValueBytes += int64(len(v))
				if string(name) == BucketItems {
					addKind(kinds, k, v)
				}
				return ctx.Err()
			})
			u.Buckets = append(u.Buckets, bu)
			for _, n := range slices.Sorted(maps.Keys(kinds)) {
				u.ItemKinds = append(u.ItemKinds, *kinds[n])
			}
			return err
		})
	})
	if err != nil {
		return Usage{}, fmt.Errorf("embedded: usage: %w", err)
	}
	info, err := os.Stat(s.db.Path())
	if err != nil {
		return Usage{}, fmt.Errorf("embedded: usage: %w", err)
	}
	u.FileBytes = info.Size()
	return u, nil
}

// addKind counts an items entry under its kind, the key up to its first
// NUL byte.
func addKind(kinds map[string]*BucketUsage, k, v []byte) {
	kind, _, _ := bytes.Cut(k, []byte{0})
	ku := kinds[string(kind)]
	if ku == nil {
		ku = &BucketUsage{Name: string(kind)}
		kinds[ku.Name] = ku
	}
	ku.Keys++
	ku.KeyBytes += int64(len(k))
	ku.ValueBytes += int64(len(v))
}

// compactTxBytes bounds the bytes CompactTo copies in one transaction.
const compactTxBytes = 8 << 20

// CompactTo writes a compacted copy of the store to a new file at path:
// the same keys and values on full pages, with no free pages. The store
// stays open and usable; writes made during the copy may be missed.
func (s *Store) CompactTo(ctx context.Context, path string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("embedded: compact to %s: %w", path, err)
	}
	dst, err := bolt.Open(path, 0o600, &bolt.Options{NoSync: true})
	if err != nil {
		return fmt.Errorf("embedded: compact to %s: %w", path, err)
	}
	dst.AllocSize = allocSize
	err = bolt.Compact(dst, s.db, compactTxBytes)
	if err == nil {
		err = dst.Sync()
	}
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("embedded: compact to %s: %w", path, err)
	}
	return nil
}
