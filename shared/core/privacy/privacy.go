// Package privacy serves the data-subject rights of the GDPR over
// Aurum's store: export everything held about a person (Export), show
// where each attribute came from (Provenance), and erase the person
// (Erase), optionally remembering the erased identifiers, hashed, so that
// replayed old data cannot re-create them (Suppressor).
//
// A person is a live profile and every profile merged into it. Erase
// plans what belongs to them by reading, never scanning:
//
//   - records: identity's record index (id.rec: Key profile id, Sort
//     record key, Value the idempotency keys the record was committed
//     with), the provenance of the profile's attributes and tallies, and
//     the merge ledger;
//   - identifiers: the profile's and its records';
//   - items: the merge ledger (id.ledger), the block index entries of each
//     record (id.block, from the identity engine's keys), identity's
//     per-profile and per-identifier items (id.rec, id.apart, id.fp,
//     id.top, id.moved), segment history, member, due and RFM-free items
//     (seg.hist, seg.member, seg.due; live counts are decremented),
//     trigger caps and unless markers (trg.cap, trg.unless) and local
//     pending firings (trg.pending);
//   - idempotency keys: from the record index; for records it lists
//     without keys, the keys the pipeline derives (msg/... for message
//     sources, ContentKey for files, best effort).
//
// Before that, catalog.Forget removes the data catalog's samples and top
// values that came from the person's records (the catalog remembers a
// hash of each value's record keys). The store's Eraser then deletes all
// of it, with the profile bodies,
// redirects, events index and pending outbox events naming the profiles,
// and records a ProfileDeleted event. Events already published to the
// bus, trigger firings already delivered (trg.fired holds ids and states
// only and expires) and data copied out of Aurum are beyond its reach.
package privacy

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/core/catalog"
	"github.com/aurum-cdp/aurum/shared/core/identity"
	"github.com/aurum-cdp/aurum/shared/core/pipeline"
	"github.com/aurum-cdp/aurum/shared/core/segment"
	"github.com/aurum-cdp/aurum/shared/core/trigger"
	"github.com/aurum-cdp/aurum/shared/model/events"
	"github.com/aurum-cdp/aurum/shared/model/fault"
	"github.com/aurum-cdp/aurum/shared/model/profile"
	"github.com/aurum-cdp/aurum/shared/port/store"
)

// Item kinds of package privacy.
//
//	pv.supp  key SuppressionKey(id)  sort "s"                     value {"at":...}
const (
	KindSuppressed = "pv.supp"
	suppressedSort = "s"
)

// pendingKey is the key of the local trigger scheduler's pending firings
// (trigger.StoreScheduler).
const pendingKey = "all"

// Store is what the service needs of a store: reads, commits and erasure.
type Store interface {
	Profile(ctx context.Context, id string) (profile.Profile, error)
	Record(ctx context.Context, source, id string) (profile.Record, string, error)
	Events(ctx context.Context, profileID string, limit int, cursor string) ([]profile.Event, string, error)
	Item(ctx context.Context, kind, key, sort string) (store.Item, error)
	Items(ctx context.Context, kind, key, from, to string, limit int, cursor string) ([]store.Item, string, error)
	Commit(ctx context.Context, changes ...store.Change) error
	store.Eraser
}

// Options tune a Service.
type Options struct {
	// Clock; nil means time.Now.
	Clock func() time.Time
	// Logger receives ids and counts, never personal data; nil discards.
	Logger *slog.Logger
}

// Service plans and runs exports and erasures. It is safe for concurrent
// use.
type Service struct {
	cfg      *config.Config
	st       Store
	eng      *identity.Engine
	clock    func() time.Time
	log      *slog.Logger
	byID     map[string]bool // message sources, de-duplicated on record id
	suppress bool
}

