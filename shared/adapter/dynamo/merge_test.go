package dynamo_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"time"

	"github.com/aurum-cdp/aurum/shared/model/events"
	"github.com/aurum-cdp/aurum/shared/model/fault"
	"github.com/aurum-cdp/aurum/shared/model/profile"
	"github.com/aurum-cdp/aurum/shared/port/store"
)

// This file holds a minimal identity-resolution routine, standing in for
// the pipeline in the tests and benchmarks of this package: it reads the
// owners of a record's identifiers, claims the unclaimed ones, merges every
// other live profile into the one with the lowest id, attaches the record
// and commits all of it in one change, retrying on conflict.

// errStale means a profile moved between the reads of one attempt.
var errStale = fmt.Errorf("profile moved while planning: %w", fault.ErrConflict)

// ingestResult tells what one ingest did.
type ingestResult struct {
	ProfileID string
	Duplicate bool
	Merged    int // profiles merged away
	Attempts  int
}

// ingest resolves and commits rec. newID names new profiles.
func ingest(ctx context.Context, st store.Store, rec profile.Record, newID func() string) (ingestResult, error) {
	for attempt := 1; attempt <= 200; attempt++ {
		res, ch, err := plan(ctx, st, rec, newID)
		if err == nil && !res.Duplicate {
			err = st.Commit(ctx, ch)
		}
		res.Attempts = attempt
		switch {
		case err == nil:
			return res, nil
		case errors.Is(err, fault.ErrConflict), errors.Is(err, fault.ErrRetryable):
			time.Sleep(time.Duration(rand.IntN(5000)) * time.Microsecond)
		default:
			return res, err
		}
	}
	return ingestResult{}, fmt.Errorf("ingest %s: still conflicting after 200 attempts", rec.Key())
}

func recordKey(rec profile.Record) string { return "record:" + rec.Key() }

// plan builds the change for rec from the current state.
func plan(ctx context.Context, st store.Store, rec profile.Record, newID func() string) (ingestResult, store.Change, error) {
	var res ingestResult
	seen, err := st.Seen(ctx, []string{recordKey(rec)})
	if err != nil {
		return res, store.Change{}, err
	}
	if seen[recordKey(rec)] {
		res.Duplicate = true
		return res, store.Change{}, nil
	}
	owners, err := st.Owners(ctx, rec.Identifiers)
	if err != nil {
		return res, store.Change{}, err
	}
	var live []string
	for _, o := range owners {
		if !slices.Contains(live, o.ProfileID) {
			live = append(live, o.ProfileID)
		}
	}
	sort.Strings(live)

	ch := store.Change{Keys: []string{recordKey(rec)}}
	var p profile.Profile
	expect := int64(0)
	if len(live) == 0 {
		p = profile.Profile{ID: newID(), CreatedAt: rec.ReceivedAt, Sources: map[string]int{}}
	} else {
		if p, err = st.Profile(ctx, live[0]); err != nil {
			return res, store.Change{}, err
		}
		if p.ID != live[0] {
			return res, store.Change{}, errStale
		}
		expect = p.Version
		for _, id := range live[1:] {
			o, err := st.Profile(ctx, id)
			if err != nil {
				return res, store.Change{}, err
			}
			if o.ID != id {
				return res, store.Change{}, errStale
			}
			ch.Redirects = append(ch.Redirects, store.Redirect{From: id, To: p.ID, ExpectVersion: o.Version, At: rec.ReceivedAt})
			p = absorb(p, o)
			res.Merged++
		}
	}
	for _, id := range rec.Identifiers {
		if _, ok := owners[id]; !ok {
			ch.Claims = append(ch.Claims, store.Claim{Identifier: id, ProfileID: p.ID})
		}
		if !p.HasIdentifier(id) {
			p.Identifiers = append(p.Identifiers, id)
		}
	}
	p.Version = expect + 1
	p.RecordCount++
	if p.Sources == nil {
		p.Sources = map[string]int{}
	}
	p.Sources[rec.Source]++
	p.EventCount += len(rec.Events)
	p.RecentEvents = append(slices.Clone(rec.Events), p.RecentEvents...)
	sort.SliceStable(p.RecentEvents, func(i, j int) bool { return p.RecentEvents[i].Timestamp.After(p.RecentEvents[j].Timestamp) })
	p.RecentEvents = p.RecentEvents[:min(len(p.RecentEvents), profile.MaxRecentEvents)]
	p.UpdatedAt = rec.ReceivedAt
	ch.Profiles = []store.ProfileWrite{{Profile: p, ExpectVersion: expect}}
	ch.Records = []store.RecordWrite{{Record: rec, ProfileID: p.ID}}

	e, err := events.New(events.TypeProfileUpdated, rec.ReceivedAt, events.ProfileUpdated{
		Version: events.SchemaVersion, ProfileID: p.ID, ProfileVersion: p.Version, Created: expect == 0,
	}, p.ID, fmt.Sprint(p.Version))
	if err != nil {
		return res, store.Change{}, err
	}
	ch.Outbox = []events.Envelope{e}
	res.ProfileID = p.ID
	return res, ch, nil
}

// absorb merges o into p.
func absorb(p, o profile.Profile) profile.Profile {
	for _, id := range o.Identifiers {
		if !p.HasIdentifier(id) {
			p.Identifiers = append(p.Identifiers, id)
		}
	}
	p.RecordCount += o.RecordCount
	p.EventCount += o.EventCount
	if p.Sources == nil {
		p.Sources = map[string]int{}
	}
	for s, n := range o.Sources {
		p.Sources[s] += n
	}
	p.RecentEvents = append(p.RecentEvents, o.RecentEvents...)
	p.MergedFrom = append(append(p.MergedFrom, o.ID), o.MergedFrom...)
	return p
}
