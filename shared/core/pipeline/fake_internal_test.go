package pipeline

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/model/fault"
	"github.com/aurum-cdp/aurum/shared/model/profile"
	"github.com/aurum-cdp/aurum/shared/port/store"
)

// The internal tests check the steps of change and planSplit one by one;
// the flows they make up are tested through the exported API (and the
// store conformance suites) in the external tests.

var st0 = time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)

// stepConfig links on customer id (at most one per profile, keep
// priority), email and phone, and on a composite key of last name and
// birth date.
func stepConfig() Config {
	return Config{
		Identifiers: []config.IdentifierType{
			{Name: "customer_id", Normalizer: "id", MaxPerProfile: 1, OnConflict: config.ConflictKeepPriority},
			{Name: "email", Normalizer: "email"},
			{Name: "phone", Normalizer: "phone"},
		},
		Identity: config.Identity{Rules: []config.MatchRule{
			{Name: "same-customer", Kind: config.RuleExact, Identifiers: []string{"customer_id"}},
			{Name: "same-contact", Kind: config.RuleExact, Identifiers: []string{"email", "phone"}},
			{Name: "name-dob", Kind: config.RuleExact, Attributes: []string{"last_name", "birth_date"}},
		}},
		Sources: []config.Source{{Name: "crm", Kind: config.KindFile}, {Name: "web", Kind: config.KindAPI}},
	}
}

func stepPipeline(t *testing.T, st Store, exts ...Extension) *Pipeline {
	t.Helper()
	p := New(stepConfig(), st, Options{Clock: func() time.Time { return st0 }, Extensions: exts})
	if p.initErr != nil {
		t.Fatalf("New: %v", p.initErr)
	}
	return p
}

func ident(s string) profile.Identifier {
	id, err := profile.ParseIdentifier(s)
	if err != nil {
		panic(err)
	}
	return id
}

func idents(ss ...string) []profile.Identifier {
	var out []profile.Identifier
	for _, s := range ss {
		out = append(out, ident(s))
	}
	return out
}

// fakeStore is a Store and SplitStore in memory: profiles by id (a
// merged-away id maps to its live profile's id through redirect), claims,
// records and items. Commit records the change sets and fails with err
// when set.
type fakeStore struct {
	profiles  map[string]profile.Profile
	redirect  map[string]string
	owners    map[profile.Identifier]store.Owner
	records   map[string]fakeRecord
	items     []store.Item
	seen      map[string]bool
	committed [][]store.Change
	err       error
	page      int
}

type fakeRecord struct {
	rec    profile.Record
	stored string
}

func newFakeStore() *fakeStore {
	return &fakeStore{profiles: map[string]profile.Profile{}, redirect: map[string]string{}, owners: map[profile.Identifier]store.Owner{},
		records: map[string]fakeRecord{}, seen: map[string]bool{}}
}

func (f *fakeStore) live(id string) string {
	for {
		to, ok := f.redirect[id]
		if !ok {
			return id
		}
		id = to
	}
}

func (f *fakeStore) Owners(_ context.Context, ids []profile.Identifier) (map[profile.Identifier]store.Owner, error) {
	out := map[profile.Identifier]store.Owner{}
	for _, id := range ids {
		if o, ok := f.owners[id]; ok {
			out[id] = o
		}
	}
	return out, nil
}

func (f *fakeStore) Profile(_ context.Context, id string) (profile.Profile, error) {
	if p, ok := f.profiles[f.live(id)]; ok {
		return p, nil
	}
	return profile.Profile{}, fmt.Errorf("profile %s: %w", id, fault.ErrNotFound)
}

func (f *fakeStore) Seen(_ context.Context, keys []string) (map[string]bool, error) {
	out := map[string]bool{}
	for _, k := range keys {
		out[k] = f.seen[k]
	}
	return out, nil
}

func (f *fakeStore) Commit(_ context.Context, changes ...store.Change) error {
	f.committed = append(f.committed, changes)
	return f.err
}

// Items returns at most limit items (at most page, when set, so callers
// must follow cursors) after cursor, by sort key.
func (f *fakeStore) Items(_ context.Context, kind, key, _, _ string, limit int, cursor string) ([]store.Item, string, error) {
	var match []store.Item
	for _, it := range f.items {
		if it.Kind == kind && it.Key == key && it.Sort > cursor {
			match = append(match, it)
		}
	}
	slices.SortFunc(match, func(a, b store.Item) int { return strings.Compare(a.Sort, b.Sort) })
	if f.page > 0 {
		limit = min(limit, f.page)
	}
	if len(match) <= limit {
		return match, "", nil
	}
	return match[:limit], match[limit-1].Sort, nil
}

func (f *fakeStore) Record(_ context.Context, source, id string) (profile.Record, string, error) {
	r, ok := f.records[source+"/"+id]
	if !ok {
		return profile.Record{}, "", fmt.Errorf("record %s/%s: %w", source, id, fault.ErrNotFound)
	}
	return r.rec, r.stored, nil
}

func (f *fakeStore) Resolve(_ context.Context, id string) (string, error) { return f.live(id), nil }

// appendingStore adds store.Appender to a fakeStore: appended records
// per profile, and the discards asked for.
type appendingStore struct {
	*fakeStore
	appended  map[string][]profile.Record
	discarded [][]store.Appended
}

func (a *appendingStore) Claimants(context.Context, []profile.Identifier) (map[profile.Identifier]string, error) {
	return nil, nil
}

func (a *appendingStore) Append(context.Context, []store.Append) ([]bool, error) { return nil, nil }

func (a *appendingStore) Discard(_ context.Context, apps []store.Appended) error {
	a.discarded = append(a.discarded, apps)
	return nil
}

func (a *appendingStore) AppendedRecords(_ context.Context, id string) ([]profile.Record, error) {
	return a.appended[id], nil
}