// New returns a service over st for the configuration cfg.
func New(cfg *config.Config, st Store, opts Options) (*Service, error) {
	if cfg == nil || st == nil {
		return nil, fmt.Errorf("privacy: a service needs a config and a store")
	}
	eng, err := identity.New(cfg.Identifiers, &cfg.Identity)
	if err != nil {
		return nil, fmt.Errorf("privacy: %w", err)
	}
	s := &Service{cfg: cfg, st: st, eng: eng, clock: opts.Clock, log: opts.Logger, byID: map[string]bool{}}
	if s.clock == nil {
		s.clock = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	for _, src := range cfg.Sources {
		s.byID[src.Name] = src.Kind != config.KindFile
	}
	s.suppress = cfg.Privacy != nil && cfg.Privacy.SuppressErased
	return s, nil
}

// person is everything planned about one person.
type person struct {
	profile   profile.Profile
	ids       []string // live id first, then merged ids
	records   []held   // in record key order
	keys      map[string][]string
	ledger    []store.Item
	history   []store.Item
	idents    []profile.Identifier
	indexRefs []store.ItemRef
}

// held is one record of the person.
type held struct {
	Record    profile.Record `json:"record"`
	ProfileID string         `json:"profile_id"`
}

// pageSize is the page of Items and Events reads.
const pageSize = 500

// allItems reads every item of (kind, key).
func (s *Service) allItems(ctx context.Context, kind, key string) ([]store.Item, error) {
	var out []store.Item
	cursor := ""
	for {
		its, next, err := s.st.Items(ctx, kind, key, "", "", pageSize, cursor)
		if err != nil {
			return nil, fmt.Errorf("read %s items: %w", kind, err)
		}
		out = append(out, its...)
		if next == "" {
			return out, nil
		}
		cursor = next
	}
}

// load plans what belongs to the person profile id resolves to. A
// missing or erased profile is fault.ErrNotFound.
func (s *Service) load(ctx context.Context, id string) (*person, error) {
	p, err := s.st.Profile(ctx, id)
	if err != nil {
		return nil, err
	}
	ps := &person{profile: p, keys: map[string][]string{}}
	ps.ids = append(ps.ids, p.ID)
	for _, m := range p.MergedFrom {
		if !slices.Contains(ps.ids, m) {
			ps.ids = append(ps.ids, m)
		}
	}
	mine := map[string]bool{}
	for _, pid := range ps.ids {
		mine[pid] = true
	}
	refs := map[string]bool{} // record keys
	addRef := func(k string) {
		if _, _, ok := splitRecordKey(k); ok {
			refs[k] = true
		}
	}
	for _, pid := range ps.ids {
		its, err := s.allItems(ctx, identity.ItemRecords, pid)
		if err != nil {
			return nil, err
		}
		for _, it := range its {
			addRef(it.Sort)
			var v identity.RecordIndex
			if json.Unmarshal(it.Value, &v) == nil {
				ps.keys[it.Sort] = append(ps.keys[it.Sort], v.Keys...)
			}
			ps.indexRefs = append(ps.indexRefs, store.ItemRef{Kind: it.Kind, Key: it.Key, Sort: it.Sort})
		}
		ledger, err := s.allItems(ctx, identity.ItemLedger, pid)
		if err != nil {
			return nil, err
		}
		for _, it := range ledger {
			var e identity.LedgerEntry
			if json.Unmarshal(it.Value, &e) == nil {
				addRef(e.Record)
			}
		}
		ps.ledger = append(ps.ledger, ledger...)
		hist, err := s.allItems(ctx, segment.KindHistory, pid)
		if err != nil {
			return nil, err
		}
		ps.history = append(ps.history, hist...)
	}
	for _, a := range p.Attributes {
		addRef(a.Source + "/" + a.RecordID)
	}
	for _, ts := range p.Tallies {
		for _, t := range ts {
			addRef(t.Last.Source + "/" + t.Last.RecordID)
		}
	}
	seen := map[profile.Identifier]bool{}
	addID := func(id profile.Identifier) {
		if !seen[id] {
			seen[id] = true
			ps.idents = append(ps.idents, id)
		}
	}
	for _, id := range p.Identifiers {
		addID(id)
	}
	keys := make([]string, 0, len(refs))
	for k := range refs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		src, rid, _ := splitRecordKey(k)
		rec, owner, err := s.st.Record(ctx, src, rid)
		if errors.Is(err, fault.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read record: %w", err)
		}
		if !mine[owner] {
			continue // another person's record (it moved)
		}
		ps.records = append(ps.records, held{Record: rec, ProfileID: owner})
		for _, id := range rec.Identifiers {
			addID(id)
		}
	}
	return ps, nil
}

// splitRecordKey splits "source/id"; source names hold no slash.
func splitRecordKey(k string) (source, id string, ok bool) {
	source, id, ok = strings.Cut(k, "/")
	return source, id, ok && source != "" && id != ""
}

