package embedded

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	bolt "go.etcd.io/bbolt"

	"github.com/aurum-cdp/aurum/shared/model/profile"
	"github.com/aurum-cdp/aurum/shared/port/store"
)

// File formats. The meta bucket's "format" key holds the format of the
// file as a decimal number; a file without it, but with buckets, is of
// format 0.
//
// Format 0 (Aurum until December 2026) stored, where format 1 differs:
//
//	profiles     profile id            → version (8 bytes, big-endian) + JSON profile
//	redirects    merged-away profile id → JSON {to, at}
//	identifiers  type 0 value          → claimant profile id
//	records      source 0 record id    → JSON {profile_id, record}
//	events       (as format 1)         → JSON event
//	outbox       (as format 1)         → JSON envelope
//	items        kind 0 key 0 sort     → version (8), counter (8), expiry flag (1), expiry time (12), value
//	item_expiry  expiry time, format 0 items key → (empty)
//
// Format 1 (the package documentation) stores the JSON as blobs, deflated
// against a preset dictionary when that is shorter; versions and counters
// as varints; "p_" profile ids in 13 bytes (packID) as profiles keys,
// identifier claimants and item keys; the common identifier types as one
// byte. Its orderings are those of format 0, so every range read is
// unchanged. At 93,000 rows of the sample CRM shape it takes about a third
// of the bytes (docs/local.md, "Storage").
//
// Open upgrades a format 0 file by copying it into a new file of the
// current format and renaming that over it (the copy is compacted too); a
// crash during the copy leaves the old file whole, and the next Open
// starts again. It refuses a file of a newer format than it knows, saying
// so. Scan presents every item as format 0 stored it, so its readers need
// not follow the format.
const (
	bucketMeta    = "meta"
	metaFormat    = "format"
	currentFormat = 1
)

// upgradeTxBytes bounds the bytes one transaction of an upgrade writes,
// and so the memory its dirty pages take.
const upgradeTxBytes = 8 << 20

// openFile opens the store file at path, upgrading an older format, and
// returns the database with every bucket created.
func openFile(path string, opts Options) (*bolt.DB, error) {
	db, err := openBolt(path, opts)
	if err != nil {
		return nil, err
	}
	format, err := fileFormat(db)
	switch {
	case err != nil:
		db.Close()
		return nil, err
	case format > currentFormat:
		db.Close()
		return nil, fmt.Errorf("file of format %d, newer than this aurum reads (%d): run a newer aurum, or start over with a new data folder", format, currentFormat)
	case format == 0:
		if err := upgrade(db, path); err != nil {
			return nil, fmt.Errorf("upgrade from format 0: %w (the file is unchanged)", err)
		}
		if db, err = openBolt(path, opts); err != nil {
			return nil, err
		}
	}
	if err := db.Update(createBuckets); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// openBolt opens the bbolt file. AllocSize is smaller than bbolt's 16 MiB
// so that a small store's file is not mostly room to grow.
func openBolt(path string, opts Options) (*bolt.DB, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: opts.Timeout, NoSync: opts.NoSync})
	if err != nil {
		return nil, err
	}
	db.AllocSize = allocSize
	return db, nil
}

// allocSize is how far ahead of need a growing file is extended.
const allocSize = 4 << 20

// fileFormat reads the format of db: currentFormat for a new, empty file.
func fileFormat(db *bolt.DB) (int, error) {
	format := currentFormat
	err := db.View(func(tx *bolt.Tx) error {
		meta := tx.Bucket([]byte(bucketMeta))
		if meta == nil {
			c := tx.Cursor()
			if k, _ := c.First(); k != nil {
				format = 0
			}
			return nil
		}
		v := meta.Get([]byte(metaFormat))
		n, err := strconv.Atoi(string(v))
		if err != nil {
			return fmt.Errorf("corrupt format %q", v)
		}
		format = n
		return nil
	})
	return format, err
}

