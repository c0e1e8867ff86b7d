// Package store defines the Store port: everything Aurum persists — source
// records, profiles (golden records), the identifier index, merge redirects,
// idempotency keys and the transactional outbox — and the contract every
// implementation honours.
//
// Implementations live in subpackages, one per technology: store/embedded
// (bbolt, local mode) and store/dynamo (DynamoDB). Both run the conformance
// suite in store/storetest, in the style of go-cloud's drivertest.
//
// Errors are the portable kinds of package fault: ErrNotFound for a missing
// item and ErrConflict for a failed optimistic check.
package store

import (
	"context"
	"time"

	"github.com/aurum-cdp/aurum/shared/model/events"
	"github.com/aurum-cdp/aurum/shared/model/profile"
)

// Store persists Aurum's state. All methods are safe for concurrent use.
type Store interface {
	// Owners returns, for each identifier that is claimed, its owner: the
	// profile that claimed it and the live profile it resolves to after
	// following merge redirects. Unclaimed identifiers are absent.
	Owners(ctx context.Context, ids []profile.Identifier) (map[profile.Identifier]Owner, error)
	// Profile returns the live profile id resolves to, following merge
	// redirects. A missing or erased id is fault.ErrNotFound.
	Profile(ctx context.Context, id string) (profile.Profile, error)
	// Resolve follows merge redirects from id to the live profile id
	// without reading the profile. An id without a redirect resolves to
	// itself.
	Resolve(ctx context.Context, id string) (string, error)
	// Record returns a stored source record and the profile it belongs to
	// (as written; follow with Resolve).
	Record(ctx context.Context, source, id string) (profile.Record, string, error)
	// Seen reports which idempotency keys are already recorded.
	Seen(ctx context.Context, keys []string) (map[string]bool, error)
	// Events returns a profile's events, newest first, at most limit, after
	// the opaque cursor ("" for the first page). It returns the cursor of
	// the next page, "" when there is none (a non-empty cursor may lead to
	// an empty last page). id is resolved as in Profile; events of profiles
	// merged into it are included. An id without events yields none.
	Events(ctx context.Context, profileID string, limit int, cursor string) ([]profile.Event, string, error)
	// Commit applies change sets in order. Each change set is atomic: all
	// of it or none of it is written. Commit stops at the first change set
	// that fails its checks and returns fault.ErrConflict; the change sets
	// before it may have been applied (each stays atomic and idempotent, so
	// the caller re-reads and retries from the failed one). Its error is
	// then a *CommitError saying how many were applied (see Applied).
	Commit(ctx context.Context, changes ...Change) error
	// Item returns one generic item; a missing item, or one whose Expires
	// is not after the store's clock, is fault.ErrNotFound.
	Item(ctx context.Context, kind, key, sort string) (Item, error)
	// Items returns the items of (kind, key) whose sort keys lie in
	// [from, to) in ascending order ("" for to means no upper bound), at
	// most limit, after the opaque cursor ("" for the first page), and the
	// cursor of the next page ("" when there is none). Expired items may
	// still be returned until the store removes them; callers compare
	// Item.Expires with their clock.
	Items(ctx context.Context, kind, key, from, to string, limit int, cursor string) ([]Item, string, error)
	// Outbox returns up to limit unpublished events, oldest first.
	Outbox(ctx context.Context, limit int) ([]events.Envelope, error)
	// Ack removes published events from the outbox.
	Ack(ctx context.Context, ids []string) error
	// Close releases the store's resources.
	Close() error
}

// Owner is who holds a claimed identifier.
type Owner struct {
	// Claimant is the profile that claimed the identifier. After a merge it
	// may be a redirect (merge cost stays bounded: identifiers are not
	// rewritten when profiles merge).
	Claimant string
	// ProfileID is the live profile the claimant resolves to.
	ProfileID string
}

// Change is one atomic change set, produced by the pipeline for one record.
// Its checks see the state before the change (including the change sets
// before it in the same Commit). A change names each item — key, record,
// profile (written or redirected), identifier, outbox event id — at most
// once; a change that breaks this or carries a malformed item fails with
// fault.ErrInvalid and writes nothing.
type Change struct {
	// Keys are idempotency keys to record; the change fails with
	// fault.ErrConflict if any of them is already recorded.
	Keys []string
	// Records to upsert, each attached to a profile.
	Records []RecordWrite
	// Profiles to write, each with an optimistic version check.
	Profiles []ProfileWrite
	// Redirects turn merged-away profiles into pointers to the survivor.
	Redirects []Redirect
	// Claims attach identifiers to profiles.
	Claims []Claim
	// Outbox events, published if and only if the change commits.
	Outbox []events.Envelope
	// Items are writes of generic items, atomic with the rest.
	Items []ItemWrite
}