// Erased is the outcome of an erasure.
type Erased struct {
	ProfileID string             `json:"profile_id"`
	Counts    store.ErasedCounts `json:"erased"`
	// Suppressed is how many identifiers were added to the suppression
	// list (privacy.suppress_erased).
	Suppressed int `json:"suppressed"`
}

// Erase erases the person profile id resolves to (merge redirects are
// followed) and records a ProfileDeleted event. A missing or already
// erased profile is fault.ErrNotFound. A failed erasure can be retried.
func (s *Service) Erase(ctx context.Context, id string) (Erased, error) {
	ps, err := s.load(ctx, id)
	if err != nil {
		return Erased{}, fmt.Errorf("privacy: erase: %w", err)
	}
	now := s.clock().UTC()
	live := ps.profile.ID
	if err := s.leaveSegments(ctx, ps); err != nil {
		return Erased{}, fmt.Errorf("privacy: erase %s: %w", live, err)
	}
	plan, err := s.plan(ctx, ps)
	if err != nil {
		return Erased{}, fmt.Errorf("privacy: erase %s: %w", live, err)
	}
	ev, err := events.New(events.TypeProfileDeleted, now, events.ProfileDeleted{
		Version: events.SchemaVersion, ProfileID: live, Reason: "erasure",
	}, live, "erasure")
	if err != nil {
		return Erased{}, fmt.Errorf("privacy: erase %s: %w", live, err)
	}
	plan.Outbox = []events.Envelope{ev}
	res := Erased{ProfileID: live}
	if s.suppress {
		// Suppress first: data replayed while the erasure runs is dropped.
		var ch store.Change
		val := []byte(`{"at":"` + now.Format(time.RFC3339) + `"}`)
		done := map[string]bool{}
		for _, idf := range ps.idents {
			k := SuppressionKey(idf)
			if done[k] {
				continue
			}
			done[k] = true
			ch.Items = append(ch.Items, store.ItemWrite{Op: store.ItemPut, Item: store.Item{Kind: KindSuppressed, Key: k, Sort: suppressedSort, Value: val}})
		}
		for start := 0; start < len(ch.Items); start += 50 {
			part := store.Change{Items: ch.Items[start:min(start+50, len(ch.Items))]}
			if err := s.st.Commit(ctx, part); err != nil {
				return Erased{}, fmt.Errorf("privacy: erase %s: suppress identifiers: %w", live, err)
			}
		}
		res.Suppressed = len(ch.Items)
	}
	// The catalog's samples and top values of the person's records go
	// before the profile: a failure leaves the profile, so the erasure is
	// retried, and Forget is idempotent.
	keys := make([]string, 0, len(ps.records))
	for _, h := range ps.records {
		keys = append(keys, h.Record.Key())
	}
	forgotten, err := catalog.Forget(ctx, s.st, keys)
	if err != nil {
		return Erased{}, fmt.Errorf("privacy: erase %s: %w", live, err)
	}
	n, err := s.st.Erase(ctx, plan)
	if err != nil {
		return Erased{}, fmt.Errorf("privacy: erase %s: %w", live, err)
	}
	res.Counts = n
	s.log.InfoContext(ctx, "privacy: profile erased", "profile_id", live, "records", n.Records,
		"identifiers", n.Identifiers, "events", n.Events, "items", n.Items, "suppressed", res.Suppressed,
		"catalog_values", forgotten)
	return res, nil
}

// leaveSegments removes the person's member items and decrements the
// live counts of the segments they are in, one change per segment that
// holds only if the member item is still there (so a retry never counts
// twice).
func (s *Service) leaveSegments(ctx context.Context, ps *person) error {
	pid := ps.profile.ID
	shard := segment.Shard(pid)
	for _, seg := range slices.Sorted(maps.Keys(ps.profile.Segments)) {
		mk := seg + "|" + shard
		it, err := s.st.Item(ctx, segment.KindMember, mk, pid)
		if errors.Is(err, fault.ErrNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("read membership of segment %s: %w", seg, err)
		}
		err = s.st.Commit(ctx, store.Change{Items: []store.ItemWrite{
			{Op: store.ItemDelete, ExpectVersion: it.Version, Item: store.Item{Kind: segment.KindMember, Key: mk, Sort: pid}},
			{Op: store.ItemAdd, Item: store.Item{Kind: segment.KindCount, Key: seg, Sort: shard, N: -1}},
		}})
		if err != nil && !errors.Is(err, fault.ErrConflict) {
			return fmt.Errorf("leave segment %s: %w", seg, err)
		}
	}
	return nil
}

