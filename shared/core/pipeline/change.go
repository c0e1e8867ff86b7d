package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/aurum-cdp/aurum/shared/core/identity"
	"github.com/aurum-cdp/aurum/shared/model/events"
	"github.com/aurum-cdp/aurum/shared/model/profile"
	"github.com/aurum-cdp/aurum/shared/port/store"
)

// blockPriority is the link priority of composite-key and fuzzy links:
// below every identifier type.
const blockPriority = 1 << 20

// change resolves one record against the view and returns its change set:
// the live profiles the record links to are found (identifier claims and
// the block index), those merge protection allows are merged into the
// oldest, the record is applied to the survivor and the claims, indexes,
// ledger entries and outbox events of the change are added.
func (p *Pipeline) change(ctx context.Context, v *view, rec profile.Record, key string) (store.Change, outcome, error) {
	d := newDraft(rec, key, p.clock().UTC())
	links, err := p.placeholders(ctx, v, rec, p.resolver.Links(rec), &d.ch, d.stats)
	if err != nil {
		return store.Change{}, outcome{}, err
	}
	// One read for every identifier of the record: the links' owners now,
	// and those of the others for lookupClaims later, from the view.
	if _, err := v.owners(ctx, rec.Identifiers); err != nil {
		return store.Change{}, outcome{}, err
	}
	owners, err := v.owners(ctx, identifiersOf(links))
	if err != nil {
		return store.Change{}, outcome{}, err
	}
	keys := p.resolver.Keys(rec)
	c := newCandidates(p.resolver.Rules())
	c.addLinks(links, owners)
	if err := p.addBlockMatches(ctx, v, rec, keys, c); err != nil {
		return store.Change{}, outcome{}, err
	}
	profiles, err := c.live(ctx, v)
	if err != nil {
		return store.Change{}, outcome{}, err
	}
	p.order(profiles, c.prio)
	group, err := p.group(ctx, v, rec, profiles, owners, c.prio, c.rules, d.stats)
	if err != nil {
		return store.Change{}, outcome{}, err
	}
	if err := p.build(ctx, v, d, group, c, links, owners, keys); err != nil {
		return store.Change{}, outcome{}, err
	}
	v.apply(d.ch)
	return d.ch, d.out, nil
}

// build fills the draft from the group the record joins: the survivor
// with the others merged into it, the record applied, the claims, the
// indexes, the outbox events and the extensions' additions.
func (p *Pipeline) build(ctx context.Context, v *view, d *draft, group []profile.Profile, c *candidates, links []identity.Link, owners map[profile.Identifier]store.Owner, keys []identity.Key) error {
	// The survivor is the oldest profile of the group (ties: smallest id),
	// so profile ids stay stable for the people who use them.
	sort.Slice(group, func(i, j int) bool { return older(group[i], group[j]) })
	d.start(group)
	if err := p.mergeGroup(ctx, v, d, group, c); err != nil {
		return err
	}
	c.countLinks(d.stats)
	dropped := p.applyRecord(d)
	d.ch.Claims = claims(links, owners, dropped, group, d.surv.ID)
	lookups, err := p.lookupClaims(ctx, v, d.rec, dropped, d.surv.ID)
	if err != nil {
		return err
	}
	d.ch.Claims = append(d.ch.Claims, lookups...)
	if err := p.indexRecord(d, keys); err != nil {
		return err
	}
	return p.finish(ctx, d)
}

// identifiersOf returns the identifiers of links.
func identifiersOf(links []identity.Link) []profile.Identifier {
	ids := make([]profile.Identifier, len(links))
	for i, l := range links {
		ids[i] = l.Identifier
	}
	return ids
}

// candidates are the profiles a record links to, in the order found, and
// per profile id: the rule that linked it (for block-index links the
// earliest in rule order), the best priority of the identifiers linking
// it (blockPriority for composite-key and fuzzy links) and the
// identifiers the record shares with it.
type candidates struct {
	order  []string // rule names, in rule order
	ids    []string
	rules  map[string]string
	prio   map[string]int
	shared map[string][]string
	// got marks the live profiles found (see live).
	got map[string]bool
}

