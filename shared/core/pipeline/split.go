package pipeline

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"time"

	"github.com/aurum-cdp/aurum/shared/core/identity"
	"github.com/aurum-cdp/aurum/shared/model/events"
	"github.com/aurum-cdp/aurum/shared/model/fault"
	"github.com/aurum-cdp/aurum/shared/model/profile"
	"github.com/aurum-cdp/aurum/shared/port/store"
)

// planSplit reads the cluster and returns the split and its change sets:
// the cluster's records are re-clustered without the withdrawal, the
// parts get their golden records, the first change set writes the parts,
// claims, assertions, ledger, counters and events, and the records of the
// new parts move in that and further change sets.
func (p *Pipeline) planSplit(ctx context.Context, st SplitStore, profileID string, w Withdrawal) (Split, []store.Change, error) {
	now := p.clock().UTC()
	prof, err := st.Profile(ctx, profileID)
	if err != nil {
		return Split{}, nil, fmt.Errorf("read profile: %w", err)
	}
	crs, err := p.gather(ctx, st, prof)
	if err != nil {
		return Split{}, nil, err
	}
	s := newSplitPlan(prof, crs, now)
	pairs, err := s.withdrawn(w)
	if err != nil {
		return Split{}, nil, err
	}
	earlier, err := assertions(ctx, st)
	if err != nil {
		return Split{}, nil, err
	}
	res := p.resolver.Resolve(s.recs, identity.BatchOptions{Apart: s.apart(pairs, earlier)})
	byCluster := clustersOf(res.ProfileIDs)
	if len(byCluster) < 2 {
		return Split{}, nil, fault.Invalidf("withdrawing %s does not split profile %s: its records stay joined through other links", w, prof.ID)
	}
	s.assign(byCluster, s.keep(byCluster, res.ProfileIDs))
	bodies := p.rebuildParts(s)
	main, err := p.splitChange(ctx, st, s, bodies, pairs, w)
	if err != nil {
		return Split{}, nil, err
	}
	changes, err := p.moveRecords(s, main)
	if err != nil {
		return Split{}, nil, err
	}
	return s.sp, changes, nil
}

// splitPlan is an unmerge while planSplit builds it.
type splitPlan struct {
	// prof is the profile being split, crs its records (recs the same
	// records; pos maps a record key to its index).
	prof profile.Profile
	crs  []clusterRecord
	recs []profile.Record
	pos  map[string]int
	// now is the split's time; stamp the same as ledger entries hold it.
	now   time.Time
	stamp string
	// sp is the outcome; partOf maps a record index to its part's index
	// in sp.Parts.
	sp     Split
	partOf []int
}

func newSplitPlan(prof profile.Profile, crs []clusterRecord, now time.Time) *splitPlan {
	s := &splitPlan{prof: prof, crs: crs, recs: make([]profile.Record, len(crs)), pos: map[string]int{},
		now: now, stamp: now.Format(time.RFC3339Nano)}
	for i, c := range crs {
		s.recs[i] = c.rec
		s.pos[c.rec.Key()] = i
	}
	return s
}

// withdrawn returns the do-not-merge pairs the withdrawal asserts: the
// withdrawn record against every other record, or the link's two ends.
// It fails with fault.ErrInvalid when a named record is not in the
// cluster.
func (s *splitPlan) withdrawn(w Withdrawal) ([][2]string, error) {
	if w.Record == "" {
		for _, k := range w.Link {
			if _, ok := s.pos[k]; !ok {
				return nil, fault.Invalidf("record %s is not in profile %s", k, s.prof.ID)
			}
		}
		return [][2]string{w.Link}, nil
	}
	if _, ok := s.pos[w.Record]; !ok {
		return nil, fault.Invalidf("record %s is not in profile %s", w.Record, s.prof.ID)
	}
	var pairs [][2]string
	for _, r := range s.recs {
		if k := r.Key(); k != w.Record {
			pairs = append(pairs, [2]string{w.Record, k})
		}
	}
	return pairs, nil
}

