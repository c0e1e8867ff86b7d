package store

import (
	"context"
	"fmt"
	"slices"

	"github.com/aurum-cdp/aurum/shared/model/profile"
)

// Forgetter is implemented by every package that writes generic items: it
// says which item kinds it owns, what of a person an erasure deletes in
// them, and what of them the person's export shows. Package privacy plans
// the person (their profiles, records and identifiers, a Subject) and
// iterates a registry of Forgetters filled in shared/wire/app, so a new
// stateful feature registers a Forgetter instead of editing privacy. A
// conformance test in shared/wire/app fails when the platform writes an
// item kind no registered Forgetter claims.
//
// Forgetters keep no store: they are handed one on each call.
type Forgetter interface {
	// Kinds are the item kinds (Item.Kind) the package writes, those that
	// hold no personal data (counters, statistics) included: Forget then
	// deletes nothing of them, but the claim keeps the registry total. A
	// kind is claimed by exactly one Forgetter.
	Kinds() []string
	// Forget returns the items of s that the erasure deletes. It may first
	// do side work the erasure needs (leave segments and decrement their
	// counts, rewrite items shared with other people); that work must be
	// idempotent, since a failed erasure is retried from the start.
	Forget(ctx context.Context, st ItemStore, s Subject) (Forgotten, error)
	// Export returns the package's sections of the person's export
	// document, by JSON member name; nil when it has none.
	Export(ctx context.Context, st ItemStore, s Subject) (map[string]any, error)
}

// ItemStore is the generic-item part of a Store, which Forgetters read
// and write.
type ItemStore interface {
	Item(ctx context.Context, kind, key, sort string) (Item, error)
	Items(ctx context.Context, kind, key, from, to string, limit int, cursor string) ([]Item, string, error)
	Commit(ctx context.Context, changes ...Change) error
}

// Subject is a person as package privacy plans them for an erasure or an
// export.
type Subject struct {
	// Profile is the live profile.
	Profile profile.Profile
	// ProfileIDs are the live id first, then every id merged into it.
	ProfileIDs []string
	// Records are the person's records (those still written under one of
	// ProfileIDs), in record key order.
	Records []profile.Record
	// Identifiers are the profile's identifiers and its records'.
	Identifiers []profile.Identifier
}

// Forgotten is what one Forgetter adds to an erasure.
type Forgotten struct {
	// Items are deleted with the erasure (missing items are no error).
	Items []ItemRef
	// Index items are deleted after every Forgetter's Items: the items an
	// erasure is planned from, so that a failed erasure retried later
	// still finds the person's records through them.
	Index []ItemRef
}

// Claims maps every kind the forgetters claim to its Forgetter. A kind
// claimed twice, an empty kind or a nil Forgetter is an error.
func Claims(fs []Forgetter) (map[string]Forgetter, error) {
	out := map[string]Forgetter{}
	for i, f := range fs {
		if f == nil {
			return nil, fmt.Errorf("store: forgetter %d is nil", i)
		}
		for _, k := range f.Kinds() {
			if k == "" {
				return nil, fmt.Errorf("store: forgetter %T claims an empty kind", f)
			}
			if prev, ok := out[k]; ok {
				return nil, fmt.Errorf("store: item kind %s is claimed by %T and %T", k, prev, f)
			}
			out[k] = f
		}
	}
	return out, nil
}

// allPage is the page size of AllItems.
const allPage = 500

// AllItems reads every item of (kind, key), in sort order.
func AllItems(ctx context.Context, st ItemStore, kind, key string) ([]Item, error) {
	var out []Item
	cursor := ""
	for {
		its, next, err := st.Items(ctx, kind, key, "", "", allPage, cursor)
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

// Refs returns the names of its.
func Refs(its []Item) []ItemRef {
	out := make([]ItemRef, 0, len(its))
	for _, it := range its {
		out = append(out, ItemRef{Kind: it.Kind, Key: it.Key, Sort: it.Sort})
	}
	return out
}

// Holds reports whether id is one of s's profile ids.
func (s Subject) Holds(id string) bool { return id != "" && slices.Contains(s.ProfileIDs, id) }