func newCandidates(order []string) *candidates {
	return &candidates{order: order, rules: map[string]string{}, prio: map[string]int{}, shared: map[string][]string{}, got: map[string]bool{}}
}

// addLinks adds the profiles owning the record's identifier links.
func (c *candidates) addLinks(links []identity.Link, owners map[profile.Identifier]store.Owner) {
	for _, l := range links {
		o, ok := owners[l.Identifier]
		if !ok {
			continue
		}
		if _, seen := c.rules[o.ProfileID]; !seen {
			c.ids = append(c.ids, o.ProfileID)
			c.rules[o.ProfileID] = l.Rule
			c.prio[o.ProfileID] = l.Priority
		}
		c.prio[o.ProfileID] = min(c.prio[o.ProfileID], l.Priority)
		c.shared[o.ProfileID] = append(c.shared[o.ProfileID], l.Identifier.String())
	}
}

// addBlock adds a profile that a composite-key or fuzzy rule links to.
func (c *candidates) addBlock(id, rule string) {
	if _, seen := c.rules[id]; !seen {
		c.ids = append(c.ids, id)
		c.rules[id] = rule
		c.prio[id] = blockPriority
	}
	c.rules[id] = earlierRule(c.order, c.rules[id], rule)
}

// addBlockMatches adds the profiles of the records indexed under the
// record's keys that the key's rule matches: candidates come from the
// block index, never a scan. A block too common to discriminate is
// skipped, as in batch mode.
func (p *Pipeline) addBlockMatches(ctx context.Context, v *view, rec profile.Record, keys []identity.Key, c *candidates) error {
	for _, k := range keys {
		cands, err := v.block(ctx, k)
		if err != nil {
			return err
		}
		if len(cands) > p.resolver.BlockLimit(k) {
			continue
		}
		for _, x := range cands {
			if x.Record.Key() == rec.Key() || !p.resolver.CompareOn(k, rec, x.Record).Match {
				continue
			}
			c.addBlock(v.resolve(x.ProfileID), k.Rule)
		}
	}
	return nil
}

// live reads the candidates' profiles, following merges: each live
// profile once, in the order found. A profile reached through an id it
// merged away inherits that id's rule, priority and shared identifiers.
func (c *candidates) live(ctx context.Context, v *view) ([]profile.Profile, error) {
	profiles := make([]profile.Profile, 0, len(c.ids))
	for _, id := range c.ids {
		pr, err := v.profile(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("read profile %s: %w", id, err)
		}
		if c.got[pr.ID] {
			c.prio[pr.ID] = min(c.prio[pr.ID], c.prio[id])
			continue
		}
		c.got[pr.ID] = true
		if pr.ID != id {
			c.rules[pr.ID] = earlierRule(c.order, c.rules[pr.ID], c.rules[id])
			c.shared[pr.ID] = append(c.shared[pr.ID], c.shared[id]...)
			if q, ok := c.prio[pr.ID]; !ok || c.prio[id] < q {
				c.prio[pr.ID] = c.prio[id]
			}
		}
		profiles = append(profiles, pr)
	}
	return profiles, nil
}

// countLinks counts one link per live profile under its rule.
func (c *candidates) countLinks(stats map[string]int64) {
	for id, r := range c.rules {
		if c.got[id] {
			stats["rule/"+r+"/links"]++
		}
	}
}

// order sorts the profiles as group considers them: oldest first (ties:
// smallest id); with keep_priority, the profile linked by the
// highest-priority identifier comes first, so a cap conflict drops the
// lower-priority link.
func (p *Pipeline) order(profiles []profile.Profile, prio map[string]int) {
	sort.Slice(profiles, func(i, j int) bool { return older(profiles[i], profiles[j]) })
	if p.resolver.KeepPriority() {
		sort.SliceStable(profiles, func(i, j int) bool { return prio[profiles[i].ID] < prio[profiles[j].ID] })
	}
}