// apart returns the pairs re-clustering must keep apart: the new pairs
// and the earlier assertions between two records of the cluster.
func (s *splitPlan) apart(pairs, earlier [][2]string) [][2]string {
	out := slices.Clone(pairs)
	for _, a := range earlier {
		_, ok1 := s.pos[a[0]]
		_, ok2 := s.pos[a[1]]
		if ok1 && ok2 {
			out = append(out, a)
		}
	}
	return out
}

// clustersOf groups record indexes by cluster id.
func clustersOf(ids []string) map[string][]int {
	by := map[string][]int{}
	for i, c := range ids {
		by[c] = append(by[c], i)
	}
	return by
}

// founder returns the index of the first record observed (ties: smallest
// key) among those written under the profile's own id: it stands for the
// person the profile was created for. -1 when there is none.
func (s *splitPlan) founder() int {
	first := -1
	for i, c := range s.crs {
		if !slices.Contains(c.indexed, s.prof.ID) {
			continue
		}
		if first < 0 || s.recs[i].ObservedAt.Before(s.recs[first].ObservedAt) ||
			(s.recs[i].ObservedAt.Equal(s.recs[first].ObservedAt) && s.recs[i].Key() < s.recs[first].Key()) {
			first = i
		}
	}
	return first
}

// own counts the members written under the profile's own id.
func (s *splitPlan) own(members []int) int {
	n := 0
	for _, i := range members {
		if slices.Contains(s.crs[i].indexed, s.prof.ID) {
			n++
		}
	}
	return n
}

// keep returns the cluster that keeps the profile's id: the founder's,
// else the one with most records written under the id, else the largest,
// else the smallest cluster id.
func (s *splitPlan) keep(byCluster map[string][]int, ids []string) string {
	first := s.founder()
	founder := func(c string) int {
		if first >= 0 && ids[first] == c {
			return 1
		}
		return 0
	}
	return slices.MaxFunc(slices.Sorted(maps.Keys(byCluster)), func(a, b string) int {
		if c := cmp.Compare(founder(a), founder(b)); c != 0 {
			return c
		}
		if c := cmp.Compare(s.own(byCluster[a]), s.own(byCluster[b])); c != 0 {
			return c
		}
		if c := cmp.Compare(len(byCluster[a]), len(byCluster[b])); c != 0 {
			return c
		}
		return cmp.Compare(b, a) // the smaller cluster id wins ties
	})
}

// assign makes the parts: the kept cluster first, under the profile's id,
// then the others by cluster id (which derives from their smallest record
// key), each under a new id (splitPartID).
func (s *splitPlan) assign(byCluster map[string][]int, keep string) {
	clusters := slices.Sorted(maps.Keys(byCluster))
	order := append([]string{keep}, slices.DeleteFunc(clusters, func(c string) bool { return c == keep })...)
	s.partOf = make([]int, len(s.recs))
	s.sp = Split{ProfileID: s.prof.ID, ProfileVersion: s.prof.Version + 1}
	for pi, c := range order {
		part := Part{ProfileID: s.prof.ID}
		if pi > 0 {
			minKey := s.recs[byCluster[c][0]].Key()
			for _, i := range byCluster[c] {
				minKey = min(minKey, s.recs[i].Key())
			}
			part.Created, part.ProfileID = true, splitPartID(s.prof, minKey)
		}
		for _, i := range byCluster[c] {
			s.partOf[i] = pi
			part.Records = append(part.Records, s.recs[i].Key())
		}
		sort.Strings(part.Records)
		s.sp.Parts = append(s.sp.Parts, part)
	}
}

// splitPartID is the id of the new part of prof whose smallest record key
// is minKey: deterministic, so a retried split writes the same ids.
func splitPartID(prof profile.Profile, minKey string) string {
	return "p_" + events.StableID("split", fmt.Sprintf("%s/%d/%s", prof.ID, prof.Version, minKey))[:24]
}

// members returns the records of part pi.
func (s *splitPlan) members(pi int) []profile.Record {
	var out []profile.Record
	for i := range s.recs {
		if s.partOf[i] == pi {
			out = append(out, s.recs[i])
		}
	}
	return out
}