// plan turns a person into a store.Erasure.
func (s *Service) plan(ctx context.Context, ps *person) (store.Erasure, error) {
	e := store.Erasure{ProfileIDs: ps.ids, Identifiers: ps.idents}
	add := func(kind, key, sort string) {
		if kind != "" && key != "" && sort != "" {
			e.Items = append(e.Items, store.ItemRef{Kind: kind, Key: key, Sort: sort})
		}
	}
	for _, h := range ps.records {
		r := h.Record
		e.Records = append(e.Records, store.RecordRef{Source: r.Source, ID: r.ID})
		keys := ps.keys[r.Key()]
		if len(keys) == 0 {
			keys = s.derivedKeys(r)
		}
		e.Keys = append(e.Keys, keys...)
		for _, k := range s.eng.Keys(r) {
			add(identity.ItemBlock, identity.BlockKey(k), r.Key())
		}
	}
	for _, it := range ps.ledger {
		add(it.Kind, it.Key, it.Sort)
	}
	for _, it := range ps.history {
		add(it.Kind, it.Key, it.Sort)
	}
	for _, id := range ps.idents {
		add(identity.ItemFingerprints, identity.IdentifierKey(id), identity.FingerprintSrt)
	}
	segIDs := make([]string, 0, len(s.cfg.Segments))
	for _, sg := range s.cfg.Segments {
		segIDs = append(segIDs, sg.ID)
	}
	for _, pid := range ps.ids {
		shard := segment.Shard(pid)
		for _, seg := range segIDs {
			add(segment.KindMember, seg+"|"+shard, pid)
		}
		add(identity.ItemMoved, pid, identity.MovedSort)
		apart, err := s.allItems(ctx, identity.ItemApart, pid)
		if err != nil {
			return e, err
		}
		for _, it := range apart {
			add(it.Kind, it.Key, it.Sort)
			add(it.Kind, it.Sort, it.Key)
		}
		for _, tr := range s.cfg.Triggers {
			for _, kind := range []string{trigger.KindCap, trigger.KindUnless} {
				its, err := s.allItems(ctx, kind, tr.ID+"/"+pid)
				if err != nil {
					return e, err
				}
				for _, it := range its {
					add(it.Kind, it.Key, it.Sort)
				}
			}
		}
	}
	p := ps.profile
	if !p.NextEvalAt.IsZero() {
		add(segment.KindDue, segment.Shard(p.ID), segment.SortTime(p.NextEvalAt)+"|"+p.ID)
	}
	for _, sort := range identity.TopSorts(p.RecordCount, p.ID) {
		add(identity.ItemTop, identity.TopKey, sort)
	}
	if len(s.cfg.Triggers) > 0 {
		pending, err := s.allItems(ctx, trigger.KindPending, pendingKey)
		if err != nil {
			return e, err
		}
		for _, it := range pending {
			var pd struct {
				ProfileID string `json:"profile_id"`
			}
			if json.Unmarshal(it.Value, &pd) == nil && slices.Contains(ps.ids, pd.ProfileID) {
				add(it.Kind, it.Key, it.Sort)
			}
		}
	}
	// Index items last: a failed erasure retried later still finds the
	// records through them.
	e.Items = append(e.Items, ps.indexRefs...)
	return e, nil
}

// derivedKeys are the idempotency keys the pipeline would have recorded
// for r (see pipeline.Pipeline): exact for message sources; for file
// sources ContentKey, which matches when the record's observed time was
// set at ingestion.
func (s *Service) derivedKeys(r profile.Record) []string {
	if s.byID[r.Source] {
		return []string{"msg/" + r.Source + "/" + r.ID}
	}
	return []string{pipeline.ContentKey(r)}
}

// SuppressionKey is the store key of an erased identifier: a salted
// SHA-256, so the suppression list holds no identifier value.
func SuppressionKey(id profile.Identifier) string {
	h := sha256.Sum256([]byte("aurum-suppress\x00" + id.Type + "\x00" + id.Value))
	return hex.EncodeToString(h[:])
}