// createBuckets creates the buckets that do not exist yet and records the
// format.
func createBuckets(tx *bolt.Tx) error {
	for _, name := range append(bucketNames, bucketMeta) {
		if _, err := tx.CreateBucketIfNotExists([]byte(name)); err != nil {
			return fmt.Errorf("create bucket %s: %w", name, err)
		}
	}
	return tx.Bucket([]byte(bucketMeta)).Put([]byte(metaFormat), []byte(strconv.Itoa(currentFormat)))
}

// upgrade copies the format 0 database src (open at path) into a new file
// of the current format, closes src and renames the copy over path. Copies
// left by an interrupted upgrade are removed first; src's lock keeps any
// other process out meanwhile.
func upgrade(src *bolt.DB, path string) (err error) {
	defer func() {
		if err != nil {
			src.Close()
		}
	}()
	stale, _ := filepath.Glob(path + ".upgrade-*")
	for _, f := range stale {
		os.Remove(f)
	}
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".upgrade-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	f.Close()
	defer func() {
		if err != nil {
			os.Remove(tmp)
		}
	}()
	if err := copyUpgraded(src, tmp); err != nil {
		return err
	}
	if err := src.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}

// copyUpgraded writes every item of the format 0 database src, re-encoded,
// into a new database at path, filling its pages.
func copyUpgraded(src *bolt.DB, path string) error {
	dst, err := bolt.Open(path, 0o600, &bolt.Options{NoSync: true})
	if err != nil {
		return err
	}
	dst.AllocSize = allocSize
	err = src.View(func(stx *bolt.Tx) error {
		return stx.ForEach(func(name []byte, b *bolt.Bucket) error {
			return copyBucket(dst, string(name), b)
		})
	})
	if err == nil {
		err = dst.Update(createBuckets)
	}
	if err == nil {
		err = dst.Sync()
	}
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	return err
}

// copyBucket copies one format 0 bucket into dst, in transactions of at
// most upgradeTxBytes.
func copyBucket(dst *bolt.DB, name string, src *bolt.Bucket) error {
	conv := layouts[name].from0
	c := src.Cursor()
	k, v := c.First()
	for k != nil {
		err := dst.Update(func(tx *bolt.Tx) error {
			b, err := tx.CreateBucketIfNotExists([]byte(name))
			if err != nil {
				return err
			}
			b.FillPercent = 1
			for size := 0; k != nil && size < upgradeTxBytes; k, v = c.Next() {
				nk, nv := k, v
				if conv != nil {
					if nk, nv, err = conv(k, v); err != nil {
						return fmt.Errorf("%s %q: %w", name, k, err)
					}
				}
				if err := b.Put(nk, nv); err != nil {
					return err
				}
				size += len(nk) + len(nv)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("copy bucket %s: %w", name, err)
		}
	}
	return nil
}

// syncDir flushes a directory entry change (a rename) to disk.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return err
	}
	return nil
}

// layout converts the items of one bucket between format 0 and the
// current format: from0 for an upgrade, to0 for Scan, which presents
// every item as format 0 stored it. A nil func means the same bytes.
type layout struct {
	from0, to0 func(k, v []byte) ([]byte, []byte, error)
}

var layouts = map[string]layout{
	BucketProfiles:    {from0: profileFrom0, to0: profileTo0},
	BucketRedirects:   {from0: blobFrom0, to0: blobTo0},
	BucketIdentifiers: {from0: claimantFrom0, to0: claimantTo0},
	BucketRecords:     {from0: blobFrom0, to0: blobTo0},
	BucketEvents:      {from0: blobFrom0, to0: blobTo0},
	BucketOutbox:      {from0: blobFrom0, to0: blobTo0},
	BucketItems:       {from0: itemFrom0, to0: itemTo0},
	BucketItemExpiry:  {from0: expiryFrom0, to0: expiryTo0},
}

// profile0HeaderLen is the big-endian version before a format 0 profile.
const profile0HeaderLen = 8

func profileFrom0(k, v []byte) ([]byte, []byte, error) {
	if len(v) < profile0HeaderLen {
		return nil, nil, errors.New("corrupt profile value")
	}
	nv := binary.AppendUvarint(nil, binary.BigEndian.Uint64(v))
	return packID(string(k)), appendBlob(nv, v[profile0HeaderLen:]), nil
}