// draft is the change set of one record while change builds it.
type draft struct {
	rec   profile.Record
	key   string
	now   time.Time
	ch    store.Change
	out   outcome
	stats map[string]int64
	// surv is the profile the record lands in; before is it as stored
	// (nil when the change creates it) and expect its stored version.
	surv   profile.Profile
	before *profile.Profile
	expect int64
	// oldSizes are the record counts of the group's profiles.
	oldSizes map[string]int
	// changed names the attributes the change touches; newIDs the
	// identifiers it adds to the survivor.
	changed []string
	newIDs  []string
	// merged are the profiles merged away, with their ProfilesMerged
	// events.
	merged      []profile.Profile
	mergeEvents []events.Envelope
}

func newDraft(rec profile.Record, key string, now time.Time) *draft {
	d := &draft{rec: rec, key: key, now: now, stats: map[string]int64{identity.CounterRecords: 1}}
	d.ch.Keys = []string{key}
	return d
}

// stamp is the draft's time as ledger and do-not-merge entries hold it.
func (d *draft) stamp() string { return d.now.Format(time.RFC3339Nano) }

// start picks the survivor: the first profile of the (sorted) group, or a
// new profile whose id derives from the record's key.
func (d *draft) start(group []profile.Profile) {
	if len(group) == 0 {
		d.surv = profile.Profile{ID: NewProfileID(d.key), CreatedAt: d.now}
		d.out.created = true
	} else {
		d.surv = clone(group[0])
		d.before = &group[0]
		d.expect = d.surv.Version
	}
	d.oldSizes = map[string]int{}
	for _, g := range group {
		d.oldSizes[g.ID] = g.RecordCount
	}
}

// mergeGroup merges the group's other profiles into the survivor.
func (p *Pipeline) mergeGroup(ctx context.Context, v *view, d *draft, group []profile.Profile, c *candidates) error {
	copied := map[string]bool{}
	for _, other := range group[min(1, len(group)):] {
		if err := p.mergeOne(ctx, v, d, other, c, copied); err != nil {
			return err
		}
	}
	return nil
}

// mergeOne merges other into the survivor: golden record, redirect,
// counters, ProfilesMerged event, ledger entry, and the do-not-merge
// entries other inherits to the survivor (copied marks those written).
func (p *Pipeline) mergeOne(ctx context.Context, v *view, d *draft, other profile.Profile, c *candidates, copied map[string]bool) error {
	surv, rule := &d.surv, c.rules[other.ID]
	d.merged = append(d.merged, other)
	d.changed = append(d.changed, p.rules.Merge(surv, other)...)
	d.ch.Redirects = append(d.ch.Redirects, store.Redirect{From: other.ID, To: surv.ID, ExpectVersion: other.Version, At: d.now})
	d.out.merged++
	d.stats["rule/"+rule+"/merges"]++
	ids := append(slices.Clone(c.shared[other.ID]), c.shared[surv.ID]...)
	sort.Strings(ids)
	ids = slices.Compact(ids)
	ev, err := events.New(events.TypeProfilesMerged, d.now, events.ProfilesMerged{
		Version: events.SchemaVersion, ProfileID: surv.ID, Merged: []string{other.ID},
		Rule: rule, Identifiers: ids, RecordKey: d.rec.Key(),
	}, surv.ID, other.ID, d.key)
	if err != nil {
		return err
	}
	d.mergeEvents = append(d.mergeEvents, ev)
	entry, err := json.Marshal(identity.LedgerEntry{Survivor: surv.ID, Merged: other.ID, Rule: rule,
		Identifiers: ids, Record: d.rec.Key(), At: d.stamp()})
	if err != nil {
		return fmt.Errorf("ledger entry: %w", err)
	}
	d.ch.Items = append(d.ch.Items, store.ItemWrite{Op: store.ItemCreate, Item: store.Item{
		Kind: identity.ItemLedger, Key: surv.ID, Sort: d.stamp() + "/" + other.ID, Value: entry}})
	return inheritApart(ctx, v, d, other.ID, copied)
}

