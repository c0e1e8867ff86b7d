// Package embedded implements the Store port (package store) on a single
// bbolt file, for Aurum's local mode and tests.
//
// Layout (file format 1, see format.go): one bbolt bucket per kind of item.
// "blob" is a tag byte then the JSON, deflated against a preset dictionary
// when that is shorter (codec.go); "id" is a profile id as packID stores
// it (13 bytes for Aurum's "p_" ids).
//
//	profiles     id                               → version (varint) + blob of the profile
//	redirects    merged-away profile id           → blob {to, at}
//	children     survivor id 0 merged id          → redirect time
//	identifiers  type code + value (keys.go)      → claimant id
//	records      source 0 record id               → blob {profile_id, record}
//	events       profile id 0 inverted time, source 0 event id → blob of the event
//	keys         idempotency key                  → commit time
//	outbox       time, sequence                   → blob of the envelope (never deflated)
//	outbox_ids   envelope id                      → outbox key
//	items        kind 0 id of the key 0 sort      → header + blob of the value
//	item_expiry  expiry time, items key           → (empty)
//	meta         "format"                         → the file format, in decimal
//
// Scan presents every bucket but meta as format 0 stored it (JSON values,
// raw ids; the layout of format.go), whatever the file's format.
//
// Ids, sources and identifier types must not contain NUL bytes. The events
// index is keyed so that a forward scan yields a profile's events newest
// first. A merge writes one redirect and one children entry: the merged
// profile's events, records and identifiers are not rewritten, and
// Store.Events merges the event streams of a profile and of everything
// merged into it.
//
// Generic items (store.Item) are keyed kind 0 key 0 sort (keys.go). Kind,
// key and sort hold no NUL byte, so the key is unambiguous (kind "a" with
// key "b|c" and kind "a|b" with key "c" never meet), and the items of one
// (kind, key) are one contiguous run ordered by sort bytewise, as DynamoDB
// orders string sort keys: Store.Items is a single cursor seek. An item
// value is a header (version and counter as varints, an expiry flag byte,
// the expiry time as in the other time keys when the flag is 1) followed by
// the blob of the Value. Items with an expiry also have an entry in
// item_expiry, ordered by time, so Store.Sweep deletes expired items
// without reading the live ones. An item whose expiry is not after the
// store's clock (Options.Now) is treated as absent by every read and write
// even before Sweep removes it; the process owning the store (local mode)
// calls Sweep periodically to reclaim the space.
//
// Commit runs all its change sets in one read-write transaction: each
// change set is checked against the transaction's own view before any of
// its writes, so a failing change set leaves no trace while those before it
// commit.
package embedded

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/aurum-cdp/aurum/shared/model/events"
	"github.com/aurum-cdp/aurum/shared/model/fault"
	"github.com/aurum-cdp/aurum/shared/model/profile"
	"github.com/aurum-cdp/aurum/shared/port/store"
)

// Bucket names, as reported by Scan.
const (
	BucketProfiles    = "profiles"
	BucketRedirects   = "redirects"
	BucketChildren    = "children"
	BucketIdentifiers = "identifiers"
	BucketRecords     = "records"
	BucketEvents      = "events"
	BucketKeys        = "keys"
	BucketOutbox      = "outbox"
	BucketOutboxIDs   = "outbox_ids"
	BucketItems       = "items"
	BucketItemExpiry  = "item_expiry"
)

var bucketNames = []string{
	BucketProfiles, BucketRedirects, BucketChildren, BucketIdentifiers,
	BucketRecords, BucketEvents, BucketKeys, BucketOutbox, BucketOutboxIDs,
	BucketItems, BucketItemExpiry,
}

// MaxRedirectChain bounds the redirects followed to resolve a profile id.
const MaxRedirectChain = 64

