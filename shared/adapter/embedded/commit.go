package embedded

import (
	"context"
	"encoding/binary"
	"fmt"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/aurum-cdp/aurum/shared/model/fault"
	"github.com/aurum-cdp/aurum/shared/port/store"
)

// Commit implements store.Store. All change sets run in one read-write
// transaction; values are encoded before it starts so the write lock is
// held only for checks and puts. A change set that fails its checks ends
// the call with a *store.CommitError counting the change sets before it,
// which commit; a failed transaction commits none.
func (s *Store) Commit(ctx context.Context, changes ...store.Change) error {
	if len(changes) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("embedded: commit: %w", err)
	}
	// stop is why Commit stopped before the end: an invalid, conflicting
	// or cancelled change set. The change sets before it still commit.
	var stop *store.CommitError
	stopAt := func(i int, err error) {
		stop = &store.CommitError{Applied: i, Err: fmt.Errorf("embedded: commit change %d: %w", i, err)}
	}
	prepared, perr := prepareAll(changes)
	if perr != nil {
		// prepareAll returns the change sets before the first invalid one.
		stop = &store.CommitError{Applied: len(prepared), Err: perr}
	}
	if len(prepared) == 0 {
		if stop != nil {
			return stop
		}
		return nil
	}
	now := s.now()
	err := s.db.Update(func(tx *bolt.Tx) error {
		w := writer{tx: tx}
		w.open()
		for i, p := range prepared {
			if err := ctx.Err(); err != nil {
				stopAt(i, err)
				return nil
			}
			if err := w.check(p, now); err != nil {
				stopAt(i, err)
				return nil
			}
			if err := w.apply(p, now); err != nil {
				return fmt.Errorf("embedded: commit change %d: %w", i, err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if stop != nil {
		return stop
	}
	return nil
}

// change is a store.Change validated and encoded for the buckets.
type change struct {
	keys      [][]byte
	records   []recordWrite
	profiles  []profileWrite
	redirects []redirectWrite
	claims    []claimWrite
	outbox    []outboxWrite
	items     []itemWrite
}

type recordWrite struct {
	key       []byte
	value     []byte
	profileID string
	events    []eventWrite
}

type eventWrite struct {
	sortKey []byte
	value   []byte
}

type profileWrite struct {
	id     string
	expect int64
	value  []byte
}

type redirectWrite struct {
	from, to string
	expect   int64
	value    []byte
}

type claimWrite struct {
	key       []byte
	idType    string
	profileID string
	expect    string
}

type outboxWrite struct {
	id      []byte
	timeKey []byte
	value   []byte
}

// prepare validates c (fault.ErrInvalid) and encodes its values. Messages
// name indexes, ids and identifier types, never identifier values.
func prepare(c store.Change) (*change, error) {
	p := &change{}
	named := make(map[string]bool)
	once := func(kind, key string) bool {
		k := kind + "\x00" + key
		if named[k] {
			return false
		}
		named[k] = true
		return true
	}
	for i, k := range c.Keys {
		if k == "" {
			return nil, fault.Invalidf("key %d: empty", i)
		}
		if !once("key", k) {
			return nil, fault.Invalidf("key %d: named twice", i)
		}
		p.keys = append(p.keys, []byte(k))
	}
	for i, r := range c.Records {
		rec := r.Record
		if err := checkID("source", rec.Source); err != nil {
			return nil, fmt.Errorf("record %d: %w", i, err)
		}
		if rec.ID == "" {
			return nil, fault.Invalidf("record %d: empty id", i)
		}
		if err := checkID("profile id", r.ProfileID); err != nil {
			return nil, fmt.Errorf("record %d: %w", i, err)
		}
		if !once("record", rec.Source+"\x00"+rec.ID) {
			return nil, fault.Invalidf("record %s/%s: named twice", rec.Source, rec.ID)
		}
		v, err := encodeJSON(recordValue{ProfileID: r.ProfileID, Record: rec})
		if err != nil {
			return nil, fault.Invalidf("record %s/%s: encode: %v", rec.Source, rec.ID, err)
		}
		w := recordWrite{key: join(rec.Source, rec.ID), value: v, profileID: r.ProfileID}
		for j, e := range rec.Events {
			if e.ID == "" {
				return nil, fault.Invalidf("record %s/%s: event %d: empty id", rec.Source, rec.ID, j)
			}
			if strings.IndexByte(e.Source, 0) >= 0 {
				return nil, fault.Invalidf("record %s/%s: event %d: source holds a NUL byte", rec.Source, rec.ID, j)
			}
			ev, err := encodeJSON(e)
			if err != nil {
				return nil, fault.Invalidf("record %s/%s: event %d: encode: %v", rec.Source, rec.ID, j, err)
			}
			w.events = append(w.events, eventWrite{sortKey: eventSortKey(e), value: ev})
		}
		p.records = append(p.records, w)
	}
	for i, pw := range c.Profiles {
		id := pw.Profile.ID
		if err := checkID("profile id", id); err != nil {
			return nil, fmt.Errorf("profile %d: %w", i, err)
		}
		if pw.ExpectVersion < 0 {
			return nil, fault.Invalidf("profile %s: negative expected version %d", id, pw.ExpectVersion)
		}
		if pw.Profile.Version != pw.ExpectVersion+1 {
			return nil, fault.Invalidf("profile %s: version %d, want expected version %d + 1", id, pw.Profile.Version, pw.ExpectVersion)
		}
		if !once("profile", id) {
			return nil, fault.Invalidf("profile %s: named twice", id)
		}
		v, err := encodeProfile(pw.Profile)
		if err != nil {
			return nil, fault.Invalidf("profile %s: encode: %v", id, err)
		}
		p.profiles = append(p.profiles, profileWrite{id: id, expect: pw.ExpectVersion, value: v})
	}
	for i, r := range c.Redirects {
		if err := checkID("from", r.From); err != nil {
			return nil, fmt.Errorf("redirect %d: %w", i, err)
		}
		if err := checkID("to", r.To); err != nil {
			return nil, fmt.Errorf("redirect %d: %w", i, err)
		}
		if r.From == r.To {
			return nil, fault.Invalidf("redirect %s: to itself", r.From)
		}
		if !once("profile", r.From) {
			return nil, fault.Invalidf("redirect %s: profile named twice", r.From)
		}
		v, err := encodeJSON(redirectValue{To: r.To, At: r.At})
		if err != nil {
			return nil, fault.Invalidf("redirect %s: encode: %v", r.From, err)
		}
		p.redirects = append(p.redirects, redirectWrite{from: r.From, to: r.To, expect: r.ExpectVersion, value: v})
	}
	for i, cl := range c.Claims {
		id := cl.Identifier
		if err := checkID("identifier type", id.Type); err != nil {
			return nil, fmt.Errorf("claim %d: %w", i, err)
		}
		if id.Value == "" {
			return nil, fault.Invalidf("claim %d: %s identifier: empty value", i, id.Type)
		}
		if err := checkID("profile id", cl.ProfileID); err != nil {
			return nil, fmt.Errorf("claim %d: %w", i, err)
		}
		key := identifierKey(id)
		if !once("identifier", string(key)) {
			return nil, fault.Invalidf("claim %d: %s identifier named twice", i, id.Type)
		}
		p.claims = append(p.claims, claimWrite{key: key, idType: id.Type, profileID: cl.ProfileID, expect: cl.ExpectClaimant})
	}
	for i, e := range c.Outbox {
		if e.ID == "" {
			return nil, fault.Invalidf("outbox event %d: empty id", i)
		}
		if !once("outbox", e.ID) {
			return nil, fault.Invalidf("outbox event %s: named twice", e.ID)
		}
		v, err := encodeRawJSON(e)
		if err != nil {
			return nil, fault.Invalidf("outbox event %s: encode: %v", e.ID, err)
		}
		p.outbox = append(p.outbox, outboxWrite{id: []byte(e.ID), timeKey: appendTime(nil, e.Time), value: v})
	}
	for i, w := range c.Items {
		iw, err := prepareItem(i, w)
		if err != nil {
			return nil, err
		}
		if !once("item", string(iw.key)) {
			return nil, fault.Invalidf("item %s %s/%s: named twice", w.Item.Kind, w.Item.Key, w.Item.Sort)
		}
		p.items = append(p.items, iw)
	}
	return p, nil
}

// checkID rejects empty ids and ids holding the key separator.
func checkID(what, id string) error {
	if id == "" {
		return fault.Invalidf("empty %s", what)
	}
	if strings.IndexByte(id, 0) >= 0 {
		return fault.Invalidf("%s holds a NUL byte", what)
	}
	return nil
}

// writer checks and applies prepared change sets in one transaction.
type writer struct {
	tx                                       *bolt.Tx
	profiles, redirects, children, idents    *bolt.Bucket
	records, events, keys, outbox, outboxIDs *bolt.Bucket
	items, itemExpiry                        *bolt.Bucket
}

func (w *writer) open() {
	b := func(name string) *bolt.Bucket {
		bk := w.tx.Bucket([]byte(name))
		if f, ok := fillPercent[name]; ok {
			bk.FillPercent = f
		}
		return bk
	}
	w.profiles, w.redirects, w.children = b(BucketProfiles), b(BucketRedirects), b(BucketChildren)
	w.idents, w.records, w.events = b(BucketIdentifiers), b(BucketRecords), b(BucketEvents)
	w.keys, w.outbox, w.outboxIDs = b(BucketKeys), b(BucketOutbox), b(BucketOutboxIDs)
	w.items, w.itemExpiry = b(BucketItems), b(BucketItemExpiry)
}

// check verifies p's optimistic conditions against the transaction's view
// (fault.ErrConflict). It writes nothing.
func (w *writer) check(p *change, now time.Time) error {
	for i, k := range p.keys {
		if w.keys.Get(k) != nil {
			return fmt.Errorf("key %d: already recorded: %w", i, fault.ErrConflict)
		}
	}
	for _, pw := range p.profiles {
		if err := w.checkVersion(pw.id, pw.expect, pw.expect == 0); err != nil {
			return err
		}
	}
	local := make(map[string]string, len(p.redirects))
	for _, r := range p.redirects {
		local[r.from] = r.to
	}
	for _, r := range p.redirects {
		if err := w.checkVersion(r.from, r.expect, false); err != nil {
			return fmt.Errorf("redirect: %w", err)
		}
		if err := w.checkAcyclic(r.from, r.to, local); err != nil {
			return err
		}
	}
	for _, c := range p.claims {
		if cur := w.idents.Get(c.key); unpackID(cur) != c.expect {
			return fmt.Errorf("claim %s identifier for profile %s: claimed by another profile: %w", c.idType, c.profileID, fault.ErrConflict)
		}
	}
	for _, iw := range p.items {
		if err := w.checkItem(iw, now); err != nil {
			return err
		}
	}
	return nil
}

// checkVersion verifies that profile id is live at version expect, or,
// with create, that it does not exist at all.
func (w *writer) checkVersion(id string, expect int64, create bool) error {
	if w.redirects.Get([]byte(id)) != nil {
		return fmt.Errorf("profile %s: merged into another profile: %w", id, fault.ErrConflict)
	}
	v := w.profiles.Get(packID(id))
	switch {
	case v == nil && create:
		return nil
	case v == nil:
		return fmt.Errorf("profile %s: not found, want version %d: %w", id, expect, fault.ErrConflict)
	case create:
		return fmt.Errorf("profile %s: already exists: %w", id, fault.ErrConflict)
	}
	got, err := profileVersion(v)
	if err != nil {
		return fmt.Errorf("profile %s: %w", id, err)
	}
	if got != expect {
		return fmt.Errorf("profile %s: at version %d, want %d: %w", id, got, expect, fault.ErrConflict)
	}
	return nil
}

// checkAcyclic verifies that redirecting from to to, together with the
// change set's other redirects (local), leaves no cycle.
func (w *writer) checkAcyclic(from, to string, local map[string]string) error {
	id := to
	for range MaxRedirectChain {
		if id == from {
			return fmt.Errorf("redirect %s to %s: would form a cycle: %w", from, to, fault.ErrConflict)
		}
		if next, ok := local[id]; ok {
			id = next
			continue
		}
		v := w.redirects.Get([]byte(id))
		if v == nil {
			return nil
		}
		var r redirectValue
		if err := decodeJSON(v, &r); err != nil {
			return fmt.Errorf("redirect %s: decode: %w", id, err)
		}
		id = r.To
	}
	return fmt.Errorf("redirect %s to %s: chain longer than %d", from, to, MaxRedirectChain)
}

// apply writes p. check must have passed.
func (w *writer) apply(p *change, now time.Time) error {
	stamp := appendTime(nil, now)
	for _, k := range p.keys {
		if err := w.keys.Put(k, stamp); err != nil {
			return fmt.Errorf("put key: %w", err)
		}
	}
	for _, r := range p.records {
		if err := w.putRecord(r); err != nil {
			return err
		}
	}
	for _, pw := range p.profiles {
		if err := w.profiles.Put(packID(pw.id), pw.value); err != nil {
			return fmt.Errorf("put profile %s: %w", pw.id, err)
		}
	}
	for _, r := range p.redirects {
		if err := w.redirects.Put([]byte(r.from), r.value); err != nil {
			return fmt.Errorf("put redirect %s: %w", r.from, err)
		}
		if err := w.profiles.Delete(packID(r.from)); err != nil {
			return fmt.Errorf("delete profile %s: %w", r.from, err)
		}
		if err := w.children.Put(join(r.to, r.from), stamp); err != nil {
			return fmt.Errorf("put child %s of %s: %w", r.from, r.to, err)
		}
	}
	for _, c := range p.claims {
		if err := w.idents.Put(c.key, packID(c.profileID)); err != nil {
			return fmt.Errorf("put %s identifier: %w", c.idType, err)
		}
	}
	for _, e := range p.outbox {
		if err := deleteOutbox(w.tx, e.id); err != nil {
			return fmt.Errorf("replace outbox event %s: %w", e.id, err)
		}
		seq, err := w.outbox.NextSequence()
		if err != nil {
			return fmt.Errorf("outbox sequence: %w", err)
		}
		key := binary.BigEndian.AppendUint64(append([]byte(nil), e.timeKey...), seq)
		if err := w.outbox.Put(key, e.value); err != nil {
			return fmt.Errorf("put outbox event %s: %w", e.id, err)
		}
		if err := w.outboxIDs.Put(e.id, key); err != nil {
			return fmt.Errorf("put outbox event %s: %w", e.id, err)
		}
	}
	for _, iw := range p.items {
		if err := w.applyItem(iw, now); err != nil {
			return err
		}
	}
	return nil
}

// putRecord upserts a record and re-indexes its events: the entries of
// the version it replaces are removed first, so a re-delivered or updated
// record never doubles its events.
func (w *writer) putRecord(r recordWrite) error {
	if old := w.records.Get(r.key); old != nil {
		var ov recordValue
		if err := decodeJSON(old, &ov); err != nil {
			return fmt.Errorf("decode stored record: %w", err)
		}
		for _, e := range ov.Record.Events {
			if err := w.events.Delete(eventKey(ov.ProfileID, e)); err != nil {
				return fmt.Errorf("delete event %s: %w", e.ID, err)
			}
		}
	}
	if err := w.records.Put(r.key, r.value); err != nil {
		return fmt.Errorf("put record: %w", err)
	}
	prefix := eventPrefix(r.profileID)
	for _, e := range r.events {
		key := append(append(make([]byte, 0, len(prefix)+len(e.sortKey)), prefix...), e.sortKey...)
		if err := w.events.Put(key, e.value); err != nil {
			return fmt.Errorf("put event: %w", err)
		}
	}
	return nil
}
