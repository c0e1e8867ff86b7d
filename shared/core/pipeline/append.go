package pipeline

import (
	"context"
	"fmt"
	"slices"
	"sort"

	"github.com/aurum-cdp/aurum/shared/core/identity"
	"github.com/aurum-cdp/aurum/shared/model/events"
	"github.com/aurum-cdp/aurum/shared/model/fault"
	"github.com/aurum-cdp/aurum/shared/model/profile"
	"github.com/aurum-cdp/aurum/shared/port/store"
)

// appendKnown sends the records that only add an event to a known profile
// to the Appender (when there is one), marking them done: each costs one
// item write and no transaction, and Fold applies it to the profile later.
// A record qualifies when it comes from a message source (api, webhook,
// bus: de-duplicated on its id, like the event item), carries exactly one
// event, every identifier
// it has is a matching identifier already claimed by one and the same
// profile (so it can neither create, merge nor extend a profile), it has
// no blocking key (composite or fuzzy rules index it) and placeholder
// detection is off (it observes every record). The claims are read
// eventually consistently (Appender.Claimants). Only records not done are
// considered: Ingest runs it on every attempt.
func (p *Pipeline) appendKnown(ctx context.Context, recs []profile.Record, done []bool, res *Result) error {
	var idx []int
	for i := range recs {
		if !done[i] {
			idx = append(idx, i)
		}
	}
	cand, ids := p.appendCandidates(recs, idx)
	if len(cand) == 0 {
		return nil
	}
	claimants, err := p.app.Claimants(ctx, ids)
	if err != nil {
		return fmt.Errorf("read claimants: %w", err)
	}
	return p.appendClaimed(ctx, recs, cand, claimants, done, res)
}

// appendViewed appends, like appendKnown, those of the records idx whose
// identifiers the view's strongly consistent claims (read before the
// batch applies anything) show claimed by one profile: records the
// eventually consistent read took for unknown, whose profile a concurrent
// writer created meanwhile. Committed with their profile instead, they
// would race that writer's append of the same message (both would count
// it). It returns the records left for the full path, in order.
func (p *Pipeline) appendViewed(ctx context.Context, v *view, recs []profile.Record, idx []int, done []bool, res *Result) ([]int, error) {
	cand, ids := p.appendCandidates(recs, idx)
	if len(cand) == 0 {
		return idx, nil
	}
	owners, err := v.owners(ctx, ids)
	if err != nil {
		return nil, err
	}
	claimants := make(map[profile.Identifier]string, len(owners))
	for id, o := range owners {
		claimants[id] = o.Claimant
	}
	if err := p.appendClaimed(ctx, recs, cand, claimants, done, res); err != nil {
		return nil, err
	}
	return slices.DeleteFunc(idx, func(i int) bool { return done[i] }), nil
}

// appendCandidates returns the records of idx that may take the append
// path (appendable) and their identifiers; none without an Appender or
// with placeholder detection.
func (p *Pipeline) appendCandidates(recs []profile.Record, idx []int) ([]int, []profile.Identifier) {
	if p.app == nil || p.resolver.PlaceholderDetection() {
		return nil, nil
	}
	var cand []int
	var ids []profile.Identifier
	for _, i := range idx {
		if p.appendable(recs[i]) {
			cand = append(cand, i)
			ids = append(ids, recs[i].Identifiers...)
		}
	}
	return cand, ids
}

// appendClaimed appends the records of cand whose identifiers one profile
// claims (claimants, as written), marking them done: accepted when this
// call wrote the event item, duplicates when it was there (a re-delivery,
// or a concurrent writer's).
func (p *Pipeline) appendClaimed(ctx context.Context, recs []profile.Record, cand []int, claimants map[profile.Identifier]string, done []bool, res *Result) error {
	var apps []store.Append
	var at []int
	for _, i := range cand {
		if c := soleClaimant(recs[i], claimants); c != "" {
			apps = append(apps, store.Append{ProfileID: c, Record: recs[i]})
			at = append(at, i)
		}
	}
	if len(apps) == 0 {
		return nil
	}
	written, err := p.app.Append(ctx, apps)
	if err != nil {
		// Appends this call wrote are accepted now; the others are tried
		// again by the next attempt (which finds the event item of one
		// written meanwhile by another writer: a duplicate).
		for j, i := range at {
			if j < len(written) && written[j] {
				accountAppend(res, i, apps[j].ProfileID, done)
			}
		}
		return fmt.Errorf("append %d events: %w", len(apps), err)
	}
	for j, i := range at {
		if !written[j] {
			done[i] = true
			res.Duplicates++
			continue
		}
		accountAppend(res, i, apps[j].ProfileID, done)
	}
	return nil
}

