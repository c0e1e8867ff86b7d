// Package privacy serves the data-subject rights of the GDPR over
// Aurum's store: export everything held about a person (Export), show
// where each attribute came from (Provenance), and erase the person
// (Erase), optionally remembering the erased identifiers, hashed, so that
// replayed old data cannot re-create them (Suppressor).
//
// A person is a live profile and every profile merged into it. Privacy
// plans what is its own by reading, never scanning:
//
//   - records: identity's record index (id.rec: Key profile id, Sort
//     record key, Value the idempotency keys the record was committed
//     with), the provenance of the profile's attributes and tallies, and
//     the merge ledger;
//   - identifiers: the profile's and its records';
//   - idempotency keys: from the record index; for records it lists
//     without keys, the keys the pipeline derives (msg/... for message
//     sources, ContentKey for files, best effort).
//
// Everything else a person leaves in generic store items belongs to the
// package that wrote it: each such package implements store.Forgetter,
// saying which item kinds it owns, which items of the person (a
// store.Subject) to delete, what side work comes first (segments are
// left and their counts decremented, the catalog forgets samples) and
// which sections it adds to the export. The Service iterates the
// registry it is given (filled in shared/wire/app). The store's Eraser
// then deletes all of it, with the profile bodies, redirects, events
// index and pending outbox events naming the profiles, and records a
// ProfileDeleted event. Events already published to the bus, trigger
// deliveries already made and data copied out of Aurum are beyond its
// reach.
package privacy

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/core/identity"
	"github.com/aurum-cdp/aurum/shared/core/pipeline"
	"github.com/aurum-cdp/aurum/shared/model/events"
	"github.com/aurum-cdp/aurum/shared/model/fault"
	"github.com/aurum-cdp/aurum/shared/model/profile"
	"github.com/aurum-cdp/aurum/shared/port/store"
)

// Item kinds of package privacy (claimed by Suppressions).
//
//	pv.supp  key SuppressionKey(id)  sort "s"                     value {"at":...}
const (
	KindSuppressed = "pv.supp"
	suppressedSort = "s"
)

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

// Config is the part of the configuration a Service uses.
type Config struct {
	// Sources are the configured sources: records of message sources
	// (every kind but file) are de-duplicated on their id, which the
	// idempotency keys derived for records missing from the record index
	// follow.
	Sources []config.Source
	// Privacy is the privacy block (nil: defaults).
	Privacy *config.Privacy
}

// ConfigOf returns the part of cfg a Service uses (nil: none).
func ConfigOf(cfg *config.Config) Config {
	if cfg == nil {
		return Config{}
	}
	return Config{Sources: cfg.Sources, Privacy: cfg.Privacy}
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
	st         Store
	forgetters []store.Forgetter
	clock      func() time.Time
	log        *slog.Logger
	byID       map[string]bool // message sources, de-duplicated on record id
	suppress   bool
}

// New returns a service over st. forgetters are the packages that keep
// generic items (the registry of shared/wire/app); an item kind claimed
// twice is an error.
func New(cfg Config, st Store, forgetters []store.Forgetter, opts Options) (*Service, error) {
	if st == nil {
		return nil, fmt.Errorf("privacy: a service needs a store")
	}
	if _, err := store.Claims(forgetters); err != nil {
		return nil, fmt.Errorf("privacy: %w", err)
	}
	s := &Service{st: st, forgetters: slices.Clone(forgetters), clock: opts.Clock, log: opts.Logger, byID: map[string]bool{}}
	if s.clock == nil {
		s.clock = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	for _, src := range cfg.Sources {
		s.byID[src.Name] = src.KeyedByID()
	}
	s.suppress = cfg.Privacy != nil && cfg.Privacy.SuppressErased
	return s, nil
}

// person is everything privacy plans about one person itself.
type person struct {
	profile profile.Profile
	ids     []string // live id first, then merged ids
	records []held   // in record key order
	keys    map[string][]string
	idents  []profile.Identifier
}

// subject is the person as the forgetters see them.
func (ps *person) subject() store.Subject {
	s := store.Subject{Profile: ps.profile, ProfileIDs: ps.ids, Identifiers: ps.idents}
	for _, h := range ps.records {
		s.Records = append(s.Records, h.Record)
	}
	return s
}

// held is one record of the person.
type held struct {
	Record    profile.Record `json:"record"`
	ProfileID string         `json:"profile_id"`
}

// pageSize is the page of Events reads.
const pageSize = 500

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
	refs, err := s.recordKeys(ctx, ps)
	if err != nil {
		return nil, err
	}
	if err := s.loadRecords(ctx, ps, refs); err != nil {
		return nil, err
	}
	return ps, nil
}

