package pipeline

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/aurum-cdp/aurum/shared/core/identity"
	"github.com/aurum-cdp/aurum/shared/model/fault"
	"github.com/aurum-cdp/aurum/shared/model/profile"
	"github.com/aurum-cdp/aurum/shared/port/store"
)

// SplitStore is what Unmerge reads beyond Store; store.Store has it.
type SplitStore interface {
	Store
	Record(ctx context.Context, source, id string) (profile.Record, string, error)
	Resolve(ctx context.Context, id string) (string, error)
}

// Withdrawal names what an unmerge takes out of a profile: one record
// (it leaves the records it is clustered with) or one link (two records
// that must not be together). Record keys are "source/id".
type Withdrawal struct {
	Record string    `json:"record,omitempty"`
	Link   [2]string `json:"link,omitzero"`
	// Reason is kept in the ledger and the ProfileSplit event.
	Reason string `json:"reason,omitempty"`
}

func (w Withdrawal) String() string {
	if w.Record != "" {
		return w.Record
	}
	return w.Link[0] + " -- " + w.Link[1]
}

// Split is the outcome of an unmerge.
type Split struct {
	// ProfileID is the profile that was split; it keeps the part holding
	// most of the records written under its own id.
	ProfileID      string `json:"profile_id"`
	ProfileVersion int64  `json:"profile_version"`
	// Parts lists every part, the one keeping ProfileID first.
	Parts []Part `json:"parts"`
	// moved are the records the split re-wrote under a new part, with the
	// profile id their events were stored under: the stores that cannot
	// drop those event items in the commit (store.Appender: DynamoDB)
	// delete them once it has committed.
	moved []store.Appended
}

// Part is one profile an unmerge left.
type Part struct {
	ProfileID string   `json:"profile_id"`
	Created   bool     `json:"created"`
	Records   []string `json:"records"`
}

// MaxSplitWrites bounds the writes of one change set of an unmerge (a
// DynamoDB transaction holds at most 100). A larger split commits its
// record moves in further change sets.
const MaxSplitWrites = 90

// maxRecordIndexRead bounds the record-index entries read per page.
const maxRecordIndexRead = 1000

// Unmerge splits the live profile that profileID resolves to by
// withdrawing a record or a link: the cluster's records (listed from the
// record index under the profile and every profile merged into it) are
// re-clustered with the identity engine and a do-not-merge assertion
// between the withdrawn record and every other record (or between the two
// ends of the link), plus earlier assertions. Each part gets a golden
// record rebuilt from its records (survivorship and aggregates
// recomputed); the part holding the first-observed record written under
// the profile's id keeps the id, the others are new profiles. Identifier
// claims, records, the record and block indexes move to the parts;
// do-not-merge entries keep the parts apart in later merges; a merged-away
// id whose records mostly went to a new part is redirected there
// (identity.ResolveID). ProfileSplit and one ProfileUpdated per part go to
// the outbox, and extensions see every part.
//
// The store must implement SplitStore. Unmerge fails with fault.ErrInvalid
// when the withdrawal names a record outside the profile or does not
// split it (the records stay joined through other links), and is retried
// on conflicts with concurrent writers. Its cost grows with the cluster's
// size; it is an operator's action, not a request path.
func (p *Pipeline) Unmerge(ctx context.Context, profileID string, w Withdrawal) (Split, error) {
	if p.initErr != nil {
		return Split{}, fmt.Errorf("pipeline: %w", p.initErr)
	}
	if err := w.check(); err != nil {
		return Split{}, fmt.Errorf("pipeline: unmerge: %w", err)
	}
	ss, ok := p.st.(SplitStore)
	if !ok {
		return Split{}, fmt.Errorf("pipeline: unmerge: the store cannot read records")
	}
	for attempt := 1; ; attempt++ {
		sp, changes, err := p.planSplit(ctx, ss, profileID, w)
		if err != nil {
			return Split{}, fmt.Errorf("pipeline: unmerge %s: %w", profileID, err)
		}
		err = p.commitSplit(ctx, &sp, changes)
		if err == nil {
			return sp, nil
		}
		if !fault.Is(err, fault.ErrConflict) || attempt >= p.attempts {
			return Split{}, fmt.Errorf("pipeline: unmerge %s (attempt %d): %w", profileID, attempt, err)
		}
		if err := p.splitLanded(ctx, changes, err); err != nil {
			return Split{}, fmt.Errorf("pipeline: unmerge %s: %w", profileID, err)
		}
		if err := sleep(ctx, backoff(attempt)); err != nil {
			return Split{}, fmt.Errorf("pipeline: unmerge: %w", err)
		}
	}
}

