package pipeline

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/aurum-cdp/aurum/shared/core/identity"
	"github.com/aurum-cdp/aurum/shared/model/events"
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
	if (w.Record == "") == (w.Link[0] == "" && w.Link[1] == "") || (w.Record == "" && (w.Link[0] == "" || w.Link[1] == "" || w.Link[0] == w.Link[1])) {
		return Split{}, fmt.Errorf("pipeline: unmerge: %w", fault.Invalidf("withdraw either one record or a link between two different records"))
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
		for i := range changes {
			changes[i].Items = store.MergeAdds(changes[i].Items)
		}
		err = p.st.Commit(ctx, changes...)
		if err == nil {
			if ap, ok := p.st.(store.Appender); ok && len(sp.moved) > 0 {
				// Best effort: left behind, they would list the moved
				// events under the kept part too.
				if err := ap.Discard(ctx, sp.moved); err != nil {
					p.log.WarnContext(ctx, "pipeline: unmerge: old events of moved records not deleted", "records", len(sp.moved), "error", err.Error())
				}
			}
			sp.moved = nil
			return sp, nil
		}
		if !fault.Is(err, fault.ErrConflict) || attempt >= p.attempts {
			return Split{}, fmt.Errorf("pipeline: unmerge %s (attempt %d): %w", profileID, attempt, err)
		}
		if len(changes) > 1 {
			landed, serr := p.st.Seen(ctx, changes[0].Keys)
			if serr != nil {
				return Split{}, fmt.Errorf("pipeline: unmerge %s: check landed changes: %w", profileID, serr)
			}
			if landed[changes[0].Keys[0]] {
				return Split{}, fmt.Errorf("pipeline: unmerge %s: split committed but moving its records conflicted with a concurrent writer: %w", profileID, err)
			}
		}
		if err := sleep(ctx, backoff(attempt)); err != nil {
			return Split{}, fmt.Errorf("pipeline: unmerge: %w", err)
		}
	}
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