// Options configure Open.
type Options struct {
	// Timeout bounds the wait for the file lock held by another process;
	// zero waits forever.
	Timeout time.Duration
	// NoSync skips fsync after each commit: faster, but a crash may lose
	// recent commits. For tests and benchmarks.
	NoSync bool
	// Now is the store's clock: item expiry is judged and commit times are
	// stamped with it. Nil means time.Now. Tests set it to move time.
	Now func() time.Time
}

// Store is a Store on a bbolt file. It is safe for concurrent use; commits
// are serialized by bbolt's single writer.
type Store struct {
	db    *bolt.DB
	clock func() time.Time
}

var _ store.Store = (*Store)(nil)

// Open opens the store file at path, creating it and its parent
// directories if needed.
func Open(path string, opts Options) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("embedded: open %s: %w", path, err)
	}
	db, err := openFile(path, opts)
	if err != nil {
		if errors.Is(err, bolterrors.ErrTimeout) {
			err = fmt.Errorf("%w: file locked by another process", fault.ErrRetryable)
		}
		return nil, fmt.Errorf("embedded: open %s: %w", path, err)
	}
	return &Store{db: db, clock: opts.Now}, nil
}

// Path returns the path of the store file.
func (s *Store) Path() string { return s.db.Path() }

// Close closes the file. Closing twice is harmless.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("embedded: close: %w", err)
	}
	return nil
}

