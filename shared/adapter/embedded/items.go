package embedded

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/aurum-cdp/aurum/shared/model/fault"
	"github.com/aurum-cdp/aurum/shared/port/store"
)

// MaxItemValue is the largest store.Item value accepted (64 KiB); a larger
// one fails the change with fault.ErrTooLarge.
const MaxItemValue = 64 * 1024

// sweepBatch bounds the items Sweep deletes in one write transaction, so a
// large sweep does not hold the write lock for long.
const sweepBatch = 1000

// Item implements store.Store. An item whose Expires is not after the
// store's clock is fault.ErrNotFound, whether or not Sweep removed it yet.
func (s *Store) Item(ctx context.Context, kind, key, sort string) (store.Item, error) {
	if err := checkItemName(kind, key, sort); err != nil {
		return store.Item{}, fmt.Errorf("embedded: item %s: %w", kind, err)
	}
	var it store.Item
	err := s.view(ctx, func(tx *bolt.Tx) error {
		v := tx.Bucket([]byte(BucketItems)).Get(itemKey(kind, key, sort))
		if v == nil {
			return fault.ErrNotFound
		}
		var err error
		it, err = decodeItem(kind, key, sort, v)
		if err != nil {
			return err
		}
		if expired(it, s.now()) {
			return fault.ErrNotFound
		}
		return nil
	})
	if err != nil {
		return store.Item{}, fmt.Errorf("embedded: item %s %s/%s: %w", kind, key, sort, err)
	}
	return it, nil
}

// Items implements store.Store with one cursor seek to (kind, key, from)
// or past the cursor. Expired items are skipped. The cursor is the last
// sort key returned, base64url-encoded; the next cursor is "" exactly when
// no further item lies in range.
func (s *Store) Items(ctx context.Context, kind, key, from, to string, limit int, cursor string) ([]store.Item, string, error) {
	if limit <= 0 {
		return nil, "", fmt.Errorf("embedded: items %s: limit %d: %w", kind, limit, fault.ErrInvalid)
	}
	for _, p := range []struct{ name, v string }{{"item kind", kind}, {"item key", key}} {
		if err := checkID(p.name, p.v); err != nil {
			return nil, "", fmt.Errorf("embedded: items %s: %w", kind, err)
		}
	}
	for _, b := range []struct{ name, v string }{{"from", from}, {"to", to}} {
		if strings.IndexByte(b.v, 0) >= 0 {
			return nil, "", fmt.Errorf("embedded: items %s: %s holds a NUL byte: %w", kind, b.name, fault.ErrInvalid)
		}
	}
	var after []byte
	if cursor != "" {
		b, err := base64.RawURLEncoding.DecodeString(cursor)
		if err != nil || len(b) == 0 || bytes.IndexByte(b, 0) >= 0 {
			return nil, "", fmt.Errorf("embedded: items %s: malformed cursor: %w", kind, fault.ErrInvalid)
		}
		after = b
	}
	var (
		out  []store.Item
		next string
	)
	err := s.view(ctx, func(tx *bolt.Tx) error {
		now := s.now()
		prefix := itemPrefix(kind, key)
		c := tx.Bucket([]byte(BucketItems)).Cursor()
		k, v := c.Seek(append(bytes.Clone(prefix), from...))
		if after != nil && bytes.Compare(after, []byte(from)) >= 0 {
			k, v = c.Seek(append(bytes.Clone(prefix), after...))
			if k != nil && bytes.Equal(k[len(prefix):], after) {
				k, v = c.Next()
			}
		}
		for ; k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			sort := string(k[len(prefix):])
			if to != "" && sort >= to {
				break
			}
			it, err := decodeItem(kind, key, sort, v)
			if err != nil {
				return err
			}
			if expired(it, now) {
				continue
			}
			if len(out) == limit {
				next = base64.RawURLEncoding.EncodeToString([]byte(out[len(out)-1].Sort))
				break
			}
			out = append(out, it)
		}
		return nil
	})
	if err != nil {
		return nil, "", fmt.Errorf("embedded: items %s: %w", kind, err)
	}
	return out, next, nil
}