// recordKeys lists the keys of the records that may be the person's:
// those of the record index under each of their ids (whose idempotency
// keys it notes), of the merge ledger, and of the profile's provenance.
func (s *Service) recordKeys(ctx context.Context, ps *person) ([]string, error) {
	refs := map[string]bool{}
	addRef := func(k string) {
		if _, _, ok := splitRecordKey(k); ok {
			refs[k] = true
		}
	}
	for _, pid := range ps.ids {
		its, err := store.AllItems(ctx, s.st, identity.ItemRecords, pid)
		if err != nil {
			return nil, err
		}
		for _, it := range its {
			addRef(it.Sort)
			var v identity.RecordIndex
			if json.Unmarshal(it.Value, &v) == nil {
				ps.keys[it.Sort] = append(ps.keys[it.Sort], v.Keys...)
			}
		}
		ledger, err := store.AllItems(ctx, s.st, identity.ItemLedger, pid)
		if err != nil {
			return nil, err
		}
		for _, it := range ledger {
			var e identity.LedgerEntry
			if json.Unmarshal(it.Value, &e) == nil {
				addRef(e.Record)
			}
		}
	}
	for _, a := range ps.profile.Attributes {
		addRef(a.Source + "/" + a.RecordID)
	}
	for _, ts := range ps.profile.Tallies {
		for _, t := range ts {
			addRef(t.Last.Source + "/" + t.Last.RecordID)
		}
	}
	keys := make([]string, 0, len(refs))
	for k := range refs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys, nil
}

// loadRecords reads the records of keys that still belong to the person,
// and collects the identifiers of the profile and of those records.
func (s *Service) loadRecords(ctx context.Context, ps *person, keys []string) error {
	seen := map[profile.Identifier]bool{}
	addID := func(id profile.Identifier) {
		if !seen[id] {
			seen[id] = true
			ps.idents = append(ps.idents, id)
		}
	}
	for _, id := range ps.profile.Identifiers {
		addID(id)
	}
	for _, k := range keys {
		src, rid, _ := splitRecordKey(k)
		rec, owner, err := s.st.Record(ctx, src, rid)
		if errors.Is(err, fault.ErrNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("read record: %w", err)
		}
		if !slices.Contains(ps.ids, owner) {
			continue // another person's record (it moved)
		}
		ps.records = append(ps.records, held{Record: rec, ProfileID: owner})
		for _, id := range rec.Identifiers {
			addID(id)
		}
	}
	return nil
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
	res := Erased{ProfileID: live}
	if s.suppress {
		// Suppress first: data replayed while the erasure runs is dropped.
		if res.Suppressed, err = s.suppressAll(ctx, ps.idents, now); err != nil {
			return Erased{}, fmt.Errorf("privacy: erase %s: %w", live, err)
		}
	}
	// The forgetters' side work (segments left, catalog samples forgotten)
	// comes before the profile goes: a failure leaves the profile, so the
	// erasure is retried, and side work is idempotent.
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
	n, err := s.st.Erase(ctx, plan)
	if err != nil {
		return Erased{}, fmt.Errorf("privacy: erase %s: %w", live, err)
	}
	res.Counts = n
	s.log.InfoContext(ctx, "privacy: profile erased", "profile_id", live, "records", n.Records,
		"identifiers", n.Identifiers, "events", n.Events, "items", n.Items, "suppressed", res.Suppressed)
	return res, nil
}

// suppressAll puts the identifiers on the suppression list and returns
// how many distinct ones it wrote.
func (s *Service) suppressAll(ctx context.Context, ids []profile.Identifier, now time.Time) (int, error) {
	var writes []store.ItemWrite
	val := []byte(`{"at":"` + now.Format(time.RFC3339) + `"}`)
	done := map[string]bool{}
	for _, idf := range ids {
		k := SuppressionKey(idf)
		if done[k] {
			continue
		}
		done[k] = true
		writes = append(writes, store.ItemWrite{Op: store.ItemPut, Item: store.Item{Kind: KindSuppressed, Key: k, Sort: suppressedSort, Value: val}})
	}
	for start := 0; start < len(writes); start += 50 {
		part := store.Change{Items: writes[start:min(start+50, len(writes))]}
		if err := s.st.Commit(ctx, part); err != nil {
			return 0, fmt.Errorf("suppress identifiers: %w", err)
		}
	}
	return len(writes), nil
}

// plan turns a person into a store.Erasure: privacy's own part (profiles,
// records, identifiers, idempotency keys), then every forgetter's items,
// then every forgetter's index items.
func (s *Service) plan(ctx context.Context, ps *person) (store.Erasure, error) {
	e := store.Erasure{ProfileIDs: ps.ids, Identifiers: ps.idents}
	for _, h := range ps.records {
		r := h.Record
		e.Records = append(e.Records, store.RecordRef{Source: r.Source, ID: r.ID})
		keys := ps.keys[r.Key()]
		if len(keys) == 0 {
			keys = s.derivedKeys(r)
		}
		e.Keys = append(e.Keys, keys...)
	}
	subj := ps.subject()
	var index []store.ItemRef
	for _, f := range s.forgetters {
		got, err := f.Forget(ctx, s.st, subj)
		if err != nil {
			return e, err // forgetters name themselves
		}
		e.Items = append(e.Items, validRefs(got.Items)...)
		index = append(index, validRefs(got.Index)...)
	}
	// Index items last: a failed erasure retried later still finds the
	// records through them.
	e.Items = append(e.Items, index...)
	return e, nil
}

// validRefs drops refs with an empty part (a missing key or sort names
// no item).
func validRefs(refs []store.ItemRef) []store.ItemRef {
	return slices.DeleteFunc(slices.Clone(refs), func(r store.ItemRef) bool {
		return r.Kind == "" || r.Key == "" || r.Sort == ""
	})
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