// inheritApart makes the do-not-merge entries of merged-away profile from
// bind the survivor.
func inheritApart(ctx context.Context, v *view, d *draft, from string, copied map[string]bool) error {
	apart, err := v.apartOf(ctx, from)
	if err != nil {
		return err
	}
	for _, a := range apart {
		if a == d.surv.ID || copied[a] {
			continue
		}
		copied[a] = true
		val, err := json.Marshal(identity.Apart{Reason: "inherited from " + from, At: d.stamp()})
		if err != nil {
			return fmt.Errorf("do-not-merge entry: %w", err)
		}
		d.ch.Items = append(d.ch.Items, store.ItemWrite{Op: store.ItemPut, Item: store.Item{Kind: identity.ItemApart, Key: d.surv.ID, Sort: a, Value: val}})
	}
	return nil
}

// applyRecord folds the record into the survivor. Identifiers over their
// type's cap are not attached to the profile: they stay on the record,
// are counted as blocked and returned (they are not claimed).
func (p *Pipeline) applyRecord(d *draft) (dropped map[profile.Identifier]bool) {
	applied := d.rec
	applied.Identifiers = nil
	for _, id := range d.rec.Identifiers {
		if !d.surv.HasIdentifier(id) && p.overCap(append(slices.Clone(d.surv.Identifiers), applied.Identifiers...), []profile.Identifier{id}) != "" {
			if dropped == nil {
				dropped = map[profile.Identifier]bool{}
			}
			dropped[id] = true
			d.stats["blocked/"+identity.ProtectMaxPerProfile]++
			continue
		}
		applied.Identifiers = append(applied.Identifiers, id)
	}
	nIDs := len(d.surv.Identifiers)
	d.changed = append(d.changed, p.rules.Apply(&d.surv, applied)...)
	sort.Strings(d.changed)
	d.changed = slices.Compact(d.changed)
	for _, id := range d.surv.Identifiers[nIDs:] {
		d.newIDs = append(d.newIDs, id.String())
	}
	return dropped
}

// claims returns the identifier claims of a change landing in profile
// surv: an unclaimed link identifier (not dropped by a cap) is claimed,
// and one whose claimant was merged away into the group is re-claimed by
// the live profile (lazy compaction: reads and appends stop following the
// redirect).
func claims(links []identity.Link, owners map[profile.Identifier]store.Owner, dropped map[profile.Identifier]bool, group []profile.Profile, surv string) []store.Claim {
	inGroup := map[string]bool{}
	for _, g := range group {
		inGroup[g.ID] = true
	}
	var out []store.Claim
	for _, l := range links {
		o, claimed := owners[l.Identifier]
		switch {
		case !claimed && !dropped[l.Identifier]:
			out = append(out, store.Claim{Identifier: l.Identifier, ProfileID: surv})
		case claimed && o.Claimant != o.ProfileID && inGroup[o.ProfileID]:
			out = append(out, store.Claim{Identifier: l.Identifier, ProfileID: surv, ExpectClaimant: o.Claimant})
		}
	}
	return out
}