// gather lists the records of live profile prof from the record index.
func (p *Pipeline) gather(ctx context.Context, st SplitStore, prof profile.Profile) ([]clusterRecord, error) {
	byKey := map[string]*clusterRecord{}
	var order []string
	for _, id := range append([]string{prof.ID}, prof.MergedFrom...) {
		cursor := ""
		for {
			items, next, err := st.Items(ctx, identity.ItemRecords, id, "", "", maxRecordIndexRead, cursor)
			if err != nil {
				return nil, fmt.Errorf("read record index: %w", err)
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
	var out []clusterRecord
	for _, k := range order {
		src, rid, ok := strings.Cut(k, "/")
		if !ok {
			continue
		}
		rec, stored, err := st.Record(ctx, src, rid)
		if fault.Is(err, fault.ErrNotFound) {
			continue // erased
		}
		if err != nil {
			return nil, fmt.Errorf("read record: %w", err)
		}
		live, err := st.Resolve(ctx, stored)
		if err != nil {
			return nil, fmt.Errorf("resolve record's profile: %w", err)
		}
		if live != prof.ID {
			continue // the record moved to another profile since
		}
		c := byKey[k]
		c.rec, c.stored = rec, stored
		out = append(out, *c)
	}
	// Tracked events appended to the cluster's profiles are records too.
	if ap, ok := st.(store.Appender); ok {
		for _, id := range append([]string{prof.ID}, prof.MergedFrom...) {
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
	}
	return out, nil
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

// planSplit reads the cluster and returns the split and its change sets.
func (p *Pipeline) planSplit(ctx context.Context, st SplitStore, profileID string, w Withdrawal) (Split, []store.Change, error) {
	now := p.clock().UTC()
	stamp := now.Format(time.RFC3339Nano)
	prof, err := st.Profile(ctx, profileID)
	if err != nil {
		return Split{}, nil, fmt.Errorf("read profile: %w", err)
	}
	crs, err := p.gather(ctx, st, prof)
	if err != nil {
		return Split{}, nil, err
	}
	pos := map[string]int{}
	recs := make([]profile.Record, len(crs))
	for i, c := range crs {
		recs[i] = c.rec
		pos[c.rec.Key()] = i
	}
	var pairs [][2]string
	if w.Record != "" {
		if _, ok := pos[w.Record]; !ok {
			return Split{}, nil, fault.Invalidf("record %s is not in profile %s", w.Record, prof.ID)
		}
		for _, r := range recs {
			if k := r.Key(); k != w.Record {
				pairs = append(pairs, [2]string{w.Record, k})
			}
		}
	} else {
		for _, k := range w.Link {
			if _, ok := pos[k]; !ok {
				return Split{}, nil, fault.Invalidf("record %s is not in profile %s", k, prof.ID)
			}
		}
		pairs = append(pairs, w.Link)
	}
	earlier, err := assertions(ctx, st)
	if err != nil {
		return Split{}, nil, err
	}
	apart := slices.Clone(pairs)
	for _, a := range earlier {
		_, ok1 := pos[a[0]]
		_, ok2 := pos[a[1]]
		if ok1 && ok2 {
			apart = append(apart, a)
		}
	}
	res := p.resolver.Resolve(recs, identity.BatchOptions{Apart: apart})
	byCluster := map[string][]int{}
	for i, c := range res.ProfileIDs {
		byCluster[c] = append(byCluster[c], i)
	}
	if len(byCluster) < 2 {
		return Split{}, nil, fault.Invalidf("withdrawing %s does not split profile %s: its records stay joined through other links", w, prof.ID)
	}
	// Parts in a stable order: by smallest record key (cluster ids derive
	// from it).
	clusters := slices.Sorted(maps.Keys(byCluster))
	own := func(c string) int {
		n := 0
		for _, i := range byCluster[c] {
			if slices.Contains(crs[i].indexed, prof.ID) {
				n++
			}
		}
		return n
	}
	// The first record observed among those written under the profile's
	// id stands for the person the profile was created for.
	first := -1
	for i, c := range crs {
		if !slices.Contains(c.indexed, prof.ID) {
			continue
		}
		if first < 0 || recs[i].ObservedAt.Before(recs[first].ObservedAt) ||
			(recs[i].ObservedAt.Equal(recs[first].ObservedAt) && recs[i].Key() < recs[first].Key()) {
			first = i
		}
	}
	founder := func(c string) int {
		if first >= 0 && res.ProfileIDs[first] == c {
			return 1
		}
		return 0
	}
	keep := slices.MaxFunc(clusters, func(a, b string) int {
		if c := cmp.Compare(founder(a), founder(b)); c != 0 {
			return c
		}
		if c := cmp.Compare(own(a), own(b)); c != 0 {
			return c
		}
		if c := cmp.Compare(len(byCluster[a]), len(byCluster[b])); c != 0 {
			return c
		}
		return cmp.Compare(b, a) // the smaller cluster id wins ties
	})
	partOf := make([]int, len(recs)) // record index → part index
	sp := Split{ProfileID: prof.ID, ProfileVersion: prof.Version + 1}
	order := append([]string{keep}, slices.DeleteFunc(slices.Clone(clusters), func(c string) bool { return c == keep })...)
	for pi, c := range order {
		part := Part{ProfileID: prof.ID}
		if pi > 0 {
			part.Created = true
			minKey := recs[byCluster[c][0]].Key()
			for _, i := range byCluster[c] {
				minKey = min(minKey, recs[i].Key())
			}
			part.ProfileID = "p_" + events.StableID("split", fmt.Sprintf("%s/%d/%s", prof.ID, prof.Version, minKey))[:24]
		}
		for _, i := range byCluster[c] {
			partOf[i] = pi
			part.Records = append(part.Records, recs[i].Key())
		}
		sort.Strings(part.Records)
		sp.Parts = append(sp.Parts, part)
	}

	// Golden records rebuilt from the parts' records.
	bodies := make([]profile.Profile, len(sp.Parts))
	for pi, part := range sp.Parts {
		b := profile.Profile{ID: part.ProfileID, CreatedAt: now, Version: 1}
		if pi == 0 {
			b.CreatedAt, b.Version = prof.CreatedAt, prof.Version+1
			b.MergedFrom = slices.Clone(prof.MergedFrom)
			b.Segments = maps.Clone(prof.Segments)
			b.NextEvalAt, b.RFM = prof.NextEvalAt, prof.RFM
		}
		var members []profile.Record
		for i := range recs {
			if partOf[i] == pi {
				members = append(members, recs[i])
			}
		}
		p.rebuild(&b, members)
		b.UpdatedAt = now
		bodies[pi] = b
	}

	var main store.Change
	main.Keys = []string{fmt.Sprintf("split/%s/%d", prof.ID, prof.Version)}
	main.Profiles = append(main.Profiles, store.ProfileWrite{Profile: bodies[0], ExpectVersion: prof.Version})
	for _, b := range bodies[1:] {
		main.Profiles = append(main.Profiles, store.ProfileWrite{Profile: b})
	}
	// Claims go to the part with the most records holding the identifier
	// (ties: the part keeping the profile id).
	holders := map[profile.Identifier][]int{}
	for i, r := range recs {
		for _, l := range p.resolver.Links(r) {
			if holders[l.Identifier] == nil {
				holders[l.Identifier] = make([]int, len(sp.Parts))
			}
			holders[l.Identifier][partOf[i]]++
		}
	}
	idList := slices.SortedFunc(maps.Keys(holders), func(a, b profile.Identifier) int { return cmp.Compare(a.String(), b.String()) })
	owners, err := st.Owners(ctx, idList)
	if err != nil {
		return Split{}, nil, fmt.Errorf("look up identifiers: %w", err)
	}
	for _, id := range idList {
		o, ok := owners[id]
		if !ok || o.ProfileID != prof.ID {
			continue
		}
		best := 0
		for pi, n := range holders[id] {
			if n > holders[id][best] {
				best = pi
			}
		}
		if best != 0 {
			main.Claims = append(main.Claims, store.Claim{Identifier: id, ProfileID: sp.Parts[best].ProfileID, ExpectClaimant: o.Claimant})
		}
	}
	// Do-not-merge entries between every two parts, and the record-level
	// assertion for batch runs and later unmerges.
	apartVal, err := json.Marshal(identity.Apart{Reason: "unmerge of " + prof.ID, At: stamp})
	if err != nil {
		return Split{}, nil, fmt.Errorf("encode do-not-merge entry: %w", err)
	}
	for i := range sp.Parts {
		for j := range sp.Parts {
			if i != j {
				main.Items = append(main.Items, store.ItemWrite{Op: store.ItemPut, Item: store.Item{Kind: identity.ItemApart, Key: sp.Parts[i].ProfileID, Sort: sp.Parts[j].ProfileID, Value: apartVal}})
			}
		}
	}
	aval, err := json.Marshal(identity.Assertion{ProfileID: prof.ID, Pairs: pairs, Reason: w.Reason, At: stamp})
	if err != nil {
		return Split{}, nil, fmt.Errorf("encode assertion: %w", err)
	}
	main.Items = append(main.Items, store.ItemWrite{Op: store.ItemCreate, Item: store.Item{Kind: identity.ItemAssertions, Key: identity.AssertionsKey, Sort: stamp + "/" + prof.ID, Value: aval}})
	// Merged-away ids go to the part holding most of their records.
	for _, old := range prof.MergedFrom {
		count := make([]int, len(sp.Parts))
		held := false
		for i, c := range crs {
			if slices.Contains(c.indexed, old) {
				count[partOf[i]]++
				held = true
			}
		}
		if !held {
			continue
		}
		best := 0
		for pi, n := range count {
			if n > count[best] {
				best = pi
			}
		}
		mv, err := json.Marshal(identity.Moved{To: sp.Parts[best].ProfileID, At: stamp})
		if err != nil {
			return Split{}, nil, fmt.Errorf("encode split redirect: %w", err)
		}
		main.Items = append(main.Items, store.ItemWrite{Op: store.ItemPut, Item: store.Item{Kind: identity.ItemMoved, Key: old, Sort: identity.MovedSort, Value: mv}})
	}
	var newIDs []string
	for _, part := range sp.Parts[1:] {
		newIDs = append(newIDs, part.ProfileID)
	}
	entry, err := json.Marshal(identity.LedgerEntry{Survivor: prof.ID, Split: newIDs, Rule: "unmerge", Withdrawn: w.String(), At: stamp})
	if err != nil {
		return Split{}, nil, fmt.Errorf("ledger entry: %w", err)
	}
	main.Items = append(main.Items, store.ItemWrite{Op: store.ItemCreate, Item: store.Item{Kind: identity.ItemLedger, Key: prof.ID, Sort: stamp + "/split", Value: entry}})
	stats := map[string]int64{identity.CounterSplits: 1}
	after := map[string]int{}
	for _, b := range bodies {
		after[b.ID] = b.RecordCount
	}
	main.Items = append(main.Items, sizeItems(map[string]int{prof.ID: prof.RecordCount}, after, stats)...)
	main.Items = append(main.Items, statItems(main.Keys[0], stats)...)

	ev, err := events.New(events.TypeProfileSplit, now, events.ProfileSplit{
		Version: events.SchemaVersion, ProfileID: prof.ID, ProfileVersion: bodies[0].Version,
		NewProfileIDs: newIDs, Reason: w.Reason,
	}, prof.ID, fmt.Sprint(bodies[0].Version), "split")
	if err != nil {
		return Split{}, nil, err
	}
	main.Outbox = append(main.Outbox, ev)
	for pi := range bodies {
		b := &bodies[pi]
		var before *profile.Profile
		if pi == 0 {
			before = &prof
		}
		if len(p.exts) > 0 {
			u := &Update{Before: before, After: b, Now: now}
			for _, x := range p.exts {
				if err := x.Extend(ctx, u, &main); err != nil {
					return Split{}, nil, fmt.Errorf("extend split of profile %s: %w", prof.ID, err)
				}
			}
		}
		main.Profiles[pi].Profile = *b
		var changed []string
		for name, a := range b.Attributes {
			if old, ok := prof.Attributes[name]; pi > 0 || !ok || old.RecordID != a.RecordID || old.Source != a.Source {
				changed = append(changed, name)
			}
		}
		sort.Strings(changed)
		upd, err := events.New(events.TypeProfileUpdated, now, events.ProfileUpdated{
			Version: events.SchemaVersion, ProfileID: b.ID, ProfileVersion: b.Version,
			Created: pi > 0, Changed: changed,
		}, b.ID, fmt.Sprint(b.Version), "split")
		if err != nil {
			return Split{}, nil, err
		}
		main.Outbox = append(main.Outbox, upd)
	}

	// Records of the new parts move: record, record index, block index.
	changes := []store.Change{main}
	cur := &changes[0]
	size := writes(main)
	for i, c := range crs {
		if partOf[i] == 0 {
			continue
		}
		to := sp.Parts[partOf[i]].ProfileID
		var items []store.ItemWrite
		if c.appended {
			// The new part keeps it as a record of its own (with its
			// event), without an idempotency key: it never had one, its
			// appended event item was its key (deleted after the split).
			c.index = []byte("{}")
		}
		if c.stored != "" && c.stored != to {
			sp.moved = append(sp.moved, store.Appended{ProfileID: c.stored, Record: c.rec})
		}
		for _, old := range c.indexed {
			items = append(items, store.ItemWrite{Op: store.ItemDelete, Item: store.Item{Kind: identity.ItemRecords, Key: old, Sort: c.rec.Key()}})
		}
		items = append(items, store.ItemWrite{Op: store.ItemPut, Item: store.Item{Kind: identity.ItemRecords, Key: to, Sort: c.rec.Key(), Value: c.index}})
		if keys := p.resolver.Keys(c.rec); len(keys) > 0 {
			ix, err := json.Marshal(identity.Indexed{Record: p.resolver.Compact(c.rec), ProfileID: to})
			if err != nil {
				return Split{}, nil, fmt.Errorf("index record: %w", err)
			}
			for _, k := range keys {
				items = append(items, store.ItemWrite{Op: store.ItemPut, Item: store.Item{Kind: identity.ItemBlock, Key: identity.BlockKey(k), Sort: c.rec.Key(), Value: ix}})
			}
		}
		if size+1+len(items) > MaxSplitWrites && size > 0 {
			changes = append(changes, store.Change{})
			cur = &changes[len(changes)-1]
			size = 0
		}
		cur.Records = append(cur.Records, store.RecordWrite{Record: c.rec, ProfileID: to})
		cur.Items = append(cur.Items, items...)
		size += 1 + len(items)
	}
	return sp, changes, nil
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