// Sweep deletes every item whose Expires is not after the store's clock
// and returns how many it deleted. Expired items are already invisible to
// Item, Items and ItemCreate; sweeping reclaims their space. The process
// owning the store (local mode) calls it periodically, as DynamoDB's TTL
// does the same job in the cloud.
// It reads the expiry index, not the items, and deletes in batches of
// bounded transactions.
func (s *Store) Sweep(ctx context.Context) (int, error) {
	total := 0
	for {
		if err := ctx.Err(); err != nil {
			return total, fmt.Errorf("embedded: sweep: %w", err)
		}
		n := 0
		limit := appendTime(nil, s.now())
		err := s.db.Update(func(tx *bolt.Tx) error {
			items, index := tx.Bucket([]byte(BucketItems)), tx.Bucket([]byte(BucketItemExpiry))
			c := index.Cursor()
			var done [][]byte
			for k, _ := c.First(); k != nil && n < sweepBatch; k, _ = c.Next() {
				if len(k) < timeLen || bytes.Compare(k[:timeLen], limit) > 0 {
					break
				}
				done = append(done, bytes.Clone(k))
				n++
			}
			for _, k := range done {
				if err := items.Delete(k[timeLen:]); err != nil {
					return fmt.Errorf("delete item: %w", err)
				}
				if err := index.Delete(k); err != nil {
					return fmt.Errorf("delete expiry entry: %w", err)
				}
			}
			return nil
		})
		if err != nil {
			return total, fmt.Errorf("embedded: sweep: %w", err)
		}
		total += n
		if n < sweepBatch {
			return total, nil
		}
	}
}

// now reads the store's clock.
func (s *Store) now() time.Time {
	if s.clock != nil {
		return s.clock()
	}
	return time.Now()
}

// expired reports whether it has expired at now.
func expired(it store.Item, now time.Time) bool {
	return !it.Expires.IsZero() && !now.Before(it.Expires)
}

// checkItemName enforces the naming rules of store.Item.
func checkItemName(kind, key, sort string) error {
	for _, p := range []struct{ name, v string }{{"kind", kind}, {"key", key}, {"sort", sort}} {
		if err := checkID("item "+p.name, p.v); err != nil {
			return err
		}
	}
	return nil
}

// encodeItem encodes the stored part of it: its version and counter as
// varints, an expiry flag byte (1: the expiry time follows, as in the
// other time keys), then Value as a blob.
func encodeItem(it store.Item) []byte {
	b := make([]byte, 0, 2*binary.MaxVarintLen64+2+timeLen+len(it.Value))
	b = binary.AppendUvarint(b, uint64(it.Version))
	b = binary.AppendVarint(b, it.N)
	if it.Expires.IsZero() {
		b = append(b, 0)
	} else {
		b = appendTime(append(b, 1), it.Expires)
	}
	return appendBlob(b, it.Value)
}

// itemHeader decodes an item value up to its Value and returns the blob
// of the Value.
func itemHeader(kind, key, sort string, v []byte) (store.Item, []byte, error) {
	corrupt := errors.New("corrupt item value")
	version, v, err := readUvarint(v)
	if err != nil {
		return store.Item{}, nil, corrupt
	}
	n, v, err := readVarint(v)
	if err != nil || len(v) == 0 {
		return store.Item{}, nil, corrupt
	}
	it := store.Item{Kind: kind, Key: key, Sort: sort, Version: int64(version), N: n}
	flag, v := v[0], v[1:]
	if flag == 1 {
		if len(v) < timeLen {
			return store.Item{}, nil, corrupt
		}
		it.Expires, v = decodeTime(v[:timeLen]), v[timeLen:]
	}
	return it, v, nil
}

func decodeItem(kind, key, sort string, v []byte) (store.Item, error) {
	it, rest, err := itemHeader(kind, key, sort, v)
	if err != nil {
		return store.Item{}, err
	}
	value, err := readBlob(rest)
	if err != nil {
		return store.Item{}, fmt.Errorf("corrupt item value: %w", err)
	}
	if len(value) > 0 {
		it.Value = bytes.Clone(value)
	}
	return it, nil
}

// decodeTime reverses appendTime; the result is in UTC.
func decodeTime(b []byte) time.Time {
	sec := int64(binary.BigEndian.Uint64(b) ^ (1 << 63))
	return time.Unix(sec, int64(binary.BigEndian.Uint32(b[8:]))).UTC()
}

// expiryKey is the expiry index key of an item expiring at t.
func expiryKey(t time.Time, key []byte) []byte {
	return append(appendTime(make([]byte, 0, timeLen+len(key)), t), key...)
}

// itemWrite is a store.ItemWrite validated for the items bucket.
type itemWrite struct {
	op     store.ItemOp
	key    []byte
	item   store.Item
	expect int64
}