// Item is a generic piece of state owned by a package other than the store
// (the merge ledger, segment membership and history, due times, trigger
// state, counters), addressed by Kind (a namespace such as "seg.member"),
// Key (usually a profile id or a shard) and Sort (ordered within a key).
// Kind, Key and Sort must be non-empty and hold no NUL byte. In DynamoDB
// Kind+Key form the partition key and Sort the sort key, so an item is
// read by key and a key's items are read in Sort order without scanning.
type Item struct {
	Kind string `json:"kind"`
	Key  string `json:"key"`
	Sort string `json:"sort"`
	// Value is the item's JSON payload (at most 64 KiB).
	Value []byte `json:"value,omitempty"`
	// N is the item's counter; ItemAdd changes it atomically.
	N int64 `json:"n,omitempty"`
	// Version increases by one on every write of the item (1 after the
	// first); ItemReplace and ItemDelete may check it.
	Version int64 `json:"version"`
	// Expires, if set, lets the store delete the item after that time
	// (DynamoDB TTL; the embedded store on read and in a sweep).
	Expires time.Time `json:"expires,omitzero"`
}

// ItemOp is what an ItemWrite does.
type ItemOp uint8

const (
	// ItemPut writes the item whatever is there.
	ItemPut ItemOp = iota
	// ItemCreate writes the item only if it does not exist (or has
	// expired); otherwise the change fails with fault.ErrConflict. It
	// makes "at most once" facts: a fired trigger, a ledger entry.
	ItemCreate
	// ItemReplace writes the item only if it exists at ExpectVersion
	// (0: at any version); otherwise fault.ErrConflict.
	ItemReplace
	// ItemDelete removes the item; with ExpectVersion > 0 only at that
	// version (otherwise fault.ErrConflict). Deleting a missing item
	// without a version check is not an error.
	ItemDelete
	// ItemAdd adds Item.N to the item's counter, creating the item at
	// Item.N if missing; Value and Expires are set when not empty. Many
	// writers may add to one counter concurrently.
	ItemAdd
)

// ItemWrite is one write of a generic item within a Change.
type ItemWrite struct {
	Op            ItemOp
	Item          Item
	ExpectVersion int64
}

// RecordWrite stores a record under a profile. Its events are indexed for
// Store.Events under that profile.
type RecordWrite struct {
	Record    profile.Record
	ProfileID string
}

// ProfileWrite writes a profile body. ExpectVersion is the version the
// stored profile must have (0: it must not exist yet); Profile.Version is
// the new version and must be ExpectVersion+1 (else fault.ErrInvalid).
type ProfileWrite struct {
	Profile       profile.Profile
	ExpectVersion int64
}

// Redirect replaces profile From (which must be at version ExpectVersion)
// with a pointer to profile To. Reads of From resolve to To; From can no
// longer be written or redirected (fault.ErrConflict).
type Redirect struct {
	From          string
	To            string
	ExpectVersion int64
	At            time.Time
}

// Claim attaches Identifier to ProfileID. It fails with fault.ErrConflict
// unless the identifier's current claimant is ExpectClaimant ("" means it
// must be unclaimed).
type Claim struct {
	Identifier     profile.Identifier
	ProfileID      string
	ExpectClaimant string
}

// Eraser is implemented by stores that can erase a person (a GDPR erasure
// request): package privacy plans what belongs to the person and Erase
// removes it. Both store implementations provide it; it is a separate
// interface so that test doubles of Store need not.
type Eraser interface {
	// Erase removes what e names, and everything the store keeps under
	// e.ProfileIDs (profile bodies, merge redirects and markers, the
	// events index), and pending outbox events whose detail names one of
	// e.ProfileIDs (profile_id or merged_profile_ids); then it records
	// e.Outbox. Records and identifier claims are removed only while they
	// belong to one of e.ProfileIDs, so a stale plan never touches another
	// person. Erase is idempotent; it is atomic in the embedded store and
	// not in DynamoDB (many transactions: a failed Erase is retried with
	// the same plan), where the profile bodies go last so a retry finds
	// the profile again.
	Erase(ctx context.Context, e Erasure) (ErasedCounts, error)
}