// view runs fn in a read-only transaction after checking ctx.
func (s *Store) view(ctx context.Context, fn func(*bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.View(fn)
}

// Owners implements store.Store.
func (s *Store) Owners(ctx context.Context, ids []profile.Identifier) (map[profile.Identifier]store.Owner, error) {
	out := make(map[profile.Identifier]store.Owner, len(ids))
	err := s.view(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(BucketIdentifiers))
		for _, id := range ids {
			v := b.Get(identifierKey(id))
			if v == nil {
				continue
			}
			claimant := unpackID(v)
			live, err := resolve(tx, claimant)
			if err != nil {
				return err
			}
			out[id] = store.Owner{Claimant: claimant, ProfileID: live}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("embedded: owners: %w", err)
	}
	return out, nil
}

// Profile implements store.Store.
func (s *Store) Profile(ctx context.Context, id string) (profile.Profile, error) {
	var p profile.Profile
	err := s.view(ctx, func(tx *bolt.Tx) error {
		live, err := resolve(tx, id)
		if err != nil {
			return err
		}
		v := tx.Bucket([]byte(BucketProfiles)).Get(packID(live))
		if v == nil {
			return fault.ErrNotFound
		}
		return decodeProfile(v, &p)
	})
	if err != nil {
		return profile.Profile{}, fmt.Errorf("embedded: profile %s: %w", id, err)
	}
	return p, nil
}

// Resolve implements store.Store.
func (s *Store) Resolve(ctx context.Context, id string) (string, error) {
	var live string
	err := s.view(ctx, func(tx *bolt.Tx) error {
		var err error
		live, err = resolve(tx, id)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("embedded: resolve %s: %w", id, err)
	}
	return live, nil
}

// Record implements store.Store.
func (s *Store) Record(ctx context.Context, source, id string) (profile.Record, string, error) {
	var rv recordValue
	err := s.view(ctx, func(tx *bolt.Tx) error {
		v := tx.Bucket([]byte(BucketRecords)).Get(join(source, id))
		if v == nil {
			return fault.ErrNotFound
		}
		return decodeJSON(v, &rv)
	})
	if err != nil {
		return profile.Record{}, "", fmt.Errorf("embedded: record %s/%s: %w", source, id, err)
	}
	return rv.Record, rv.ProfileID, nil
}

// Seen implements store.Store.
func (s *Store) Seen(ctx context.Context, keys []string) (map[string]bool, error) {
	out := make(map[string]bool, len(keys))
	err := s.view(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(BucketKeys))
		for _, k := range keys {
			if b.Get([]byte(k)) != nil {
				out[k] = true
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("embedded: seen: %w", err)
	}
	return out, nil
}

// Outbox implements store.Store.
func (s *Store) Outbox(ctx context.Context, limit int) ([]events.Envelope, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("embedded: outbox: limit %d: %w", limit, fault.ErrInvalid)
	}
	var out []events.Envelope
	err := s.view(ctx, func(tx *bolt.Tx) error {
		c := tx.Bucket([]byte(BucketOutbox)).Cursor()
		for k, v := c.First(); k != nil && len(out) < limit; k, v = c.Next() {
			var e events.Envelope
			if err := decodeJSON(v, &e); err != nil {
				return fmt.Errorf("decode envelope: %w", err)
			}
			out = append(out, e)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("embedded: outbox: %w", err)
	}
	return out, nil
}

// Ack implements store.Store.
func (s *Store) Ack(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("embedded: ack: %w", err)
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		for _, id := range ids {
			if err := deleteOutbox(tx, []byte(id)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("embedded: ack: %w", err)
	}
	return nil
}

// deleteOutbox removes the outbox entry with the given envelope id, if any.
func deleteOutbox(tx *bolt.Tx, id []byte) error {
	ids := tx.Bucket([]byte(BucketOutboxIDs))
	k := ids.Get(id)
	if k == nil {
		return nil
	}
	if err := tx.Bucket([]byte(BucketOutbox)).Delete(k); err != nil {
		return err
	}
	return ids.Delete(id)
}

// resolve follows redirects from id.
func resolve(tx *bolt.Tx, id string) (string, error) {
	b := tx.Bucket([]byte(BucketRedirects))
	for range MaxRedirectChain {
		v := b.Get([]byte(id))
		if v == nil {
			return id, nil
		}
		var r redirectValue
		if err := decodeJSON(v, &r); err != nil {
			return "", fmt.Errorf("decode redirect: %w", err)
		}
		id = r.To
	}
	return "", fmt.Errorf("redirect chain longer than %d", MaxRedirectChain)
}

// Stats counts the items of a store.
type Stats struct {
	Profiles    int `json:"profiles"`
	Redirects   int `json:"redirects"`
	Identifiers int `json:"identifiers"`
	Records     int `json:"records"`
	Events      int `json:"events"`
	Keys        int `json:"keys"`
	Outbox      int `json:"outbox"`
	Items       int `json:"items"`
}

// Stats counts the items in each bucket. It walks bucket pages: use it for
// operations and tests, not on request paths.
func (s *Store) Stats(ctx context.Context) (Stats, error) {
	var st Stats
	err := s.view(ctx, func(tx *bolt.Tx) error {
		n := func(name string) int { return tx.Bucket([]byte(name)).Stats().KeyN }
		st = Stats{
			Profiles:    n(BucketProfiles),
			Redirects:   n(BucketRedirects),
			Identifiers: n(BucketIdentifiers),
			Records:     n(BucketRecords),
			Events:      n(BucketEvents),
			Keys:        n(BucketKeys),
			Outbox:      n(BucketOutbox),
			Items:       n(BucketItems),
		}
		return nil
	})
	if err != nil {
		return Stats{}, fmt.Errorf("embedded: stats: %w", err)
	}
	return st, nil
}

// Scan calls fn for every item of every bucket, in one consistent snapshot,
// as format 0 stored it (see format.go): key and value hold the bytes of
// the layout in the package documentation, with JSON values, whatever the
// file's format. value is valid only during the call. An error from fn
// stops the scan and is returned wrapped.
func (s *Store) Scan(ctx context.Context, fn func(bucket, key string, value []byte) error) error {
	err := s.view(ctx, func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			bucket := string(name)
			if bucket == bucketMeta {
				return nil
			}
			to0 := layouts[bucket].to0
			return b.ForEach(func(k, v []byte) error {
				if to0 != nil {
					var err error
					if k, v, err = to0(k, v); err != nil {
						return fmt.Errorf("%s %q: %w", bucket, k, err)
					}
				}
				return fn(bucket, string(k), v)
			})
		})
	})
	if err != nil {
		return fmt.Errorf("embedded: scan: %w", err)
	}
	return nil
}

// Value encodings (format 1; see format.go).

type redirectValue struct {
	To string    `json:"to"`
	At time.Time `json:"at"`
}

type recordValue struct {
	ProfileID string         `json:"profile_id"`
	Record    profile.Record `json:"record"`
}

// encodeJSON encodes v as a blob of its JSON.
func encodeJSON(v any) ([]byte, error) {
	js, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return blob(js), nil
}

// encodeRawJSON encodes v as a raw blob of its JSON: for outbox envelopes,
// which the relay deletes moments after the commit, so compressing them
// would cost time and save no space.
func encodeRawJSON(v any) ([]byte, error) {
	js, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append([]byte{blobRaw}, js...), nil
}

// decodeJSON decodes a blob of JSON into v.
func decodeJSON(b []byte, v any) error {
	js, err := readBlob(b)
	if err != nil {
		return err
	}
	return json.Unmarshal(js, v)
}

// encodeProfile prefixes the profile's blob with its version (a varint) so
// version checks need not decode the body.
func encodeProfile(p profile.Profile) ([]byte, error) {
	js, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	v := binary.AppendUvarint(make([]byte, 0, len(js)/2+16), uint64(p.Version))
	return appendBlob(v, js), nil
}

func profileVersion(v []byte) (int64, error) {
	version, _, err := readUvarint(v)
	if err != nil {
		return 0, errors.New("corrupt profile value")
	}
	return int64(version), nil
}

// profileJSON returns a stored profile's version and JSON body.
func profileJSON(v []byte) (int64, []byte, error) {
	version, rest, err := readUvarint(v)
	if err != nil {
		return 0, nil, errors.New("corrupt profile value")
	}
	js, err := readBlob(rest)
	if err != nil {
		return 0, nil, fmt.Errorf("corrupt profile value: %w", err)
	}
	return int64(version), js, nil
}

func decodeProfile(v []byte, p *profile.Profile) error {
	_, js, err := profileJSON(v)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(js, p); err != nil {
		return fmt.Errorf("decode profile: %w", err)
	}
	return nil
}

// Key encodings.

// join joins key parts with NUL separators.
func join(parts ...string) []byte {
	n := len(parts) - 1
	for _, p := range parts {
		n += len(p)
	}
	b := make([]byte, 0, n)
	for i, p := range parts {
		if i > 0 {
			b = append(b, 0)
		}
		b = append(b, p...)
	}
	return b
}

// timeLen is the length of an encoded time.
const timeLen = 12

// appendTime appends t so that byte order is time order: Unix seconds with
// the sign bit flipped, then nanoseconds.
func appendTime(b []byte, t time.Time) []byte {
	b = binary.BigEndian.AppendUint64(b, uint64(t.Unix())^(1<<63))
	return binary.BigEndian.AppendUint32(b, uint32(t.Nanosecond()))
}

// appendInvertedTime appends t so that byte order is reverse time order.
func appendInvertedTime(b []byte, t time.Time) []byte {
	n := len(b)
	b = appendTime(b, t)
	for i := n; i < len(b); i++ {
		b[i] = ^b[i]
	}
	return b
}

// eventSortKey orders a profile's events newest first; it is the part of
// an events key after "profile id 0", and the content of an Events cursor.
func eventSortKey(e profile.Event) []byte {
	b := make([]byte, 0, timeLen+len(e.Source)+1+len(e.ID))
	b = appendInvertedTime(b, e.Timestamp)
	b = append(b, e.Source...)
	b = append(b, 0)
	return append(b, e.ID...)
}

// eventPrefix is the prefix of all events keys of a profile.
func eventPrefix(profileID string) []byte {
	return append([]byte(profileID), 0)
}

func eventKey(profileID string, e profile.Event) []byte {
	return append(eventPrefix(profileID), eventSortKey(e)...)
}