// accountAppend counts record i, appended under profile id by this call,
// as accepted.
func accountAppend(res *Result, i int, id string, done []bool) {
	done[i] = true
	res.Accepted++
	res.Appended++
	res.ProfileIDs[i] = id
}

// soleClaimant returns the profile claiming every identifier of rec, or
// "" when one is unclaimed or two profiles claim them (the full path).
func soleClaimant(rec profile.Record, claimants map[profile.Identifier]string) string {
	c := ""
	for _, id := range rec.Identifiers {
		cl, ok := claimants[id]
		if !ok || (c != "" && cl != c) {
			return ""
		}
		c = cl
	}
	return c
}

// appendable reports whether rec may take the append path, before its
// identifiers' claimants are known.
func (p *Pipeline) appendable(rec profile.Record) bool {
	if !p.byID[rec.Source] {
		// File rows are de-duplicated on their content (a corrected row is
		// processed again); an appended event item keys on the event.
		return false
	}
	if len(rec.Events) != 1 || len(rec.Identifiers) == 0 {
		return false
	}
	links := p.resolver.Links(rec)
	if len(links) != len(rec.Identifiers) {
		return false // an identifier no rule matches on would be new to the profile
	}
	return len(p.resolver.Keys(rec)) == 0
}

// FoldResult summarizes a Fold.
type FoldResult struct {
	// Folded appended records were applied to their profiles.
	Folded int `json:"folded"`
	// Skipped were folded before (a stream batch delivered again) or are
	// the same event appended under two partitions of one profile.
	Skipped int `json:"skipped"`
	// Profiles counts the profile writes.
	Profiles int `json:"profiles"`
	// Orphans were appended to a profile that no longer exists (erased);
	// their event items are deleted.
	Orphans int `json:"orphans"`
	// Compacted counts identifiers re-claimed by their live profile
	// because their claimant had been merged away.
	Compacted int `json:"compacted"`
}

// Fold applies appended records (store.Appender), as the change stream
// delivers them, to their live profiles: one profile change per profile
// per call, whatever the number of its records — the golden record, its
// aggregates and recent events, segment membership (extensions) and one
// ProfileUpdated event naming every event folded in. Each profile
// remembers, per partition, the stream position it has folded, so a batch
// delivered again changes nothing. Conflicting profile writes are re-read
// and retried. The records counters of the identity statistics are added
// once per call, after the profiles, one single-item write each.
func (p *Pipeline) Fold(ctx context.Context, apps []store.Appended) (FoldResult, error) {
	var res FoldResult
	if p.initErr != nil {
		return res, fmt.Errorf("pipeline: %w", p.initErr)
	}
	if len(apps) == 0 {
		return res, nil
	}
	byPart, parts, err := byPartition(apps)
	if err != nil {
		return res, fmt.Errorf("pipeline: fold: %w", err)
	}
	lv, err := p.livePartitions(ctx, byPart, parts)
	if err != nil {
		return res, fmt.Errorf("pipeline: fold: %w", err)
	}
	stats := map[string]int64{}
	sizes := [2]map[string]int{{}, {}} // record counts before and after, per profile
	for _, id := range lv.order {
		gone, err := p.foldProfile(ctx, lv.first[id], lv.apps[id], &res, stats, sizes)
		if err != nil {
			return res, fmt.Errorf("pipeline: fold into profile %s: %w", id, err)
		}
		lv.orphans = append(lv.orphans, gone...)
	}
	if err := p.discard(ctx, lv.orphans, &res); err != nil {
		return res, err
	}
	p.compact(ctx, lv.apps, &res)
	// Statistics go last, one single-item change per counter or ranking
	// entry (no transaction): a crash before them loses this call's
	// share, a retried batch does not count it twice.
	writes := sizeItems(sizes[0], sizes[1], stats)
	writes = append(writes, statItems("fold/"+apps[0].ProfileID+"/"+apps[0].Seq, stats)...)
	changes := make([]store.Change, len(writes))
	for i, w := range writes {
		changes[i] = store.Change{Items: []store.ItemWrite{w}}
	}
	if err := p.st.Commit(ctx, changes...); err != nil {
		return res, fmt.Errorf("pipeline: fold: add statistics: %w", err)
	}
	return res, nil
}