// check reports a withdrawal that names neither exactly one record nor a
// link between two different records.
func (w Withdrawal) check() error {
	if (w.Record == "") == (w.Link[0] == "" && w.Link[1] == "") || (w.Record == "" && (w.Link[0] == "" || w.Link[1] == "" || w.Link[0] == w.Link[1])) {
		return fault.Invalidf("withdraw either one record or a link between two different records")
	}
	return nil
}

// commitSplit commits the split's change sets. Once they landed, the
// event items of moved records are deleted from the profiles they were
// stored under (stores implementing store.Appender), best effort: left
// behind, they would list the moved events under the kept part too.
func (p *Pipeline) commitSplit(ctx context.Context, sp *Split, changes []store.Change) error {
	for i := range changes {
		changes[i].Items = store.MergeAdds(changes[i].Items)
	}
	if err := p.st.Commit(ctx, changes...); err != nil {
		return err
	}
	if ap, ok := p.st.(store.Appender); ok && len(sp.moved) > 0 {
		if err := ap.Discard(ctx, sp.moved); err != nil {
			p.log.WarnContext(ctx, "pipeline: unmerge: old events of moved records not deleted", "records", len(sp.moved), "error", err.Error())
		}
	}
	sp.moved = nil
	return nil
}

// splitLanded checks, after a commit of several change sets failed with
// conflict, whether the first landed: the split is then committed but its
// record moves are not, and retrying would not help.
func (p *Pipeline) splitLanded(ctx context.Context, changes []store.Change, conflict error) error {
	if len(changes) < 2 {
		return nil
	}
	landed, err := p.st.Seen(ctx, changes[0].Keys)
	if err != nil {
		return fmt.Errorf("check landed changes: %w", err)
	}
	if landed[changes[0].Keys[0]] {
		return fmt.Errorf("split committed but moving its records conflicted with a concurrent writer: %w", conflict)
	}
	return nil
}

// clusterRecord is a record of the cluster being split.
type clusterRecord struct {
	rec profile.Record
	// indexed are the record-index keys (profile ids) it is listed under.
	indexed []string
	// index is the record index entry's value (its idempotency keys).
	index []byte
	// appended marks a record appended as an event (store.Appender): it
	// has no record item and no index entry; a move to a new part stores
	// it as a record of its own.
	appended bool
	// stored is the profile id the record is stored under.
	stored string
}

// gather lists the records of live profile prof: those the record index
// lists under the profile and every profile merged into it that are
// still in the profile, and the appended records (store.Appender) not
// indexed.
func (p *Pipeline) gather(ctx context.Context, st SplitStore, prof profile.Profile) ([]clusterRecord, error) {
	ids := append([]string{prof.ID}, prof.MergedFrom...)
	byKey, order, err := recordIndex(ctx, st, ids)
	if err != nil {
		return nil, err
	}
	var out []clusterRecord
	for _, k := range order {
		c := byKey[k]
		ok, err := stillIn(ctx, st, prof.ID, k, c)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, *c)
		}
	}
	// Tracked events appended to the cluster's profiles are records too.
	ap, ok := st.(store.Appender)
	if !ok {
		return out, nil
	}
	for _, id := range ids {
		recs, err := ap.AppendedRecords(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("read appended records: %w", err)
		}
		for _, r := range recs {
			if _, indexed := byKey[r.Key()]; indexed {
				continue
			}
			byKey[r.Key()] = &clusterRecord{}
			out = append(out, clusterRecord{rec: r, stored: id, appended: true})
		}
	}
	return out, nil
}