// rebuildParts returns the parts' golden records, rebuilt from their
// records. The kept part keeps the profile's creation time, merged-away
// ids, segments, due time and RFM, at the next version; new parts start
// at version 1.
func (p *Pipeline) rebuildParts(s *splitPlan) []profile.Profile {
	bodies := make([]profile.Profile, len(s.sp.Parts))
	for pi, part := range s.sp.Parts {
		b := profile.Profile{ID: part.ProfileID, CreatedAt: s.now, Version: 1}
		if pi == 0 {
			b.CreatedAt, b.Version = s.prof.CreatedAt, s.prof.Version+1
			b.MergedFrom = slices.Clone(s.prof.MergedFrom)
			b.Segments = maps.Clone(s.prof.Segments)
			b.NextEvalAt, b.RFM = s.prof.NextEvalAt, s.prof.RFM
		}
		p.rebuild(&b, s.members(pi))
		b.UpdatedAt = s.now
		bodies[pi] = b
	}
	return bodies
}

// splitChange returns the split's first change set: the parts' profiles
// (the kept one expecting the stored version), the claims that move, the
// do-not-merge entries and the assertion, the redirects of merged-away
// ids, the ledger entry, the counters and the outbox events.
func (p *Pipeline) splitChange(ctx context.Context, st SplitStore, s *splitPlan, bodies []profile.Profile, pairs [][2]string, w Withdrawal) (store.Change, error) {
	var main store.Change
	main.Keys = []string{fmt.Sprintf("split/%s/%d", s.prof.ID, s.prof.Version)}
	main.Profiles = append(main.Profiles, store.ProfileWrite{Profile: bodies[0], ExpectVersion: s.prof.Version})
	for _, b := range bodies[1:] {
		main.Profiles = append(main.Profiles, store.ProfileWrite{Profile: b})
	}
	var err error
	if main.Claims, err = p.splitClaims(ctx, st, s); err != nil {
		return store.Change{}, err
	}
	items, err := s.entries(pairs, w)
	if err != nil {
		return store.Change{}, err
	}
	main.Items = append(main.Items, items...)
	stats := map[string]int64{identity.CounterSplits: 1}
	after := map[string]int{}
	for _, b := range bodies {
		after[b.ID] = b.RecordCount
	}
	main.Items = append(main.Items, sizeItems(map[string]int{s.prof.ID: s.prof.RecordCount}, after, stats)...)
	main.Items = append(main.Items, statItems(main.Keys[0], stats)...)
	if err := p.splitEvents(ctx, s, bodies, &main, w); err != nil {
		return store.Change{}, err
	}
	return main, nil
}

// splitClaims moves each identifier claimed by the profile to the part
// with the most records holding it (ties: the part keeping the profile
// id).
func (p *Pipeline) splitClaims(ctx context.Context, st Store, s *splitPlan) ([]store.Claim, error) {
	holders := map[profile.Identifier][]int{}
	for i, r := range s.recs {
		for _, l := range p.resolver.Links(r) {
			if holders[l.Identifier] == nil {
				holders[l.Identifier] = make([]int, len(s.sp.Parts))
			}
			holders[l.Identifier][s.partOf[i]]++
		}
	}
	idList := slices.SortedFunc(maps.Keys(holders), func(a, b profile.Identifier) int { return cmp.Compare(a.String(), b.String()) })
	owners, err := st.Owners(ctx, idList)
	if err != nil {
		return nil, fmt.Errorf("look up identifiers: %w", err)
	}
	var out []store.Claim
	for _, id := range idList {
		o, ok := owners[id]
		if !ok || o.ProfileID != s.prof.ID {
			continue
		}
		if best := argmax(holders[id]); best != 0 {
			out = append(out, store.Claim{Identifier: id, ProfileID: s.sp.Parts[best].ProfileID, ExpectClaimant: o.Claimant})
		}
	}
	return out, nil
}

// argmax returns the index of the largest count (ties: the first).
func argmax(counts []int) int {
	best := 0
	for i, n := range counts {
		if n > counts[best] {
			best = i
		}
	}
	return best
}