// byPartition groups appends by the profile they were appended under, in
// first-seen order. An append without profile, source, id or its one
// event is refused (fault.ErrInvalid).
func byPartition(apps []store.Appended) (map[string][]store.Appended, []string, error) {
	byPart := map[string][]store.Appended{}
	var parts []string
	for _, a := range apps {
		if a.ProfileID == "" || a.Record.Source == "" || a.Record.ID == "" || len(a.Record.Events) != 1 {
			return nil, nil, fault.Invalidf("appended record without profile, source, id or its one event")
		}
		if _, ok := byPart[a.ProfileID]; !ok {
			parts = append(parts, a.ProfileID)
		}
		byPart[a.ProfileID] = append(byPart[a.ProfileID], a)
	}
	return byPart, parts, nil
}

// lives are the appends of a Fold by live profile: partitions of merged
// profiles share their survivor's fold.
type lives struct {
	// order lists the live profiles in first-seen order; first is each
	// one as read, apps its appends.
	order []string
	first map[string]profile.Profile
	apps  map[string][]store.Appended
	// orphans were appended to a profile that no longer exists.
	orphans []store.Appended
}

// livePartitions resolves the partitions to their live profiles.
func (p *Pipeline) livePartitions(ctx context.Context, byPart map[string][]store.Appended, parts []string) (lives, error) {
	lv := lives{first: map[string]profile.Profile{}, apps: map[string][]store.Appended{}}
	for _, part := range parts {
		pr, err := p.st.Profile(ctx, part)
		if fault.Is(err, fault.ErrNotFound) {
			lv.orphans = append(lv.orphans, byPart[part]...)
			continue
		}
		if err != nil {
			return lives{}, fmt.Errorf("read profile %s: %w", part, err)
		}
		if _, ok := lv.apps[pr.ID]; !ok {
			lv.order = append(lv.order, pr.ID)
			lv.first[pr.ID] = pr
		}
		lv.apps[pr.ID] = append(lv.apps[pr.ID], byPart[part]...)
	}
	return lv, nil
}

// compact re-claims, for the live profile, the identifiers of records
// appended under a profile that had been merged away (lazy compaction of
// redirects: later appends and reads skip the hop). Each claim is its own
// conditional write, expecting the claimant the append saw; one that
// changed meanwhile is left alone.
func (p *Pipeline) compact(ctx context.Context, byLive map[string][]store.Appended, res *FoldResult) {
	var changes []store.Change
	seen := map[profile.Identifier]bool{}
	for live, apps := range byLive {
		for _, a := range apps {
			if a.ProfileID == live {
				continue
			}
			for _, id := range a.Record.Identifiers {
				if seen[id] {
					continue
				}
				seen[id] = true
				changes = append(changes, store.Change{Claims: []store.Claim{{Identifier: id, ProfileID: live, ExpectClaimant: a.ProfileID}}})
			}
		}
	}
	for _, ch := range changes {
		err := p.st.Commit(ctx, ch)
		if err == nil {
			res.Compacted++
			continue
		}
		if !fault.Is(err, fault.ErrConflict) {
			p.log.WarnContext(ctx, "pipeline: claim compaction failed", "error", err.Error())
			return
		}
	}
}

// foldProfile folds apps into the live profile pr, retrying on conflict.
// It returns apps if the profile is gone meanwhile (erased).
func (p *Pipeline) foldProfile(ctx context.Context, pr profile.Profile, apps []store.Appended, res *FoldResult, stats map[string]int64, sizes [2]map[string]int) ([]store.Appended, error) {
	for attempt := 1; ; attempt++ {
		after, folded, skipped, err := p.foldOnce(ctx, pr, apps, stats)
		if err == nil {
			res.Folded += folded
			res.Skipped += skipped
			if folded > 0 {
				res.Profiles++
				sizes[0][pr.ID], sizes[1][pr.ID] = pr.RecordCount, after
			}
			return nil, nil
		}
		if !fault.Is(err, fault.ErrConflict) || attempt >= p.attempts {
			return nil, fmt.Errorf("attempt %d: %w", attempt, err)
		}
		if err := sleep(ctx, backoff(attempt)); err != nil {
			return nil, err
		}
		// Re-read: the profile changed, or was merged into another (whose
		// fold positions include this one's).
		if pr, err = p.st.Profile(ctx, pr.ID); err != nil {
			if fault.Is(err, fault.ErrNotFound) {
				return apps, nil
			}
			return nil, fmt.Errorf("re-read: %w", err)
		}
	}
}