// recordIndex reads the record index entries of the profiles ids: per
// record key the ids it is listed under and its first entry's value, and
// the keys in the order read.
func recordIndex(ctx context.Context, st Store, ids []string) (map[string]*clusterRecord, []string, error) {
	byKey := map[string]*clusterRecord{}
	var order []string
	for _, id := range ids {
		cursor := ""
		for {
			items, next, err := st.Items(ctx, identity.ItemRecords, id, "", "", maxRecordIndexRead, cursor)
			if err != nil {
				return nil, nil, fmt.Errorf("read record index: %w", err)
			}
			for _, it := range items {
				c, ok := byKey[it.Sort]
				if !ok {
					c = &clusterRecord{}
					byKey[it.Sort] = c
					order = append(order, it.Sort)
				}
				if !slices.Contains(c.indexed, id) {
					c.indexed = append(c.indexed, id)
				}
				if len(c.index) == 0 {
					c.index = it.Value
				}
			}
			if next == "" {
				break
			}
			cursor = next
		}
	}
	return byKey, order, nil
}

// stillIn reads the record with key k into c and reports whether it is
// still in live profile live: it may have been erased or moved to another
// profile since it was indexed.
func stillIn(ctx context.Context, st SplitStore, live, k string, c *clusterRecord) (bool, error) {
	src, rid, ok := strings.Cut(k, "/")
	if !ok {
		return false, nil
	}
	rec, stored, err := st.Record(ctx, src, rid)
	if fault.Is(err, fault.ErrNotFound) {
		return false, nil // erased
	}
	if err != nil {
		return false, fmt.Errorf("read record: %w", err)
	}
	now, err := st.Resolve(ctx, stored)
	if err != nil {
		return false, fmt.Errorf("resolve record's profile: %w", err)
	}
	if now != live {
		return false, nil
	}
	c.rec, c.stored = rec, stored
	return true, nil
}

// assertions returns the record pairs of earlier unmerges.
func assertions(ctx context.Context, st Store) ([][2]string, error) {
	var out [][2]string
	cursor := ""
	for {
		items, next, err := st.Items(ctx, identity.ItemAssertions, identity.AssertionsKey, "", "", 100, cursor)
		if err != nil {
			return nil, fmt.Errorf("read do-not-merge assertions: %w", err)
		}
		for _, it := range items {
			var a identity.Assertion
			if err := json.Unmarshal(it.Value, &a); err != nil {
				return nil, fmt.Errorf("decode do-not-merge assertion: %w", err)
			}
			out = append(out, a.Pairs...)
		}
		if next == "" {
			return out, nil
		}
		cursor = next
	}
}

// Assertions returns the record pairs that unmerges asserted must not
// share a cluster, for batch resolution (identity.BatchOptions.Apart).
func Assertions(ctx context.Context, st Store) ([][2]string, error) {
	out, err := assertions(ctx, st)
	if err != nil {
		return nil, fmt.Errorf("pipeline: %w", err)
	}
	return out, nil
}

// writes counts the writes of a change set.
func writes(c store.Change) int {
	return len(c.Keys) + len(c.Records) + len(c.Profiles) + len(c.Redirects) + len(c.Claims) + len(c.Outbox) + len(c.Items)
}

// rebuild folds recs into b in observation order (ties: record key), as
// ingestion would have, with the identifier caps applied.
func (p *Pipeline) rebuild(b *profile.Profile, recs []profile.Record) {
	recs = slices.Clone(recs)
	slices.SortFunc(recs, func(x, y profile.Record) int {
		if c := x.ObservedAt.Compare(y.ObservedAt); c != 0 {
			return c
		}
		return cmp.Compare(x.Key(), y.Key())
	})
	for _, r := range recs {
		applied := r
		applied.Identifiers = nil
		for _, id := range r.Identifiers {
			if !b.HasIdentifier(id) && p.overCap(append(slices.Clone(b.Identifiers), applied.Identifiers...), []profile.Identifier{id}) != "" {
				continue
			}
			applied.Identifiers = append(applied.Identifiers, id)
		}
		p.rules.Apply(b, applied)
	}
}