// prepareItem validates w (fault.ErrInvalid, fault.ErrTooLarge).
func prepareItem(i int, w store.ItemWrite) (itemWrite, error) {
	it := w.Item
	if err := checkItemName(it.Kind, it.Key, it.Sort); err != nil {
		return itemWrite{}, fmt.Errorf("item %d: %w", i, err)
	}
	if w.Op > store.ItemAdd {
		return itemWrite{}, fault.Invalidf("item %d: unknown operation %d", i, w.Op)
	}
	if w.ExpectVersion < 0 {
		return itemWrite{}, fault.Invalidf("item %d: negative expected version %d", i, w.ExpectVersion)
	}
	if len(it.Value) > MaxItemValue {
		return itemWrite{}, fmt.Errorf("item %d: value of %d bytes exceeds %d: %w", i, len(it.Value), MaxItemValue, fault.ErrTooLarge)
	}
	it.Version = 0
	return itemWrite{op: w.Op, key: itemKey(it.Kind, it.Key, it.Sort), item: it, expect: w.ExpectVersion}, nil
}

// liveItem returns the stored item at key if it exists and has not expired
// at now.
func (w *writer) liveItem(key []byte, now time.Time) (store.Item, bool, error) {
	v := w.items.Get(key)
	if v == nil {
		return store.Item{}, false, nil
	}
	it, _, err := itemHeader("", "", "", v)
	if err != nil {
		return store.Item{}, false, err
	}
	if expired(it, now) {
		return store.Item{}, false, nil
	}
	return it, true, nil
}

// checkItem verifies the condition of an item write (fault.ErrConflict).
func (w *writer) checkItem(iw itemWrite, now time.Time) error {
	name := func() string { return fmt.Sprintf("item %s %s/%s", iw.item.Kind, iw.item.Key, iw.item.Sort) }
	switch iw.op {
	case store.ItemCreate:
		if _, ok, err := w.liveItem(iw.key, now); err != nil || ok {
			if err != nil {
				return fmt.Errorf("%s: %w", name(), err)
			}
			return fmt.Errorf("%s: already exists: %w", name(), fault.ErrConflict)
		}
	case store.ItemReplace, store.ItemDelete:
		if iw.op == store.ItemDelete && iw.expect == 0 {
			return nil
		}
		cur, ok, err := w.liveItem(iw.key, now)
		switch {
		case err != nil:
			return fmt.Errorf("%s: %w", name(), err)
		case !ok:
			return fmt.Errorf("%s: not found: %w", name(), fault.ErrConflict)
		case iw.expect > 0 && cur.Version != iw.expect:
			return fmt.Errorf("%s: at version %d, want %d: %w", name(), cur.Version, iw.expect, fault.ErrConflict)
		}
	}
	return nil
}

// applyItem writes an item whose check passed, keeping the expiry index
// in step. An expired stored item counts as missing.
func (w *writer) applyItem(iw itemWrite, now time.Time) error {
	name := func() string { return fmt.Sprintf("item %s %s/%s", iw.item.Kind, iw.item.Key, iw.item.Sort) }
	var (
		old      store.Item
		oldValue []byte // the stored Value's blob
	)
	stored := false
	if v := w.items.Get(iw.key); v != nil {
		var err error
		if old, oldValue, err = itemHeader("", "", "", v); err != nil {
			return fmt.Errorf("%s: %w", name(), err)
		}
		stored = true
	}
	if stored && !old.Expires.IsZero() {
		if err := w.itemExpiry.Delete(expiryKey(old.Expires, iw.key)); err != nil {
			return fmt.Errorf("%s: delete expiry entry: %w", name(), err)
		}
	}
	if iw.op == store.ItemDelete {
		if !stored {
			return nil
		}
		if err := w.items.Delete(iw.key); err != nil {
			return fmt.Errorf("%s: delete: %w", name(), err)
		}
		return nil
	}
	live := stored && !expired(old, now)
	it := iw.item
	it.Version = 1
	if live {
		it.Version = old.Version + 1
	}
	if iw.op == store.ItemAdd && live {
		it.N += old.N
		if len(it.Value) == 0 {
			v, err := readBlob(oldValue)
			if err != nil {
				return fmt.Errorf("%s: corrupt item value: %w", name(), err)
			}
			it.Value = v // encodeItem copies it before the put
		}
		if it.Expires.IsZero() {
			it.Expires = old.Expires
		}
	}
	if err := w.items.Put(iw.key, encodeItem(it)); err != nil {
		return fmt.Errorf("%s: put: %w", name(), err)
	}
	if !it.Expires.IsZero() {
		if err := w.itemExpiry.Put(expiryKey(it.Expires, iw.key), []byte{}); err != nil {
			return fmt.Errorf("%s: put expiry entry: %w", name(), err)
		}
	}
	return nil
}