// discard deletes the event items of appends whose profile is gone: an
// append that raced an erasure (it read a claim up to about a second old)
// must not outlive it.
func (p *Pipeline) discard(ctx context.Context, orphans []store.Appended, res *FoldResult) error {
	if len(orphans) == 0 {
		return nil
	}
	res.Orphans += len(orphans)
	p.log.WarnContext(ctx, "pipeline: appended events of a missing profile discarded", "events", len(orphans))
	if p.app == nil {
		return nil
	}
	if err := p.app.Discard(ctx, orphans); err != nil {
		return fmt.Errorf("pipeline: fold: %w", err)
	}
	return nil
}

// foldOnce builds and commits one fold of apps into pr and returns the
// profile's new record count. Counters are added to stats only when the
// commit succeeded.
func (p *Pipeline) foldOnce(ctx context.Context, pr profile.Profile, apps []store.Appended, stats map[string]int64) (size, folded, skipped int, err error) {
	now := p.clock().UTC()
	surv := clone(pr)
	todo, skipped := unfolded(&surv, apps)
	if len(todo) == 0 {
		return pr.RecordCount, 0, skipped, nil
	}
	f := p.applyFolds(&surv, todo)
	surv.Version = pr.Version + 1
	surv.UpdatedAt = now
	var ch store.Change
	upd, err := events.New(events.TypeProfileUpdated, now, events.ProfileUpdated{
		Version: events.SchemaVersion, ProfileID: surv.ID, ProfileVersion: surv.Version,
		Changed: f.changed, Sources: f.sources, EventNames: f.names,
	}, surv.ID, fmt.Sprint(surv.Version), "fold")
	if err != nil {
		return 0, 0, 0, err
	}
	ch.Outbox = []events.Envelope{upd}
	before := pr
	if err := p.extend(ctx, &Update{Before: &before, After: &surv, Folded: todo, Now: now}, &ch); err != nil {
		return 0, 0, 0, fmt.Errorf("extend fold: %w", err)
	}
	ch.Profiles = []store.ProfileWrite{{Profile: surv, ExpectVersion: pr.Version}}
	ch.Items = store.MergeAdds(ch.Items)
	if err := p.st.Commit(ctx, ch); err != nil {
		return 0, 0, 0, err
	}
	for k, n := range f.stats {
		stats[k] += n
	}
	return surv.RecordCount, len(todo), skipped, nil
}

// unfolded returns the records of apps that surv has not folded yet, in
// observation order, and moves surv's fold positions past them. Skipped
// are those folded before (a batch delivered again) and events appended
// twice under merged partitions.
func unfolded(surv *profile.Profile, apps []store.Appended) (todo []profile.Record, skipped int) {
	if surv.Folded == nil {
		surv.Folded = map[string]string{}
	}
	recent := map[string]bool{}
	for _, e := range surv.RecentEvents {
		recent[e.ID] = true
	}
	for _, a := range apps {
		if !profile.SeqAfter(a.Seq, surv.Folded[a.ProfileID]) {
			skipped++
			continue
		}
		surv.Folded[a.ProfileID] = a.Seq
		if e := a.Record.Events[0]; recent[e.ID] {
			skipped++ // the same message appended under a merged partition too
			continue
		}
		recent[a.Record.Events[0].ID] = true
		todo = append(todo, a.Record)
	}
	sort.SliceStable(todo, func(i, j int) bool { return todo[i].ObservedAt.Before(todo[j].ObservedAt) })
	return todo, skipped
}

// foldApplied is what applying folded records changed: the attributes
// (sorted, once), the event names in order, the sources (sorted, once)
// and the counters to add once committed.
type foldApplied struct {
	changed, names, sources []string
	stats                   map[string]int64
}

// applyFolds applies todo to surv.
func (p *Pipeline) applyFolds(surv *profile.Profile, todo []profile.Record) foldApplied {
	f := foldApplied{stats: map[string]int64{identity.CounterRecords: int64(len(todo))}}
	for _, r := range todo {
		f.changed = append(f.changed, p.rules.Apply(surv, r)...)
		f.names = append(f.names, r.Events[0].Name)
		f.sources = append(f.sources, r.Source)
		if links := p.resolver.Links(r); len(links) > 0 {
			f.stats["rule/"+links[0].Rule+"/links"]++
		}
	}
	sort.Strings(f.changed)
	f.changed = slices.Compact(f.changed)
	slices.Sort(f.sources)
	f.sources = slices.Compact(f.sources)
	return f
}