// lookupClaims returns the claims of the record's identifiers that no
// rule links on, for profile surv: they are claimed only so that look-ups
// by identifier (GET /v1/profiles?identifier=) find the profile, and never
// link records (change reads the owners of links only; the append path
// takes records whose identifiers all link). One that another profile
// claimed first stays with that profile; dropped ones (over their type's
// cap) are not claimed.
func (p *Pipeline) lookupClaims(ctx context.Context, v *view, rec profile.Record, dropped map[profile.Identifier]bool, surv string) ([]store.Claim, error) {
	linked := map[profile.Identifier]bool{}
	for _, l := range p.resolver.Links(rec) {
		linked[l.Identifier] = true
	}
	var ids []profile.Identifier
	for _, id := range rec.Identifiers {
		if !linked[id] && !dropped[id] {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	owners, err := v.owners(ctx, ids)
	if err != nil {
		return nil, err
	}
	var out []store.Claim
	for _, id := range ids {
		if _, claimed := owners[id]; !claimed {
			out = append(out, store.Claim{Identifier: id, ProfileID: surv})
		}
	}
	return out, nil
}

// indexRecord adds the record's index entries: the block index under each
// of its keys (for composite and fuzzy rules), the record index (the
// cluster's records and their idempotency keys, for unmerge and erasure)
// and the cluster-size statistics.
func (p *Pipeline) indexRecord(d *draft, keys []identity.Key) error {
	rk := d.rec.Key()
	if len(keys) > 0 {
		ix, err := json.Marshal(identity.Indexed{Record: p.resolver.Compact(d.rec), ProfileID: d.surv.ID})
		if err != nil {
			return fmt.Errorf("index record: %w", err)
		}
		for _, k := range keys {
			d.ch.Items = append(d.ch.Items, store.ItemWrite{Op: store.ItemPut, Item: store.Item{
				Kind: identity.ItemBlock, Key: identity.BlockKey(k), Sort: rk, Value: ix}})
		}
	}
	ri, err := json.Marshal(identity.RecordIndex{Keys: d.ch.Keys})
	if err != nil {
		return fmt.Errorf("record index: %w", err)
	}
	d.ch.Items = append(d.ch.Items, store.ItemWrite{Op: store.ItemPut, Item: store.Item{Kind: identity.ItemRecords, Key: d.surv.ID, Sort: rk, Value: ri}})
	d.ch.Items = append(d.ch.Items, sizeItems(d.oldSizes, map[string]int{d.surv.ID: d.surv.RecordCount}, d.stats)...)
	return nil
}

// finish writes the survivor and the record, adds the ProfileUpdated
// event after the merge events, and lets the extensions add to the
// change.
func (p *Pipeline) finish(ctx context.Context, d *draft) error {
	d.out.stats = d.stats
	d.surv.Version = d.expect + 1
	d.surv.UpdatedAt = d.now
	d.ch.Profiles = []store.ProfileWrite{{Profile: d.surv, ExpectVersion: d.expect}}
	d.ch.Records = []store.RecordWrite{{Record: d.rec, ProfileID: d.surv.ID}}
	var names []string
	for _, e := range d.rec.Events {
		names = append(names, e.Name)
	}
	upd, err := events.New(events.TypeProfileUpdated, d.now, events.ProfileUpdated{
		Version: events.SchemaVersion, ProfileID: d.surv.ID, ProfileVersion: d.surv.Version,
		Created: d.out.created, Changed: d.changed, NewIdentifiers: d.newIDs,
		Sources: []string{d.rec.Source}, EventNames: names,
	}, d.surv.ID, fmt.Sprint(d.surv.Version), d.key)
	if err != nil {
		return err
	}
	d.ch.Outbox = append(d.mergeEvents, upd)
	u := &Update{Before: d.before, After: &d.surv, Merged: d.merged, Record: d.rec, Now: d.now}
	if err := p.extend(ctx, u, &d.ch); err != nil {
		return fmt.Errorf("extend change of profile %s: %w", d.surv.ID, err)
	}
	d.ch.Profiles[0].Profile = d.surv
	d.out.profileID = d.surv.ID
	// Extensions and counters may add to the same counter item.
	d.ch.Items = store.MergeAdds(d.ch.Items)
	return nil
}

// extend runs the extensions on u, in order.
func (p *Pipeline) extend(ctx context.Context, u *Update, ch *store.Change) error {
	for _, x := range p.exts {
		if err := x.Extend(ctx, u, ch); err != nil {
			return err
		}
	}
	return nil
}