// Erasure names what Erase removes. Item names may repeat; missing items
// are not an error.
type Erasure struct {
	// ProfileIDs are the live profile and every profile merged into it.
	ProfileIDs []string
	// Records are the person's records, by source and id.
	Records []RecordRef
	// Identifiers are the identifiers whose claims are removed.
	Identifiers []profile.Identifier
	// Keys are idempotency keys to forget.
	Keys []string
	// Items are generic items to delete, in order (put index items last).
	Items []ItemRef
	// Outbox events are recorded once everything else is gone (the
	// ProfileDeleted event).
	Outbox []events.Envelope
}

// RecordRef names a stored record.
type RecordRef struct {
	Source string `json:"source"`
	ID     string `json:"id"`
}

// ItemRef names a generic item.
type ItemRef struct {
	Kind string `json:"kind"`
	Key  string `json:"key"`
	Sort string `json:"sort"`
}

// ErasedCounts says how much Erase removed.
type ErasedCounts struct {
	Profiles    int `json:"profiles"`
	Redirects   int `json:"redirects"`
	Records     int `json:"records"`
	Identifiers int `json:"identifiers"`
	Events      int `json:"events"`
	Keys        int `json:"keys"`
	Items       int `json:"items"`
	Outbox      int `json:"outbox"`
}

// MergeAdds folds ItemAdd writes that name the same item into one (their
// N summed, at the place of the first), so that parts of a change written
// independently — two profiles' segment exits in one merge, two rules'
// counters in one shard — can share a counter without naming it twice.
// Other writes are returned as they are.
func MergeAdds(writes []ItemWrite) []ItemWrite {
	type id struct{ kind, key, sort string }
	first := map[id]int{}
	out := writes[:0:0]
	for _, w := range writes {
		if w.Op != ItemAdd {
			out = append(out, w)
			continue
		}
		k := id{w.Item.Kind, w.Item.Key, w.Item.Sort}
		if i, ok := first[k]; ok {
			out[i].Item.N += w.Item.N
			if len(w.Item.Value) > 0 {
				out[i].Item.Value = w.Item.Value
			}
			if !w.Item.Expires.IsZero() {
				out[i].Item.Expires = w.Item.Expires
			}
			continue
		}
		first[k] = len(out)
		out = append(out, w)
	}
	return out
}

// Appender is implemented by stores that take a record of a known profile
// as one appended event item and fold it into the profile later, in
// batches, from the store's change stream (DynamoDB Streams): the cheap
// path of a tracked event. The DynamoDB store provides it; the pipeline
// uses it when given one (pipeline.Options.Appender) and Fold applies what
// the stream delivers.
type Appender interface {
	// Claimants returns the claimant of each claimed identifier of ids, as
	// written (a merged-away claimant is not followed), read eventually
	// consistently. Unclaimed identifiers are absent.
	Claimants(ctx context.Context, ids []profile.Identifier) (map[profile.Identifier]string, error)
	// Append writes each append as one event item under its profile,
	// unless that item exists already (a re-delivery). written[i] reports
	// whether apps[i] was written. Appends are independent: an error
	// leaves the ones before it written.
	Append(ctx context.Context, apps []Append) (written []bool, err error)
	// Discard deletes the event items of each record's events under its
	// ProfileID: appends that can no longer be folded (their profile is
	// gone: an append that raced an erasure), or the events a record left
	// behind when an unmerge re-wrote it under another profile. Missing
	// items are not an error.
	Discard(ctx context.Context, apps []Appended) error
	// AppendedRecords returns the records appended under profile id (its
	// own partition only, as written: follow merges with the profile's
	// MergedFrom) that have no record of their own (a record stored since
	// with the same source and id, for example by an unmerge that moved
	// it, governs instead). Unmerge re-clusters them with the indexed
	// records.
	AppendedRecords(ctx context.Context, profileID string) ([]profile.Record, error)
}

// Append is one record of a known profile to append: it carries exactly
// one event and no identifier the profile does not have.
type Append struct {
	// ProfileID is the profile whose partition takes the event item: the
	// claimant of the record's identifiers (it may have been merged away;
	// the fold follows the redirect).
	ProfileID string
	Record    profile.Record
}

// Appended is an append as the change stream delivers it.
type Appended struct {
	// ProfileID is the partition the event item was written under.
	ProfileID string
	// Record is the appended record with its event.
	Record profile.Record
	// Seq is the stream's sequence number of the insert: a decimal number
	// that increases with every write of the partition, so a fold
	// remembers per partition how far it got.
	Seq string
}