// entries returns the split's identity items: do-not-merge entries
// between every two parts, the record-level assertion (for batch runs and
// later unmerges), the redirects of merged-away ids and the ledger entry.
func (s *splitPlan) entries(pairs [][2]string, w Withdrawal) ([]store.ItemWrite, error) {
	apartVal, err := json.Marshal(identity.Apart{Reason: "unmerge of " + s.prof.ID, At: s.stamp})
	if err != nil {
		return nil, fmt.Errorf("encode do-not-merge entry: %w", err)
	}
	var out []store.ItemWrite
	for i := range s.sp.Parts {
		for j := range s.sp.Parts {
			if i != j {
				out = append(out, store.ItemWrite{Op: store.ItemPut, Item: store.Item{Kind: identity.ItemApart, Key: s.sp.Parts[i].ProfileID, Sort: s.sp.Parts[j].ProfileID, Value: apartVal}})
			}
		}
	}
	aval, err := json.Marshal(identity.Assertion{ProfileID: s.prof.ID, Pairs: pairs, Reason: w.Reason, At: s.stamp})
	if err != nil {
		return nil, fmt.Errorf("encode assertion: %w", err)
	}
	out = append(out, store.ItemWrite{Op: store.ItemCreate, Item: store.Item{Kind: identity.ItemAssertions, Key: identity.AssertionsKey, Sort: s.stamp + "/" + s.prof.ID, Value: aval}})
	moved, err := s.redirects()
	if err != nil {
		return nil, err
	}
	out = append(out, moved...)
	entry, err := json.Marshal(identity.LedgerEntry{Survivor: s.prof.ID, Split: s.newIDs(), Rule: "unmerge", Withdrawn: w.String(), At: s.stamp})
	if err != nil {
		return nil, fmt.Errorf("ledger entry: %w", err)
	}
	return append(out, store.ItemWrite{Op: store.ItemCreate, Item: store.Item{Kind: identity.ItemLedger, Key: s.prof.ID, Sort: s.stamp + "/split", Value: entry}}), nil
}

// redirects sends each merged-away id that holds records to the part
// holding most of them (identity.ResolveID follows it).
func (s *splitPlan) redirects() ([]store.ItemWrite, error) {
	var out []store.ItemWrite
	for _, old := range s.prof.MergedFrom {
		count := make([]int, len(s.sp.Parts))
		held := false
		for i, c := range s.crs {
			if slices.Contains(c.indexed, old) {
				count[s.partOf[i]]++
				held = true
			}
		}
		if !held {
			continue
		}
		mv, err := json.Marshal(identity.Moved{To: s.sp.Parts[argmax(count)].ProfileID, At: s.stamp})
		if err != nil {
			return nil, fmt.Errorf("encode split redirect: %w", err)
		}
		out = append(out, store.ItemWrite{Op: store.ItemPut, Item: store.Item{Kind: identity.ItemMoved, Key: old, Sort: identity.MovedSort, Value: mv}})
	}
	return out, nil
}

// newIDs returns the ids of the new parts.
func (s *splitPlan) newIDs() []string {
	var ids []string
	for _, part := range s.sp.Parts[1:] {
		ids = append(ids, part.ProfileID)
	}
	return ids
}

// splitEvents adds the ProfileSplit event, lets the extensions see every
// part (they may change it) and adds one ProfileUpdated per part: for the
// kept part naming the attributes whose winning record changed, for a new
// part all of them.
func (p *Pipeline) splitEvents(ctx context.Context, s *splitPlan, bodies []profile.Profile, main *store.Change, w Withdrawal) error {
	ev, err := events.New(events.TypeProfileSplit, s.now, events.ProfileSplit{
		Version: events.SchemaVersion, ProfileID: s.prof.ID, ProfileVersion: bodies[0].Version,
		NewProfileIDs: s.newIDs(), Reason: w.Reason,
	}, s.prof.ID, fmt.Sprint(bodies[0].Version), "split")
	if err != nil {
		return err
	}
	main.Outbox = append(main.Outbox, ev)
	for pi := range bodies {
		b := &bodies[pi]
		var before *profile.Profile
		if pi == 0 {
			before = &s.prof
		}
		if err := p.extend(ctx, &Update{Before: before, After: b, Now: s.now}, main); err != nil {
			return fmt.Errorf("extend split of profile %s: %w", s.prof.ID, err)
		}
		main.Profiles[pi].Profile = *b
		upd, err := events.New(events.TypeProfileUpdated, s.now, events.ProfileUpdated{
			Version: events.SchemaVersion, ProfileID: b.ID, ProfileVersion: b.Version,
			Created: pi > 0, Changed: changedBySplit(s.prof, *b, pi > 0),
		}, b.ID, fmt.Sprint(b.Version), "split")
		if err != nil {
			return err
		}
		main.Outbox = append(main.Outbox, upd)
	}
	return nil
}