func profileTo0(k, v []byte) ([]byte, []byte, error) {
	version, js, err := profileJSON(v)
	if err != nil {
		return nil, nil, err
	}
	nv := binary.BigEndian.AppendUint64(make([]byte, 0, profile0HeaderLen+len(js)), uint64(version))
	return []byte(unpackID(k)), append(nv, js...), nil
}

func blobFrom0(k, v []byte) ([]byte, []byte, error) { return k, blob(v), nil }

func blobTo0(k, v []byte) ([]byte, []byte, error) {
	js, err := readBlob(v)
	return k, js, err
}

func claimantFrom0(k, v []byte) ([]byte, []byte, error) {
	t, value, ok := bytes.Cut(k, []byte{0})
	if !ok {
		return nil, nil, errors.New("corrupt identifier key")
	}
	return identifierKey(profile.Identifier{Type: string(t), Value: string(value)}), packID(string(v)), nil
}

func claimantTo0(k, v []byte) ([]byte, []byte, error) {
	id, err := splitIdentifierKey(k)
	if err != nil {
		return nil, nil, err
	}
	return join(id.Type, id.Value), []byte(unpackID(v)), nil
}

func itemKeyFrom0(k []byte) ([]byte, error) {
	kind, key, sort, err := splitItemKey0(k)
	if err != nil {
		return nil, err
	}
	return itemKey(kind, key, sort), nil
}

func itemKeyTo0(k []byte) ([]byte, error) {
	kind, key, sort, err := splitItemKey(k)
	if err != nil {
		return nil, err
	}
	return join(kind, key, sort), nil
}

// expiryFrom0 and expiryTo0 convert the item key after an expiry index
// entry's time.
func expiryFrom0(k, v []byte) ([]byte, []byte, error) {
	if len(k) < timeLen {
		return nil, nil, errors.New("corrupt expiry key")
	}
	ik, err := itemKeyFrom0(k[timeLen:])
	return append(bytes.Clone(k[:timeLen]), ik...), v, err
}

func expiryTo0(k, v []byte) ([]byte, []byte, error) {
	if len(k) < timeLen {
		return nil, nil, errors.New("corrupt expiry key")
	}
	ik, err := itemKeyTo0(k[timeLen:])
	return append(bytes.Clone(k[:timeLen]), ik...), v, err
}

// item0HeaderLen is the header of a format 0 item value: version (8),
// counter (8), expiry flag (1) and expiry time (timeLen).
const item0HeaderLen = 8 + 8 + 1 + timeLen

func itemFrom0(k, v []byte) ([]byte, []byte, error) {
	if len(v) < item0HeaderLen {
		return nil, nil, errors.New("corrupt item value")
	}
	nk, err := itemKeyFrom0(k)
	if err != nil {
		return nil, nil, err
	}
	it := decodeItemHeader0(v)
	it.Value = v[item0HeaderLen:]
	return nk, encodeItem(it), nil
}

func itemTo0(k, v []byte) ([]byte, []byte, error) {
	k, err := itemKeyTo0(k)
	if err != nil {
		return nil, nil, err
	}
	it, err := decodeItem("", "", "", v)
	if err != nil {
		return nil, nil, err
	}
	b := make([]byte, 0, item0HeaderLen+len(it.Value))
	b = binary.BigEndian.AppendUint64(b, uint64(it.Version))
	b = binary.BigEndian.AppendUint64(b, uint64(it.N))
	if it.Expires.IsZero() {
		b = append(b, make([]byte, 1+timeLen)...)
	} else {
		b = appendTime(append(b, 1), it.Expires)
	}
	return k, append(b, it.Value...), nil
}

// decodeItemHeader0 decodes the header of a format 0 item value.
func decodeItemHeader0(v []byte) store.Item {
	h := store.Item{
		Version: int64(binary.BigEndian.Uint64(v)),
		N:       int64(binary.BigEndian.Uint64(v[8:])),
	}
	if v[16] == 1 {
		h.Expires = decodeTime(v[17 : 17+timeLen])
	}
	return h
}