// changedBySplit names, sorted, the attributes of part b whose winning
// record or source differs from the split profile's (all of them for a
// created part).
func changedBySplit(prof, b profile.Profile, created bool) []string {
	var changed []string
	for name, a := range b.Attributes {
		if old, ok := prof.Attributes[name]; created || !ok || old.RecordID != a.RecordID || old.Source != a.Source {
			changed = append(changed, name)
		}
	}
	sort.Strings(changed)
	return changed
}

// moveRecords moves the records of the new parts (record, record index,
// block index), after main's writes, in change sets of at most
// MaxSplitWrites writes. The records whose events stay stored under
// another profile are noted in the split (Split.moved).
func (p *Pipeline) moveRecords(s *splitPlan, main store.Change) ([]store.Change, error) {
	pk := newPacker(main)
	for i, c := range s.crs {
		if s.partOf[i] == 0 {
			continue
		}
		to := s.sp.Parts[s.partOf[i]].ProfileID
		if c.stored != "" && c.stored != to {
			s.sp.moved = append(s.sp.moved, store.Appended{ProfileID: c.stored, Record: c.rec})
		}
		items, err := p.moveItems(c, to)
		if err != nil {
			return nil, err
		}
		pk.add(store.RecordWrite{Record: c.rec, ProfileID: to}, items)
	}
	return pk.changes, nil
}

// moveItems returns the index writes that move record c to profile to:
// its record index entries leave the ids it was listed under for to, and
// its block index entries point to to.
func (p *Pipeline) moveItems(c clusterRecord, to string) ([]store.ItemWrite, error) {
	if c.appended {
		// The new part keeps it as a record of its own (with its event),
		// without an idempotency key: it never had one, its appended
		// event item was its key (deleted after the split).
		c.index = []byte("{}")
	}
	rk := c.rec.Key()
	var items []store.ItemWrite
	for _, old := range c.indexed {
		items = append(items, store.ItemWrite{Op: store.ItemDelete, Item: store.Item{Kind: identity.ItemRecords, Key: old, Sort: rk}})
	}
	items = append(items, store.ItemWrite{Op: store.ItemPut, Item: store.Item{Kind: identity.ItemRecords, Key: to, Sort: rk, Value: c.index}})
	keys := p.resolver.Keys(c.rec)
	if len(keys) == 0 {
		return items, nil
	}
	ix, err := json.Marshal(identity.Indexed{Record: p.resolver.Compact(c.rec), ProfileID: to})
	if err != nil {
		return nil, fmt.Errorf("index record: %w", err)
	}
	for _, k := range keys {
		items = append(items, store.ItemWrite{Op: store.ItemPut, Item: store.Item{Kind: identity.ItemBlock, Key: identity.BlockKey(k), Sort: rk, Value: ix}})
	}
	return items, nil
}

// packer packs record moves into change sets of at most MaxSplitWrites
// writes, after a first change set; a move (its record and items) is
// never split across change sets.
type packer struct {
	changes []store.Change
	size    int // writes of the last change set
}

func newPacker(first store.Change) *packer {
	return &packer{changes: []store.Change{first}, size: writes(first)}
}

// add appends the move of one record.
func (pk *packer) add(rec store.RecordWrite, items []store.ItemWrite) {
	if pk.size+1+len(items) > MaxSplitWrites && pk.size > 0 {
		pk.changes = append(pk.changes, store.Change{})
		pk.size = 0
	}
	cur := &pk.changes[len(pk.changes)-1]
	cur.Records = append(cur.Records, rec)
	cur.Items = append(cur.Items, items...)
	pk.size += 1 + len(items)
}
